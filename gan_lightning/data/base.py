"""What the image data modules share: loaders that resume and spare a small CPU, held-out splits, image files,
and the checks made at setup (training set size, labels the model can take)."""

from __future__ import annotations

import struct
import warnings
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


# What PIL raises for a file it cannot decode (a text file named .jpg, a truncated or damaged image).
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, Image.DecompressionBombError)
# Files tried in a row before an unreadable image's replacement search gives up.
MAX_REPLACEMENT_TRIES = 100


def decoded_image(path: Path) -> Image.Image:
    """The image of a file with all its pixels read (PIL reads lazily); the file is closed if that fails."""
    image = Image.open(path)
    try:
        image.load()
    except BaseException:
        image.close()
        raise
    return image


def image_problem(path: Path, decode: bool = False) -> str | None:
    """Why PIL cannot read an image file (None if it can): its header, or with ``decode`` all its pixels."""
    try:
        (decoded_image if decode else Image.open)(path).close()
    except DECODE_ERRORS as error:
        return str(error) or type(error).__name__
    return None


class ImageFiles(Dataset):
    """Images read from files on demand: ``(transform(PIL image), label)``.

    A file that cannot be decoded when its turn comes (e.g. truncated after a valid header) is replaced by the
    next readable file of the list, with a warning naming it, so that training goes on; the replacement is the
    same in every run, so resuming stays exact. With ``strict`` it raises a one-line ValueError naming the file.

    Args:
        paths: image files.
        labels: one label per file.
        transform: PIL image -> float tensor (C, H, W) in [-1, 1].
        strict: raise on an unreadable file instead of replacing it.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        labels: Tensor,
        transform: Callable[[Image.Image], Tensor],
        strict: bool = False,
    ) -> None:
        self.paths, self.labels, self.transform, self.strict = list(paths), labels, transform, strict
        self.unreadable: dict[Path, str] = {}  # found by this process (each loader worker has its own)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if not 0 <= index < len(self):  # iteration by index ends here
            raise IndexError(f"index {index} of {len(self)} image files")
        for tries in range(min(len(self), MAX_REPLACEMENT_TRIES)):
            candidate = (index + tries) % len(self)
            path = self.paths[candidate]
            if path in self.unreadable:
                continue
            try:
                image = decoded_image(path)
            except DECODE_ERRORS as error:
                reason = str(error) or type(error).__name__
                if self.strict:
                    raise ValueError(f"image {path} cannot be decoded ({reason})") from error
                self.unreadable[path] = reason
                warnings.warn(
                    f"skipped unreadable image {path} ({reason}), replaced by the next readable one; "
                    f"{len(self.unreadable)} skipped so far in this process",
                    stacklevel=2,
                )
                continue
            with image:
                return self.transform(image), self.labels[candidate]
        raise ValueError(
            f"no readable image among {self.paths[index]} and the {MAX_REPLACEMENT_TRIES - 1} files after it"
        )


def check_labels_fit_model(datamodule: L.LightningDataModule, labels: Tensor, source: str) -> None:
    """Refuse, at setup, labels outside 0..num_classes-1 of a conditional model: its label embedding would fail
    with an IndexError in the middle of training. Nothing to check without a trainer or for other models.

    Args:
        datamodule: the data module being set up (its trainer holds the model).
        labels: every label of the data.
        source: what holds the labels, for the message (a file, a folder, an option).
    """
    trainer = getattr(datamodule, "trainer", None)
    model = getattr(trainer, "lightning_module", None) if trainer is not None else None
    networks = (getattr(model, "generator", None), getattr(model, "discriminator", None))
    sizes = [k for k in (getattr(net, "num_classes", 0) for net in networks) if isinstance(k, int) and k > 0]
    if not sizes or not len(labels):
        return
    k, low, high = min(sizes), int(labels.min()), int(labels.max())
    if low < 0 or high >= k:
        raise ValueError(
            f"{source} holds label {high if high >= k else low}, outside 0..{k - 1}: the conditional model has "
            f"num_classes {k} (init_args.num_classes of model.generator and model.discriminator)"
        )


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
    # Set by ``load``: every label of the data and what holds them (for the message of a label out of range).
    label_values: Tensor | None = None
    label_source: str = "the data"
    # Set by ``load`` when the labels are clusters (self-conditioning): their frequencies in the training set,
    # which the model's generator samples labels from (``gan_lightning.networks.conditional.LabelPrior``).
    label_prior: Tensor | None = None

    def load(self) -> None:
        """Fill ``train_set`` / ``val_set`` (and ``label_values``); ``setup`` calls it once."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            self.load()
            self._check_train_size()
        if self.label_values is not None:  # checked at every setup: the model may be another one
            check_labels_fit_model(self, self.label_values, self.label_source)

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
