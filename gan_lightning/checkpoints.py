"""Checkpoint I/O beyond what Lightning saves by itself: random states, fit checks and safe loading.

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
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn

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
    while loading a file from elsewhere).

    Raises:
        ValueError: one line naming the file: missing, unreadable (truncated, not a PyTorch file), holding
            Python objects that weights-only loading refuses, or not a Lightning checkpoint (no state_dict).
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"ckpt_path: no checkpoint file at {str(path)!r}")
    try:
        checkpoint = torch.load(file, map_location="cpu", weights_only=weights_only)
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
