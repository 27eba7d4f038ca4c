"""What exact resume and safe checkpoint loading need, beyond what Lightning saves by itself.

Lightning's checkpoint already holds the weights, both optimisers, the schedulers and the loops' progress
(global step, epoch, batch index). For a resumed run to continue *exactly* as the uninterrupted one, two more
things must come back:

* the random number generators (latents, interpolation weights and perturbations are drawn from the global
  torch RNG): :func:`rng_states` / :func:`set_rng_states`, saved per rank by ``GANModule.on_save_checkpoint``;
* the data order and position inside the epoch: :class:`ResumableDataLoader` shuffles with a permutation fixed
  by (seed, epoch) and saves how many batches of the epoch it has served, so that a mid-epoch checkpoint
  resumes at the next batch of the same permutation (Lightning restores a loader that has ``state_dict`` /
  ``load_state_dict``; a plain shuffled DataLoader would start a new permutation from its first batch).

:func:`load_checkpoint` reads a checkpoint file with ``weights_only=True`` and turns a missing, truncated or
foreign file into a one-line ``ValueError`` that names the file.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import warnings
from collections.abc import Iterable, Iterator, Sized
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

# Lightning warns at every step-interval checkpoint of a manually optimised module that it holds the weights
# *after* the optimiser step: for a GANModule that is exactly the state to resume from.
warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization and every_n_train")


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


def global_seed() -> int:
    """The seed Lightning's ``seed_everything`` recorded (what its DistributedSampler uses), else 0."""
    return int(os.environ.get("PL_GLOBAL_SEED", 0))


# ---------------------------------------------------------------------------------------------- data order
class EpochShuffleSampler(RandomSampler):
    """A random permutation fixed by ``seed + epoch``; Lightning calls ``set_epoch`` before every epoch.

    A subclass of RandomSampler on purpose: under DDP Lightning replaces it with its DistributedSampler, which
    is seeded the same way.

    Args:
        data_source: the dataset.
        seed: seed of the permutations; ``None`` takes Lightning's global seed (``seed_everything``).
    """

    def __init__(self, data_source: Sized, seed: int | None = None) -> None:
        super().__init__(data_source)
        self.seed = global_seed() if seed is None else seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(
            len(self.data_source), generator=torch.Generator().manual_seed(self.seed + self.epoch)
        )
        yield from order.tolist()


class _SkipFirst:
    """The index batches of a batch sampler without the first ``skip`` of them; its length stays the full
    one. The loader sets ``skip`` back to 0 once its iterator exists (a loader with persistent workers
    iterates this same object again every epoch)."""

    def __init__(self, batches: Iterable[list[int]]) -> None:
        self.batches, self.skip = batches, 0

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[list[int]]:
        return itertools.islice(iter(self.batches), self.skip, None)


class ResumableDataLoader(DataLoader):
    """A DataLoader that resumes mid-epoch where a checkpoint left it (Lightning's stateful-loader protocol).

    ``shuffle=True`` draws its order from :class:`EpochShuffleSampler`. A plain DataLoader draws its
    workers' base seed from the global torch RNG at every ``iter()``, so the extra ``iter()`` of a resumed
    run would shift the latents drawn afterwards; this loader draws it from its own generator, seeded by
    (seed, epoch). ``state_dict`` records the sampler's seed and epoch and how many batches of the current
    pass were served; after ``load_state_dict`` the next pass skips those batches by index (nothing is loaded
    for them). Lightning fetches no batch ahead from a loader with a length, so the count at a checkpoint is
    exactly the number of batches trained on in this epoch.

    Args:
        dataset: the dataset.
        shuffle: reshuffle every epoch.
        seed: seed of the shuffling (``None``: Lightning's global seed).
        **kwargs: any other DataLoader argument.
    """

    def __init__(
        self,
        dataset: Dataset,
        *args: Any,
        shuffle: bool | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if shuffle and kwargs.get("sampler") is None and kwargs.get("batch_sampler") is None:
            kwargs["sampler"], shuffle = EpochShuffleSampler(dataset, seed), None  # type: ignore[arg-type]
        own_generator = kwargs.get("generator") is None
        if own_generator:
            kwargs["generator"] = torch.Generator()
        super().__init__(dataset, *args, shuffle=shuffle, **kwargs)
        self.seed = seed
        self._own_generator = own_generator
        self._skip = 0
        self._served = 0

    @property
    def _index_sampler(self):  # noqa: ANN202 - DataLoader's own hook: what its iterators draw indices from
        indices = super()._index_sampler
        wrapper = self.__dict__.get("_skipping")
        if wrapper is None or wrapper.batches is not indices:
            wrapper = self.__dict__["_skipping"] = _SkipFirst(indices)
        wrapper.skip = self.__dict__.get("_skip", 0)
        return wrapper

    def __iter__(self) -> Iterator[Any]:
        if self._own_generator:
            seed = getattr(self.sampler, "seed", None)
            seed = (global_seed() if self.seed is None else self.seed) if not isinstance(seed, int) else seed
            self.generator.manual_seed(seed + getattr(self.sampler, "epoch", 0))
        self._served = self._skip
        iterator = super().__iter__()  # has drawn its index iterator, without the skipped batches
        self._skip = self._index_sampler.skip = 0
        return self._counted(iterator)

    def _counted(self, iterator: Iterator[Any]) -> Iterator[Any]:
        for batch in iterator:
            self._served += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        state = {"batches_served": self._served}
        for name in (
            "seed",
            "epoch",
        ):  # of our sampler, or of the DistributedSampler Lightning put in its place
            if isinstance(getattr(self.sampler, name, None), int):
                state[name] = getattr(self.sampler, name)
        return state

    def load_state_dict(self, state: dict[str, int]) -> None:
        served = int(state.get("batches_served", 0))
        self._skip = served if served < len(self) else 0  # a finished pass: the next epoch starts afresh
        for name in ("seed", "epoch"):
            if name in state and hasattr(self.sampler, name):
                setattr(self.sampler, name, state[name])


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
    except Exception as error:  # noqa: BLE001 - torch raises many types for a damaged file
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
