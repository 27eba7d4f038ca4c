"""What the image data modules share: loaders that resume and spare a small CPU, held-out splits, image files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import lightning as L
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from gan_lightning.data.loading import ResumableDataLoader, one_thread_per_worker

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) indices: a seeded permutation, the last ``round(n * val_fraction)`` held out."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = round(n * val_fraction)
    return sorted(order[: n - n_val]), sorted(order[n - n_val :])


def list_images(folder: Path) -> list[Path]:
    """Image files under a folder (recursively), sorted so that runs are reproducible."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


class ImageFiles(Dataset):
    """Images read from files on demand: ``(transform(PIL image), label)``.

    Args:
        paths: image files.
        labels: one label per file.
        transform: PIL image -> float tensor (C, H, W) in [-1, 1].
    """

    def __init__(
        self, paths: Sequence[Path], labels: Tensor, transform: Callable[[Image.Image], Tensor]
    ) -> None:
        self.paths, self.labels, self.transform = list(paths), labels, transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        with Image.open(self.paths[index]) as image:
            return self.transform(image), self.labels[index]


class ImageDataModule(L.LightningDataModule):
    """Base of the image data modules: loaders over ``train_set`` / ``val_set``, which ``setup`` fills.

    Subclasses set ``data_shape`` (C, H, W), ``num_classes``, ``batch_size`` and ``num_workers`` in
    ``__init__``.
    Batches are ``(images float32 in [-1, 1] of shape (B, C, H, W), labels long (B,))``.
    """

    data_shape: tuple[int, int, int]
    num_classes: int
    batch_size: int
    num_workers: int
    train_set: Dataset | None = None
    val_set: Dataset | None = None

    def _check_loader_args(self, batch_size: int, num_workers: int) -> None:
        if batch_size < 1:
            raise ValueError(f"data.batch_size must be a positive integer, got {batch_size}")
        if num_workers < 0:
            raise ValueError(
                f"data.num_workers must be 0 (load in the main process) or more, got {num_workers}"
            )

    def _check_train_size(self) -> None:
        n = len(self.train_set)
        if n < self.batch_size:  # drop_last would leave an empty epoch
            raise ValueError(
                f"data.batch_size ({self.batch_size}) is larger than the training set ({n} images)"
            )

    def _loader(self, dataset: Dataset, train: bool) -> DataLoader:
        workers = self.num_workers
        # Resumable: a mid-epoch checkpoint continues with the same permutation at the next batch.
        return ResumableDataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=train,
            drop_last=train,
            num_workers=workers,
            worker_init_fn=one_thread_per_worker if workers else None,
            persistent_workers=workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader | list:
        """The held-out real images (all of them, in order), or no loader when none were held out."""
        return (
            self._loader(self.val_set, train=False) if self.val_set is not None and len(self.val_set) else []
        )

    def sample(self, n: int, seed: int = 1) -> Tensor:
        """n real images (for metrics and plots), seeded: from the held-out set when there is one."""
        if self.train_set is None:
            self.setup("fit")
        source = self.val_set if self.val_set is not None and len(self.val_set) else self.train_set
        order = torch.randperm(len(source), generator=torch.Generator().manual_seed(seed))[:n].tolist()
        if isinstance(source, Subset):
            source, order = source.dataset, [source.indices[i] for i in order]
        if hasattr(source, "tensors"):  # in memory: one indexing operation
            return source.tensors[0][order]
        return torch.stack([source[i][0] for i in order])
