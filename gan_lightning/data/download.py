"""Downloads that fail fast and leave nothing half-made behind (torchvision's own downloads set no timeout)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Seconds a download may wait on one socket operation, so that an offline machine fails fast.
DOWNLOAD_TIMEOUT_S = 20.0


def failure_reason(error: BaseException) -> str:
    """The last non-empty line of an error (download errors span several lines)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


@contextmanager
def socket_timeout(seconds: float = DOWNLOAD_TIMEOUT_S) -> Iterator[None]:
    """Bound every socket operation of the downloads inside the block (torchvision sets no timeout)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


@contextmanager
def remove_created_folders_on_error(*folders: Path) -> Iterator[None]:
    """If the block fails, the ``folders`` (outermost first) it created are removed again when empty."""
    created = [folder for folder in folders if not folder.exists()]
    try:
        yield
    except BaseException:
        for folder in reversed(created):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
