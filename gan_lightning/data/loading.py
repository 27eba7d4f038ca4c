"""Data loaders that resume exactly: the data order and the position inside an epoch survive a checkpoint.

For a resumed run to continue *exactly* as the uninterrupted one, the batches must come back in the same
order: :class:`ResumableDataLoader` shuffles with a permutation fixed by (seed, epoch), and torchdata's
``StatefulDataLoader`` (https://pytorch.org/data/0.11/torchdata.stateful_dataloader.html) saves the position
inside the epoch, so that a mid-epoch checkpoint resumes at the next batch of the same permutation (Lightning
restores a loader that has ``state_dict`` / ``load_state_dict``; a plain shuffled DataLoader would start a new
permutation from its first batch). The random number generators are restored by the module
(``gan_lightning.checkpoints``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sized
from typing import Any

import torch
from torch.utils.data import Dataset, RandomSampler, TensorDataset
from torch.utils.data._utils.collate import default_collate
from torchdata.stateful_dataloader import StatefulDataLoader


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


class Batch(list):
    """The tensors of a whole batch, already collated (what :meth:`InMemoryTensors.__getitems__` returns)."""


class InMemoryTensors(TensorDataset):
    """A TensorDataset that a loader reads a batch at a time: one indexing of each tensor per batch, instead of
    one per sample and a stack of them (a batch of 256 2D points: 1.4 ms instead of 8.3 on a loaded 2-core CPU,
    a sixth of a toy training step). The batches hold the same values in the same order. A loader over it
    needs ``collate_fn=collate`` (below; :class:`ResumableDataLoader` sets it): ``default_collate`` cannot
    stack a batch that is already one."""

    def __getitems__(self, indices: list[int]) -> Batch:  # the batched read of torch's map-style fetcher
        index = torch.as_tensor(indices, dtype=torch.long)
        return Batch(t[index] for t in self.tensors)


def collate(samples: Batch | list[Any]) -> Any:
    """A :class:`Batch` as the list of its tensors (what ``default_collate`` makes of the same samples), any
    other list of samples by ``default_collate``."""
    return list(samples) if isinstance(samples, Batch) else default_collate(samples)


class ResumableDataLoader(StatefulDataLoader):
    """A StatefulDataLoader whose order is fixed by (seed, epoch) and whose workers' seed is its own.

    ``shuffle=True`` draws its order from :class:`EpochShuffleSampler`. A (Stateful)DataLoader without a
    generator draws its workers' base seed from the global torch RNG at every ``iter()``, so the extra
    ``iter()`` of a resumed run would shift the latents drawn afterwards; this loader draws it from its own
    generator, seeded by (seed, epoch). ``state_dict`` adds the sampler's seed and epoch to
    StatefulDataLoader's state (the position in the pass: on resume the sampler skips the batches served, by
    index, nothing is loaded for them). Lightning fetches no batch ahead from a loader with a length, so the
    position at a checkpoint is exactly the number of batches trained on in this epoch. A finished pass
    resumes to a fresh pass of the next epoch (the sampler's epoch + 1 at once: workers prefetch at
    ``iter()``, before Lightning calls ``set_epoch``).

    Args:
        dataset: the dataset.
        shuffle: reshuffle every epoch.
        seed: seed of the shuffling (``None``: Lightning's global seed).
        **kwargs: any other StatefulDataLoader argument.
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
        kwargs.setdefault("collate_fn", collate)
        own_generator = kwargs.get("generator") is None
        if own_generator:
            kwargs["generator"] = torch.Generator()
        with warnings.catch_warnings():  # torchdata 0.11 calls torch.set_vital, which torch deprecates
            warnings.filterwarnings("ignore", ".*set_vital.*")
            super().__init__(dataset, *args, shuffle=shuffle, **kwargs)
        self.seed = seed
        self._own_generator = own_generator

    @property
    def _order(self) -> Any:
        """Our sampler, or the DistributedSampler Lightning put in its place (under DDP it rebuilds
        torchdata's batch sampler around it, and ``self.sampler`` becomes a SequentialSampler)."""
        return getattr(self.batch_sampler, "sampler", self.sampler)

    def _worker_seed(self) -> int:
        seed = getattr(self._order, "seed", None)
        seed = (global_seed() if self.seed is None else self.seed) if not isinstance(seed, int) else seed
        return seed + getattr(self._order, "epoch", 0)

    def __iter__(self) -> Iterator[Any]:
        if self._own_generator:
            self.generator.manual_seed(self._worker_seed())
        return super().__iter__()

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict() if self._iterator is not None else {}  # no pass yet: nothing to skip
        for name in ("seed", "epoch"):
            if isinstance(getattr(self._order, name, None), int):
                state[name] = getattr(self._order, name)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in ("seed", "epoch"):
            if name in state and hasattr(self._order, name):
                setattr(self._order, name, state[name])
        state = {k: v for k, v in state.items() if k not in ("seed", "epoch")}
        if "batches_served" in state:  # saved by this loader before torchdata: the number of batches only
            state = self._state_after(state["batches_served"])
        if "_snapshot" in state:  # with workers
            served = state["_snapshot"]["_snapshot_step"] + state["_steps_since_snapshot"]
        else:
            served = state.get("_num_yielded", 0)
        if served >= len(self) or state.get("_iterator_finished"):  # a finished pass: the next epoch, afresh
            state = {}
            if isinstance(getattr(self._order, "epoch", None), int):
                self._order.epoch += 1
        super().load_state_dict(state if served else {})

    def _state_after(self, batches: int) -> dict[str, Any]:
        """StatefulDataLoader's state after ``batches`` batches of a pass (skipped by index on resume)."""
        size = getattr(self.batch_sampler, "batch_size", 1)
        main = {
            "_sampler_iter_state": {"samples_yielded": batches * size},
            "_sampler_iter_yielded": batches,
            "_index_sampler_state": None,
            "_IterableDataset_len_called": None,
            "_shared_seed": None,
        }
        if self.num_workers == 0:
            return {
                **main,
                "_num_yielded": batches,
                "fetcher_state": None,
                "dataset_state": None,
                "_iterator_finished": False,
            }
        seeds = torch.Generator().manual_seed(self._worker_seed()) if self._own_generator else self.generator
        main["_base_seed"] = torch.empty((), dtype=torch.int64).random_(generator=seeds).item()
        main["_num_workers"] = self.num_workers
        snapshot = {
            "_snapshot_step": batches,
            "_last_yielded_worker_id": (batches - 1) % self.num_workers,
            "_main_snapshot": main,
            "_worker_snapshots": {},
        }
        return {"_snapshot": snapshot, "_steps_since_snapshot": 0, "_iterator_finished": False}
