"""Progress where no terminal shows a bar: one compact line per epoch (a SLURM log, a file, a pipe).

A progress bar redrawn with carriage returns becomes thousands of lines in a log file, so when standard
output is not a terminal :class:`EpochLines` turns the Trainer's bar off and prints instead, at the end of
every training epoch::

    epoch 3/60  step 1407  d_loss 1.284  g_loss 0.8312  eval/fid 41.2  12.4 s

In a terminal the bar stays. A Trainer without a bar (``trainer.enable_progress_bar: false``) prints neither.
The commands (``evaluate``, ``sample``, ``train-evaluator``) show a :func:`progress_bar` on standard error
in a terminal only.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (not a file, a pipe or a captured stream)."""
    return _is_terminal(sys.stdout)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def progress_bar(total: int | None, desc: str, unit: str = "it", quiet: bool = False) -> Any:
    """A tqdm bar on standard error; disabled (it then prints nothing) with ``quiet`` or when standard error
    is not a terminal. Use it as a context manager and call ``update(n)``."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=quiet or not _is_terminal(sys.stderr),
        leave=False,
        dynamic_ncols=True,
    )


class EpochLines(Callback):
    """One line per training epoch instead of the progress bar, when output is not a terminal.

    Args:
        mode: ``"auto"``: lines instead of the bar when standard output is not a terminal; ``"always"``: lines
            instead of the bar; ``"never"``: the bar as Lightning shows it. Nothing is printed when the Trainer
            has no bar (``enable_progress_bar: false``).
    """

    def __init__(self, mode: Literal["auto", "always", "never"] = "auto") -> None:
        if mode not in ("auto", "always", "never"):
            raise ValueError(f"progress.mode must be auto, always or never; got {mode!r}")
        self.mode = mode
        self.active = False
        self._epoch_start = 0.0

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        bar = trainer.progress_bar_callback
        wanted = self.mode == "always" or (self.mode == "auto" and not stdout_is_terminal())
        self.active = bar is not None and wanted
        if self.active:
            bar.disable()  # before the bars are created (on_*_start)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.active and trainer.is_global_zero:
            print(self.line(trainer, pl_module, time.perf_counter() - self._epoch_start), flush=True)

    @staticmethod
    def line(trainer: L.Trainer, pl_module: L.LightningModule, seconds: float) -> str:
        """``epoch E[/N]  step S[/M]  d_loss ..  g_loss ..  <other logged metrics>  T s``."""
        epochs = f"/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
        steps = f"/{trainer.max_steps}" if trainer.max_steps and trainer.max_steps > 0 else ""
        parts = [f"epoch {trainer.current_epoch + 1}{epochs}", f"step {trainer.global_step}{steps}"]
        terms = getattr(pl_module, "latest_terms", {}) or {}  # the latest step's, as the bar shows them
        for key in ("train/d_loss", "train/g_loss"):
            if key in terms:
                parts.append(f"{key.removeprefix('train/')} {_number(terms[key])}")
        for key, value in trainer.callback_metrics.items():  # evaluation and validation metrics
            if not key.startswith("train/"):
                parts.append(f"{key} {_number(value)}")
        parts.append(f"{seconds:.1f} s")
        return "  ".join(parts)


def _number(value: object) -> str:
    number = float(value.detach().float().mean()) if isinstance(value, torch.Tensor) else float(value)
    return "nan" if math.isnan(number) else f"{number:.4g}"
