"""Data loaders that resume exactly: the data order and the position inside an epoch survive a checkpoint.

For a resumed run to continue *exactly* as the uninterrupted one, the batches must come back in the same
order: :class:`ResumableDataLoader` shuffles with a permutation fixed by (seed, epoch) and saves how many
batches of the epoch it has served, so that a mid-epoch checkpoint resumes at the next batch of the same
permutation (Lightning restores a loader that has ``state_dict`` / ``load_state_dict``; a plain shuffled
DataLoader would start a new permutation from its first batch). The random number generators are restored
by the module (``gan_lightning.checkpoints``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sized
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler


def one_thread_per_worker(_: int) -> None:
    """Each loader worker computes with one thread: many workers with many threads each thrash a few cores."""
    torch.set_num_threads(1)


def global_seed() -> int:
    """The seed Lightning's ``seed_everything`` recorded (what its DistributedSampler uses), else 0."""
    return int(os.environ.get("PL_GLOBAL_SEED", 0))


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
    def _index_sampler(self):  # DataLoader's own hook: what its iterators draw indices from
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
        # Of our sampler, or of the DistributedSampler Lightning put in its place.
        for name in ("seed", "epoch"):
            if isinstance(getattr(self.sampler, name, None), int):
                state[name] = getattr(self.sampler, name)
        return state

    def load_state_dict(self, state: dict[str, int]) -> None:
        served = int(state.get("batches_served", 0))
        self._skip = served if served < len(self) else 0  # a finished pass: the next epoch starts afresh
        for name in ("seed", "epoch"):
            if name in state and hasattr(self.sampler, name):
                setattr(self.sampler, name, state[name])
