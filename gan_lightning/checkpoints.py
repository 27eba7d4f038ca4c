"""Checkpoint I/O beyond what Lightning saves by itself: random states, fit checks, safe loading and atomic writes.

Lightning's checkpoint already holds the weights, both optimisers, the schedulers and the loops' progress
(global step, epoch, batch index). For a resumed run to continue *exactly* as the uninterrupted one, two more
things must come back:

* the random number generators (latents, interpolation weights and perturbations are drawn from the global
  torch RNG): :func:`gather_rng_states` collects every rank's :func:`rng_states` into the checkpoint and
  :func:`restore_rng_streams` gives each rank its own back;
* the data order and position inside the epoch: ``gan_lightning.data.loading.ResumableDataLoader``.

:func:`check_checkpoint_fits` turns a checkpoint of another variant or other networks into one line, and
:func:`load_checkpoint` reads a checkpoint file with ``weights_only=True`` and turns a missing, truncated or
foreign file into a one-line ``ValueError`` that names the file.

:func:`atomic_save` writes a file so that a failure (full disk, I/O error, a killed process) never leaves a
truncated or empty file under the target name: the bytes go to a temporary file *in the target folder*, are
flushed and fsynced, and then ``os.replace`` puts the file in place (and the folder is fsynced).
:class:`AtomicCheckpointIO` is Lightning's ``TorchCheckpointIO`` writing that way; the CLI sets it on every
Trainer it builds. Remote URLs (``s3://``, ``memory://``) are read and written through fsspec instead
(:mod:`gan_lightning.paths`): an object store replaces a whole object at once, so no temporary file is needed.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities import rank_zero_warn

from gan_lightning.paths import as_path, is_file, is_url, makedirs, open_file, parent

if TYPE_CHECKING:
    import lightning as L


# ---------------------------------------------------------------------------------------------- RNG states
def rng_states() -> dict[str, Any]:
    """The states of the torch (CPU and CUDA), numpy and Python generators, in types that
    ``torch.load(weights_only=True)`` accepts (numpy's key array is stored as a tensor)."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": (
            kind,
            torch.from_numpy(keys.astype(np.int64)),
            int(position),
            int(has_gauss),
            float(cached_gaussian),
        ),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what :func:`rng_states` returned."""
    torch.set_rng_state(states["torch"])
    kind, keys, position, has_gauss, cached_gaussian = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached_gaussian))
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def gather_rng_states(world_size: int) -> list[dict[str, Any]]:
    """Every rank's :func:`rng_states`, in rank order (each rank draws its own latents).

    Under DDP a collective: every rank must call it (``on_save_checkpoint`` runs on all ranks, rank 0 writes).
    """
    states = rng_states()
    if world_size > 1 and torch.distributed.is_initialized():
        gathered: list[Any] = [None] * world_size
        torch.distributed.all_gather_object(gathered, states)
        return gathered
    return [states]


def restore_rng_streams(states: list[dict[str, Any]] | None, rank: int, world_size: int) -> None:
    """Give this rank its saved random streams back, or, on a fresh run, a stream of its own.

    Lightning gives every rank the same seed, so without the offset all ranks would draw the same latents
    (a DDP global batch of N x B samples would hold only B distinct fakes).
    """
    if states is not None and len(states) == world_size:
        set_rng_states(states[rank])
        return
    if states is not None:
        rank_zero_warn(
            f"the checkpoint holds the random states of {len(states)} ranks, this run has "
            f"{world_size}: training continues with fresh random streams (not bit-exact)"
        )
    if world_size > 1:
        torch.manual_seed((torch.initial_seed() + 1_000_003 * rank) % 2**63)


# ---------------------------------------------------------------------------------------------- fit checks
def check_checkpoint_fits(model: L.LightningModule, checkpoint: dict[str, Any], ckpt_path: Any) -> None:
    """One-line errors for a checkpoint of another variant or of other networks (before Lightning's strict
    load would print a page of mismatched keys).

    Args:
        model: the module about to load the checkpoint; its class name must be the saved ``gan_variant``.
        checkpoint: the loaded checkpoint.
        ckpt_path: where it came from, for the message (``None`` when unknown).
    """
    name = type(model).__name__
    source = f"checkpoint {str(ckpt_path or '')!r}".replace(" ''", "")
    variant = checkpoint.get("gan_variant")
    if variant is not None and variant != name:
        raise ValueError(
            f"{source} was written by a {variant} model, but the config builds "
            f"{name}: set model.class_path to the checkpoint's variant"
        )
    if not model.strict_loading:
        return
    saved, own = checkpoint.get("state_dict", {}), model.state_dict()
    for key, value in own.items():
        if key not in saved:
            raise ValueError(
                f"{source} does not fit this {name}: it lacks {key} "
                "(other networks or techniques than the config's?)"
            )
        if tuple(saved[key].shape) != tuple(value.shape):
            raise ValueError(
                f"{source} does not fit this {name}: {key} has shape "
                f"{tuple(saved[key].shape)} there but {tuple(value.shape)} in the model "
                "(check the networks' sizes in the config)"
            )
    if unexpected := [key for key in saved if key not in own]:
        raise ValueError(
            f"{source} does not fit this {name}: it has {unexpected[0]}, "
            "which the model lacks (other networks or techniques than the config's?)"
        )


# ---------------------------------------------------------------------------------------------- loading
def load_checkpoint(path: str | Path, weights_only: bool = True) -> dict[str, Any]:
    """A Lightning checkpoint, read with ``weights_only=True`` unless asked otherwise (then no code can run
    while loading a file from elsewhere). ``path`` may be an fsspec URL (``s3://...``, ``memory://...``,
    ``file://...``).

    Raises:
        ValueError: one line naming the file: missing, unreadable (truncated, not a PyTorch file), holding
            Python objects that weights-only loading refuses, or not a Lightning checkpoint (no state_dict).
    """
    file = as_path(path)  # a URL stays a string: read through fsspec
    if not is_file(file):
        raise ValueError(f"ckpt_path: no checkpoint file at {str(path)!r}")
    try:
        # A URL through an fsspec file object (torch.load reads one as well as a name).
        with open_file(file) if is_url(file) else contextlib.nullcontext(file) as source:
            checkpoint = torch.load(source, map_location="cpu", weights_only=weights_only)
    except Exception as error:  # torch raises many types for a damaged file
        text = str(error)
        if found := re.search(r"Unsupported global: GLOBAL ([\w.]+)", text):
            raise ValueError(
                f"ckpt_path {str(path)!r} holds a Python object ({found[1]}) that safe loading "
                "refuses; only if you trust the file, pass --weights_only false"
            ) from None
        unpickler = re.search(r"WeightsUnpickler error:\s*(.+)", text)
        reason = (
            unpickler[1].strip() if unpickler else (text.strip().splitlines() or [type(error).__name__])[0]
        )
        raise ValueError(
            f"ckpt_path {str(path)!r} is not a readable checkpoint (truncated, or not a file "
            f"torch.save wrote): {reason[:160]}"
        ) from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise ValueError(f"ckpt_path {str(path)!r} is not a Lightning checkpoint: it has no state_dict")
    return checkpoint


# ---------------------------------------------------------------------------------------------- atomic writes
class CheckpointWriteError(OSError):
    """A checkpoint could not be written; the file that was there before (if any) is unchanged.

    ``str()`` is one line naming the file and the operating system's reason (``No space left on device``);
    ``errno`` and ``filename`` are those of the original error.
    """

    def __init__(self, path: str | Path, error: OSError) -> None:
        reason = error.strerror or str(error) or type(error).__name__
        super().__init__(error.errno, reason, str(path))
        kept = "; the previous file there is unchanged" if _exists(path) else ""
        self.message = f"could not write checkpoint {str(path)!r}: {reason}{kept}"

    def __str__(self) -> str:
        return self.message


def _exists(path: str | Path) -> bool:
    try:
        return is_file(path)
    except Exception:  # an unreachable remote store: say nothing about the previous file
        return False


_CHUNK = 64 * 2**20  # bytes per os.write call


def _write_all(fd: int, data: memoryview) -> None:
    """Write every byte of ``data`` to ``fd`` (os.write may write fewer bytes than asked)."""
    offset = 0
    while offset < len(data):
        offset += os.write(fd, data[offset : offset + _CHUNK])


def fsync_folder(folder: str | Path) -> None:
    """Make a rename inside ``folder`` durable (where the platform lets a folder be opened and fsynced)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # e.g. Windows: folders cannot be opened; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder
    finally:
        os.close(fd)


def atomic_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj, path)`` that leaves either the complete new file or the previous one, never a part.

    The object is serialised in memory first (a serialisation error touches no file), written to a temporary
    file next to the target (``.<name>.<pid>-<random>.tmp``, same folder, hence same file system), flushed and
    fsynced, then renamed over the target with ``os.replace`` (atomic on POSIX and Windows); the folder is
    fsynced afterwards so that the rename survives a power cut. Unlike a temporary file in ``$TMPDIR``, the
    rename never turns into a copy across file systems.

    A URL (``s3://...``, ``memory://...``) is written through fsspec in one ``put`` of the whole file, with no
    temporary file: object stores replace an object atomically, so a reader sees the old or the new file. (A
    remote file system that writes in place, e.g. SFTP, can be left with a partial file.)

    Raises:
        CheckpointWriteError: any ``OSError`` on the way (full disk, I/O error, permissions): one line with the
            path and the reason. The temporary file is removed; the previous file is untouched.
    """
    target = as_path(path)
    if is_url(target):
        _save_remote(obj, target)
        return
    temporary: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        temporary = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temporary, flags, 0o666)  # the umask applies, as for any new file
        try:
            with buffer.getbuffer() as data:
                _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise CheckpointWriteError(target, error) from error
    finally:
        if temporary is not None:  # any failure, KeyboardInterrupt included
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    fsync_folder(target.parent)


def _save_remote(obj: Any, url: str) -> None:
    """``torch.save`` to a URL: serialised in memory first (an error touches no file), then written at once."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    try:
        makedirs(parent(url))
        with open_file(url, "wb") as file:
            file.write(buffer.getvalue())
    except OSError as error:
        raise CheckpointWriteError(url, error) from error


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's ``TorchCheckpointIO`` whose local writes go through :func:`atomic_save`.

    Every checkpoint the Trainer writes (ModelCheckpoint's files and ``last.ckpt``, ``trainer.save_checkpoint``,
    SLURM's ``hpc_ckpt``) then either appears complete or not at all, and the file it replaces survives any
    failure. Remote paths (``s3://...``, ``memory://...``) keep Lightning's own writer, which serialises in
    memory and writes the whole object through fsspec at once (atomic on object stores); a ``file://`` URL is
    a local path and written atomically. Python API: ``L.Trainer(plugins=[AtomicCheckpointIO()])``; the CLI
    sets it itself.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None or is_url(as_path(path)):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        atomic_save(checkpoint, as_path(path))


def use_atomic_checkpoint_io(trainer: L.Trainer) -> None:
    """Give ``trainer`` an :class:`AtomicCheckpointIO` where it would use Lightning's plain ``TorchCheckpointIO``
    (a CheckpointIO of the user's, or a strategy's own, e.g. DeepSpeed's, is left alone)."""
    strategy = trainer.strategy
    if type(strategy.checkpoint_io) is TorchCheckpointIO:
        strategy.checkpoint_io = AtomicCheckpointIO()
