"""A user's own images: any sizes and formats, resized and center-cropped to squares in [-1, 1].

Without labels every image under ``data_dir`` (recursively) is used. With ``labels: true`` each subfolder of
``data_dir`` is a class (sorted names -> 0, 1, ...), like torchvision's ImageFolder::

    data_dir/cats/001.jpg, data_dir/cats/more/002.png, data_dir/dogs/003.jpeg -> classes [cats, dogs]

Files that are not readable images (a text file named .jpg, a damaged image) are skipped with a warning that
counts them, or refused at setup with ``strict: true``. 16-bit and float one-channel images keep their depth
(see :mod:`gan_lightning.data.transforms`).
"""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path
from typing import Literal

import torch
from torch.utils.data import Subset

from gan_lightning.data.base import (
    IMAGE_EXTENSIONS,
    ImageDataModule,
    ImageFiles,
    image_problem,
    list_images,
    split_indices,
)
from gan_lightning.data.transforms import prepare_image
from gan_lightning.paths import local_data_dir


class ImageFolderDataModule(ImageDataModule):
    """Images from a folder; batches are ``(images (B, channels, image_size, image_size), labels (B,))``.

    Each image is converted to grey (channels 1) or RGB (channels 3), resized so its shorter side is
    ``image_size`` and center-cropped to a square. Files are decoded on demand (``num_workers`` speeds it up).

    Args:
        data_dir: the folder of images (or of class subfolders when ``labels`` is true).
        image_size: side of the square images.
        channels: 1 (grey) or 3 (RGB).
        labels: take class labels from the subfolders of ``data_dir``; otherwise every label is 0.
        val_fraction: fraction of the images held out (seeded) for ``val_dataloader`` and ``sample``.
        seed: seed of the held-out split.
        batch_size: images per batch (one critic step).
        num_workers: loader processes (each with one torch thread); 0 decodes in the main process.
        strict: refuse the folder at setup, naming the first file, when an image cannot be decoded. By default
            (false) setup opens every file's header (fast: no decoding) and skips those PIL cannot read with
            one warning that counts them; an image that fails later, when decoded, is replaced by the next
            readable one with a warning. With true, setup decodes every image once (about 0.3 ms for a small
            JPEG), so that no image can fail during training.
    """

    def __init__(
        self,
        data_dir: str = "data/images",
        image_size: int = 64,
        channels: Literal[1, 3] = 3,
        labels: bool = False,
        val_fraction: float = 0.0,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        strict: bool = False,
    ) -> None:
        super().__init__()
        if channels not in (1, 3):
            raise ValueError(f"data.channels must be 1 or 3, got {channels}")
        if image_size < 1:
            raise ValueError(f"data.image_size must be positive, got {image_size}")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"data.val_fraction must be in [0, 1), got {val_fraction}")
        self._check_loader_args(batch_size, num_workers)
        self.data_dir, self.image_size, self.channels, self.labels = (
            local_data_dir(data_dir, "ImageFolderDataModule"),
            image_size,
            channels,
            labels,
        )
        self.val_fraction, self.seed, self.strict = val_fraction, seed, strict
        self.batch_size, self.num_workers = batch_size, num_workers
        self.data_shape = (channels, image_size, image_size)
        if not self.data_dir.is_dir():
            raise FileNotFoundError(
                f"data.data_dir {str(self.data_dir)!r} is not a folder: point --data.data_dir at your images"
            )
        # Class names are needed now: num_classes must be known before the model is set up.
        self.classes = sorted(p.name for p in self.data_dir.iterdir() if p.is_dir()) if labels else []
        if labels and not self.classes:
            raise ValueError(
                f"data.labels is true but {self.data_dir} has no subfolders (one per class); "
                "set data.labels false or sort the images into class folders"
            )
        self.num_classes = len(self.classes)

    def load(self) -> None:
        folders = [self.data_dir / c for c in self.classes] if self.labels else [self.data_dir]
        paths, labels = [], []
        for label, folder in enumerate(folders):
            found = list_images(folder)
            paths += found
            labels += [label] * len(found)
        if not paths:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found under {self.data_dir}")
        paths, labels = self._readable(paths, labels)
        mode = "L" if self.channels == 1 else "RGB"
        transform = partial(prepare_image, mode=mode, image_size=self.image_size)
        dataset = ImageFiles(paths, torch.tensor(labels, dtype=torch.long), transform, strict=self.strict)
        self.label_values, self.label_source = (
            dataset.labels,
            f"{self.data_dir} ({len(folders)} class folders)",
        )
        if self.val_fraction > 0:
            train_idx, val_idx = split_indices(len(dataset), self.val_fraction, self.seed)
            self.train_set, self.val_set = Subset(dataset, train_idx), Subset(dataset, val_idx)
        else:
            self.train_set, self.val_set = dataset, None

    def _readable(self, paths: list[Path], labels: list[int]) -> tuple[list[Path], list[int]]:
        """The files PIL can read: each header is opened (strict: each image decoded); the others are skipped
        with one warning, or refused with ``strict``."""
        problems = {path: problem for path in paths if (problem := image_problem(path, decode=self.strict))}
        if not problems:
            return paths, labels
        first, reason = next(iter(problems.items()))
        if len(problems) == len(paths):
            raise ValueError(
                f"none of the {len(paths)} image files under {self.data_dir} can be read "
                f"(first: {first}: {reason})"
            )
        if self.strict:
            raise ValueError(f"image {first} cannot be read ({reason}); data.strict is true")
        warnings.warn(
            f"skipped {len(problems)} of {len(paths)} files under {self.data_dir} that are not readable images "
            f"(first: {first}: {reason}); set data.strict true to refuse them instead",
            stacklevel=2,
        )
        kept = [i for i, path in enumerate(paths) if path not in problems]
        return [paths[i] for i in kept], [labels[i] for i in kept]
