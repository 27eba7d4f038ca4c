"""Stop signals (SIGTERM, SIGUSR1): recorded when they arrive, acted on at the next safe point.

A scheduler that preempts or stops a job (SLURM, Kubernetes, a cloud's spot reclaim) sends SIGTERM, or a
chosen signal such as SIGUSR1, some seconds before it kills the process. A handler must not save a checkpoint
itself (it runs between any two Python bytecodes, possibly in the middle of an optimiser step): it only
records the signal. :class:`gan_lightning.callbacks.SignalCheckpoint` looks at the record at the end of every
training batch, writes a resumable checkpoint there and stops the run with :class:`StopSignal`, whose exit code
is the shell's convention for "killed by this signal", 128 + its number (143 for SIGTERM, 138 for SIGUSR1).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any

# Signals a handler cannot be installed for.
_UNCATCHABLE = {"SIGKILL", "SIGSTOP"}


def signal_number(name: str) -> int:
    """The number of a signal given by name (``"SIGTERM"``); ``ValueError`` for an unknown or uncatchable one."""
    number = getattr(signal.Signals, str(name).upper(), None)
    if number is None or str(name).upper() in _UNCATCHABLE:
        raise ValueError(f"signal_checkpoint.signals: {name!r} is not a signal a handler can catch")
    return int(number)


def exit_code(signum: int) -> int:
    """128 + the signal number: what a shell reports for a process the signal ended."""
    return 128 + int(signum)


class StopSignal(SystemExit):
    """Training stopped for a signal after writing a checkpoint; ``code`` is :func:`exit_code` of the signal.

    A ``SystemExit``: uncaught, the process ends with that code (a scheduler sees the signal's usual status).
    ``str()`` is one line: the signal, the step, and the checkpoint to resume from.
    """

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(exit_code(signum))
        self.signum = signum
        self.message = message

    def __str__(self) -> str:
        return self.message


class SignalRecorder:
    """Handlers that only record which signal came first; :meth:`restore` puts the previous handlers back.

    Handlers can be installed only from the main thread (Python's rule); elsewhere :meth:`install` returns
    False and installs nothing.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self, signums: Iterable[int]) -> bool:
        self.restore()
        self.received = None
        if threading.current_thread() is not threading.main_thread():
            return False
        for signum in signums:
            self._previous[signum] = signal.signal(signum, self._record)
        return True

    def _record(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}

    @property
    def installed(self) -> list[int]:
        return list(self._previous)
