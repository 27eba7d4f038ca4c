"""Preflight: before the first batch, the run's folders are writable and the disk has room for checkpoints.

Without it an unwritable checkpoint folder is found at the first checkpoint, after an epoch of training, and
a full disk at whichever write fills it. The CLI adds this callback to every ``fit`` (``--preflight.*``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from gan_lightning.callbacks.signals import SignalCheckpoint
from gan_lightning.paths import PathOrURL, as_path, parent
from gan_lightning.runs import run_dir

MIB, GIB = 2**20, 2**30
REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")  # a URL scheme; a drive letter (C:/) is one letter


class FolderNotWritableError(OSError):
    """A folder the run writes to cannot be written; the message, one line, names it and says why."""


def checkpoint_size_estimate(module: torch.nn.Module) -> int:
    """Bytes of one checkpoint, roughly: the tensors of the state dict (what a checkpoint saves of the model;
    the EMA generator is a submodule, so it is in there) three times, for the weights and Adam's two moments."""
    return 3 * sum(t.numel() * t.element_size() for t in module.state_dict().values())


def probe_writable(folder: Path) -> None:
    """Create ``folder`` if needed, write and remove a small file in it, then remove the folders this made.

    Raises the OSError of whichever step failed.
    """
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd, probe = tempfile.mkstemp(prefix=".preflight.", suffix=".tmp", dir=folder)
        try:
            os.write(fd, b"preflight")
        finally:
            os.close(fd)
            os.remove(probe)
    finally:
        for path in created:  # deepest first; only what is still empty (nothing else wrote there meanwhile)
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def local_only(folders: dict[PathOrURL, str]) -> dict[Path, str]:
    """The folders that are not remote (``s3://b/x``; also a Path that spells it ``s3:/b/x``)."""
    return {folder: role for folder, role in folders.items() if not REMOTE.match(str(folder))}


def existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest folder that exists (where a folder not yet made would be)."""
    return next(p for p in (path, *path.parents) if p.exists())


class Preflight(Callback):
    """Before the first batch, on rank 0: every folder the run writes to can be written, and there is room.

    Checked: the run folder (the logger's, else ``trainer.default_root_dir``) at setup, before anything is
    written there; the folder of every ModelCheckpoint and of the SignalCheckpoint callback at the start of
    fit. Each is created if missing, a small file is written and removed, and folders it had to create are
    removed again. A failure stops the run before the first batch
    with :class:`FolderNotWritableError` (one line naming the folder; the CLI exits with status 2); under DDP
    every rank stops. The free space (``shutil.disk_usage``) is reported in one line, with a warning when it is
    below ``min_free_checkpoints`` checkpoints of this model (a checkpoint is estimated at three times the bytes
    of the model's state dict: weights and Adam's two moments). Remote paths (``s3://...``) are skipped.

    Args:
        min_free_checkpoints: warn when the free space holds fewer checkpoints than this (4: ``last.ckpt``, a
            periodic one, and the temporary file of each while it is written); 0 never warns.
    """

    def __init__(self, min_free_checkpoints: float = 4.0) -> None:
        if min_free_checkpoints < 0:
            raise ValueError(f"preflight.min_free_checkpoints must be >= 0, got {min_free_checkpoints}")
        self.min_free_checkpoints = min_free_checkpoints

    def folders(self, trainer: L.Trainer) -> dict[Path, str]:
        """folder -> its role, for every local folder the run writes to."""
        folders: dict[PathOrURL, str] = {run_dir(trainer): "run"}
        for callback in trainer.checkpoint_callbacks:
            if getattr(callback, "dirpath", None):
                folders.setdefault(as_path(callback.dirpath), "checkpoint")
        for callback in trainer.callbacks:
            if isinstance(callback, SignalCheckpoint):
                folders.setdefault(parent(callback.checkpoint_path(trainer)), "signal checkpoint")
        return local_only(folders)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # The run folder now, before LightningCLI writes config.yaml there; the checkpoint folders are known
        # only once ModelCheckpoint's own setup has run, so they are checked in on_fit_start.
        if stage == "fit":
            self.stop_if_unwritable(trainer, local_only({run_dir(trainer): "run"}))

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        folders = self.folders(trainer)
        self.stop_if_unwritable(trainer, folders)
        if trainer.is_global_zero:
            self.report_free_space(folders, checkpoint_size_estimate(pl_module))

    def stop_if_unwritable(self, trainer: L.Trainer, folders: dict[Path, str]) -> None:
        """Raise :class:`FolderNotWritableError` on every rank when rank 0 cannot write one of ``folders``."""
        problem = first_unwritable(folders) if trainer.is_global_zero else None
        problem = trainer.strategy.broadcast(problem)  # every rank stops, not only rank 0
        if problem is not None:
            raise FolderNotWritableError(problem)

    def report_free_space(self, folders: dict[Path, str], checkpoint: int) -> None:
        """One line with the free space where the run writes; a warning when it is below the threshold."""
        if not folders:  # all remote
            return
        free = min(shutil.disk_usage(existing_ancestor(folder)).free for folder in folders)
        where = ", ".join(map(str, folders))
        rank_zero_info(
            f"Preflight: {where} writable; {free / GIB:.1f} GiB free "
            f"(a checkpoint of this model takes about {checkpoint / MIB:.1f} MiB)"
        )
        if free < self.min_free_checkpoints * checkpoint:
            rank_zero_warn(
                f"only {free / MIB:.1f} MiB free where the run writes ({where}): room for fewer than "
                f"{self.min_free_checkpoints:g} checkpoints of this model (about {checkpoint / MIB:.1f} MiB each)"
            )


def first_unwritable(folders: dict[Path, str]) -> str | None:
    """What is wrong with the first of ``folders`` (folder -> role) that cannot be written; None if all can."""
    for folder, role in folders.items():
        try:
            probe_writable(folder)
        except OSError as error:
            reason = error.strerror or str(error) or type(error).__name__
            return f"the {role} folder {str(folder)!r} is not writable: {reason} (found before training)"
    return None
