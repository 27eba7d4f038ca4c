"""MNIST from its IDX files, held in memory as one tensor in [-1, 1].

The files are looked for in ``data_dir`` itself (a flat folder of ``*-idx?-ubyte[.gz]`` files, e.g.
``../shared/data/mnist`` with the 10,000 test digits) and in ``data_dir/MNIST/raw`` (torchvision's layout).
When the requested split is missing there, torchvision's MNIST downloads all four files into
``data_dir/MNIST/raw`` (``download=True``); if that fails, one sentence says what is missing and how to
supply it. Nothing is downloaded into a folder that already holds MNIST files of the user's (any file in the
flat folder, or the other split complete): a missing file there is named instead.

A damaged file (a truncated or corrupt .gz, a wrong magic number, a header whose sizes do not match the file,
images and labels of different counts) is refused at setup in one line naming the file.

``data_dir`` may be an fsspec URL (``s3://bucket/mnist``, ``memory://mnist``): the files are read through fsspec
(the whole split is read into memory anyway); nothing is downloaded to a URL.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor
from torch.utils.data import Subset
from torchvision.transforms.functional import resize as resize_images

from gan_lightning.data.base import ImageDataModule, split_indices
from gan_lightning.data.clusters import kmeans, label_frequencies
from gan_lightning.data.download import failure_reason, remove_created_folders_on_error, socket_timeout
from gan_lightning.data.loading import InMemoryTensors
from gan_lightning.data.transforms import to_signed_unit
from gan_lightning.paths import PathOrURL, as_path, is_file, is_url, join, open_file

Split = Literal["train", "test"]
# split -> (images file, labels file), without the optional .gz
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_UNSIGNED_BYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
MNIST_SIDE = 28


def read_idx(path: str | Path) -> Tensor:
    """An IDX file of unsigned bytes (gzipped when its name ends in .gz) as a uint8 tensor of its shape.

    Format: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, each dimension as a
    big-endian uint32, then the values in row-major order. Anything else raises a one-line ValueError naming
    the file. (torchvision's reader neither opens .gz files nor says what is wrong: it asserts.)
    """
    path = as_path(path)  # a URL is read through fsspec
    try:
        with open_file(path) as raw:
            data = (gzip.GzipFile(fileobj=raw) if str(path).endswith(".gz") else raw).read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:  # cut short, corrupt, or not gzip at all
        raise ValueError(
            f"{path} is a damaged gzip file ({failure_reason(error)}): replace it with a complete copy"
        ) from error
    if data[:2] == _GZIP_MAGIC:
        raise ValueError(f"{path} is gzip-compressed but its name does not end in .gz: add .gz to its name")
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != _UNSIGNED_BYTE or data[3] == 0:
        magic = f"its magic number is 0x{data[:4].hex()}" if data else "it is empty"
        raise ValueError(
            f"{path} is not an IDX file of unsigned bytes: {magic}, expected 0x00000801 (labels) or "
            "0x00000803 (images)"
        )
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path} ends inside its header: the file is truncated")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    payload = data[4 + 4 * ndim :]
    if len(payload) != math.prod(shape):
        raise ValueError(
            f"{path} holds {len(payload)} values but its header promises {math.prod(shape)} "
            f"({' x '.join(map(str, shape))}): the file is truncated or corrupt"
        )
    return torch.frombuffer(bytearray(payload), dtype=torch.uint8).reshape(shape)


def find_idx(data_dir: str | Path, name: str) -> PathOrURL | None:
    """``name`` or ``name.gz`` in ``data_dir`` or ``data_dir/MNIST/raw`` (the uncompressed file first)."""
    for folder in (as_path(data_dir), join(data_dir, "MNIST", "raw")):
        for candidate in (join(folder, name), join(folder, f"{name}.gz")):
            if is_file(candidate):
                return candidate
    return None


def load_mnist(data_dir: str | Path, split: Split) -> tuple[Tensor, Tensor] | None:
    """(images uint8 (N, 1, 28, 28), labels long (N,)) of a split, or None when a file of it is not there.

    Raises a one-line ValueError naming the file that is damaged or does not fit the other.
    """
    paths = [find_idx(data_dir, name) for name in MNIST_FILES[split]]
    if None in paths:
        return None
    images_path, labels_path = paths
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.shape[1:] != (MNIST_SIDE, MNIST_SIDE):
        raise ValueError(
            f"{images_path} holds an array of shape {tuple(images.shape)}, not N images of 28x28"
        )
    if labels.ndim != 1:
        raise ValueError(f"{labels_path} holds an array of shape {tuple(labels.shape)}, not N labels")
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels: "
            "one of them is truncated or belongs to another split"
        )
    return images.unsqueeze(1), labels.long()


def missing_mnist_files(data_dir: str | Path, split: Split) -> list[str]:
    """The files of a split found in neither layout of ``data_dir``."""
    return [name for name in MNIST_FILES[split] if find_idx(data_dir, name) is None]


def mnist_files_missing(data_dir: str | Path, split: Split) -> bool:
    """Whether either file of a split is missing from ``data_dir`` (both layouts)."""
    return bool(missing_mnist_files(data_dir, split))


def user_mnist_files(data_dir: str | Path) -> list[PathOrURL]:
    """MNIST files in the flat folder ``data_dir`` itself (the user's; torchvision downloads into MNIST/raw)."""
    names = [name for files in MNIST_FILES.values() for name in files]
    return [p for name in names for p in (join(data_dir, name), join(data_dir, f"{name}.gz")) if is_file(p)]


def download_mnist(data_dir: str | Path, split: Split) -> None:
    """torchvision's MNIST download into ``data_dir/MNIST/raw`` (all four files), each socket wait bounded.

    Folders the download created are removed again when it fails, so a failed attempt leaves nothing behind.
    """
    from torchvision.datasets import MNIST

    root = Path(data_dir)
    with remove_created_folders_on_error(root, root / "MNIST", root / "MNIST" / "raw"), socket_timeout():
        MNIST(str(root), train=split == "train", download=True)


class MNISTDataModule(ImageDataModule):
    """MNIST digits in [-1, 1] with their labels; batches are ``(images (B, 1, H, W), labels (B,))``.

    The whole split is read once into memory (60,000 or 10,000 images), so loading never limits training.

    Args:
        data_dir: folder holding the IDX files (flat, or torchvision's ``MNIST/raw`` inside it); downloads go
            there. An fsspec URL (``s3://bucket/mnist``) is read through fsspec, and never downloaded to.
        split: ``train`` (60,000 digits) or ``test`` (10,000 digits, e.g. ``../shared/data/mnist``).
        download: download the files with torchvision when they are missing.
        resize: side length to resize the 28x28 digits to (e.g. 32), or None to keep 28.
        val_fraction: fraction of the split held out (seeded) for ``val_dataloader`` and ``sample``; 0 trains
            on all of it and leaves no validation set.
        seed: seed of the held-out split and of the clusters.
        batch_size: images per batch (one critic step).
        num_workers: loader processes; 0 loads in the main process (fastest for in-memory data).
        cluster_labels: label each digit by its k-means cluster of pixels among this many, instead of its
            digit, for a self-conditioned GAN (Liu et al., "Diverse Image Generation via Self-Conditioned
            GANs", CVPR 2020): an unconditional recipe with a conditional G and D of ``num_classes`` k that
            samples clusters by their frequency (:mod:`gan_lightning.data.clusters`). None keeps the digits.
    """

    def __init__(
        self,
        data_dir: str = "data/mnist",
        split: Split = "train",
        download: bool = True,
        resize: int | None = None,
        val_fraction: float = 0.0,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        cluster_labels: int | None = None,
    ) -> None:
        super().__init__()
        if split not in MNIST_FILES:
            raise ValueError(f"data.split must be 'train' or 'test', got {split!r}")
        if resize is not None and resize < 1:
            raise ValueError(f"data.resize must be a positive side length or null, got {resize}")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"data.val_fraction must be in [0, 1), got {val_fraction}")
        self._check_loader_args(batch_size, num_workers)
        self.data_dir, self.split, self.download, self.resize = as_path(data_dir), split, download, resize
        if cluster_labels is not None and cluster_labels < 2:
            raise ValueError(f"data.cluster_labels must be at least 2 clusters or null, got {cluster_labels}")
        self.val_fraction, self.seed, self.cluster_labels = val_fraction, seed, cluster_labels
        self.batch_size, self.num_workers = batch_size, num_workers
        side = resize or 28
        self.data_shape = (1, side, side)
        self.num_classes = cluster_labels or 10
        self._download_attempted = False
        self._download_error: str | None = None

    def _other_split(self) -> Split:
        return "test" if self.split == "train" else "train"

    def _may_download(self) -> bool:
        # A folder holding MNIST files of the user's (any in the flat folder, e.g. ../shared/data/mnist, or the
        # other split) gets nothing added; a download cut short in MNIST/raw is completed by torchvision.
        return (
            self.download
            and not is_url(self.data_dir)  # torchvision downloads to local folders only
            and mnist_files_missing(self.data_dir, self.split)
            and mnist_files_missing(self.data_dir, self._other_split())
            and not user_mnist_files(self.data_dir)
        )

    def prepare_data(self) -> None:
        if self._may_download():
            self._download_attempted = True
            try:
                download_mnist(self.data_dir, self.split)
            except (OSError, RuntimeError) as error:  # URLError and PermissionError are OSErrors
                self._download_error = failure_reason(error)

    def _missing_message(self) -> str:
        missing = missing_mnist_files(self.data_dir, self.split)
        where = f"in {self.data_dir} or {join(self.data_dir, 'MNIST', 'raw')}"
        names = " and ".join(f"{name}[.gz]" for name in missing)
        if len(missing) == len(MNIST_FILES[self.split]):
            message = f"MNIST {self.split} split not found: no {names} {where}"
        else:  # only one of the two: name that one, and the file found beside it
            (present,) = (find_idx(self.data_dir, n) for n in MNIST_FILES[self.split] if n not in missing)
            message = f"MNIST {self.split} split incomplete: no {names} {where} (found {present})"
        supply = "put the IDX files there or point --data.data_dir at a folder that holds them"
        other = self._other_split()
        if not mnist_files_missing(self.data_dir, other):
            return (
                f"{message}; that folder holds the {other} split: add --data.split {other} to train on it, "
                f"or point --data.data_dir at a folder with the {self.split} files (nothing is downloaded "
                "into a folder that already holds MNIST files)"
            )
        if not self.download:
            return f"{message}, and data.download is false; {supply}"
        if is_url(self.data_dir):
            return f"{message}; nothing is downloaded to a URL: {supply}"
        if not self._download_attempted:
            return (
                f"{message}; nothing is downloaded into a folder that already holds MNIST files: add the "
                "missing file there or point --data.data_dir at a folder with the whole split"
            )
        return f"{message}, and the download failed ({self._download_error or 'no files arrived'}); {supply}"

    def load(self) -> None:
        if self.download and not self._download_attempted:  # setup() called without prepare_data()
            self.prepare_data()
        loaded = load_mnist(self.data_dir, self.split)
        if loaded is None:
            raise FileNotFoundError(self._missing_message())
        images = to_signed_unit(loaded[0])
        if self.resize is not None and self.resize != 28:
            # Antialiased bilinear weights are non-negative and sum to one, so values stay in [-1, 1].
            images = resize_images(images, [self.resize, self.resize], antialias=True).clamp_(-1.0, 1.0)
        labels, source = loaded[1], str(find_idx(self.data_dir, MNIST_FILES[self.split][1]))
        if self.cluster_labels:
            if self.cluster_labels > len(images):
                raise ValueError(
                    f"data.cluster_labels ({self.cluster_labels}) is more than the {len(images)} digits to cluster"
                )
            labels, source = kmeans(images, self.cluster_labels, self.seed), "data.cluster_labels"
        dataset = InMemoryTensors(images, labels)
        self.label_values, self.label_source = labels, source
        train_idx = list(range(len(dataset)))
        if self.val_fraction > 0:
            train_idx, val_idx = split_indices(len(dataset), self.val_fraction, self.seed)
            self.train_set, self.val_set = Subset(dataset, train_idx), Subset(dataset, val_idx)
        else:
            self.train_set, self.val_set = dataset, None
        if self.cluster_labels:
            self.label_prior = label_frequencies(labels[train_idx], self.cluster_labels)
