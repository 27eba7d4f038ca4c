"""What the image data modules share: [-1, 1] scaling, loaders that spare a small CPU, held-out splits."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import lightning as L
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision.transforms.functional import center_crop, pil_to_tensor, resize

from gan_lightning.checkpoints import ResumableDataLoader

# Seconds a download may wait on one socket operation, so that an offline machine fails fast.
DOWNLOAD_TIMEOUT_S = 20.0
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def to_signed_unit(images: Tensor) -> Tensor:
    """uint8 pixels in [0, 255] -> float32 in [-1, 1]; 0 -> -1 and 255 -> 1 exactly."""
    return images.float() / 127.5 - 1.0


def one_thread_per_worker(_: int) -> None:
    """Each loader worker computes with one thread: many workers with many threads each thrash a few cores."""
    torch.set_num_threads(1)


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


def prepare_image(image: Image.Image, mode: str, image_size: int, crop_size: int | None = None) -> Tensor:
    """PIL image -> float32 (C, image_size, image_size) in [-1, 1].

    Converted to ``mode`` ("L" or "RGB"), center-cropped to ``crop_size`` first when given, then resized so
    the shorter side is ``image_size`` (antialiased bilinear) and center-cropped to a square.
    """
    image = image.convert(mode)
    if crop_size is not None:
        image = center_crop(image, [crop_size, crop_size])
    image = center_crop(resize(image, image_size, antialias=True), [image_size, image_size])
    return to_signed_unit(pil_to_tensor(image))


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
