"""Stacked MNIST: three MNIST digits drawn independently, stacked as the R, G and B channels of one image.

The 1,000-mode benchmark of mode dropping (Metz et al., "Unrolled GANs", 2017; Srivastava et al., VEEGAN, 2017;
Lin et al., PacGAN, 2018): a sample's mode is its triple of digits, labelled ``100 d_R + 10 d_G + d_B``. PacGAN's
code (``stacked_MNIST_experiments/VEEGAN_experiment``) draws ``num_training_sample = 128000`` triples of digit
indices uniformly with replacement and scores ``num_test_sample = 26000`` generated samples; those are the
defaults here. The digits come from any MNIST split (:mod:`gan_lightning.data.mnist`: the same files, layouts,
download and messages), e.g. the 10,000 test digits of ``../shared/data/mnist``.

Only the seeded table of index triples (``num_samples`` x 3 integers) is built; images are assembled from the
uint8 digits when a batch asks for them, so 128,000 images never sit in memory as floats.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset, Subset

from gan_lightning.data.base import ImageDataModule, split_indices
from gan_lightning.data.clusters import kmeans, label_frequencies
from gan_lightning.data.mnist import MNISTDataModule, Split, load_mnist
from gan_lightning.data.transforms import to_signed_unit
from gan_lightning.paths import as_path

#: PacGAN's training-set size (its code's ``num_training_sample``).
NUM_TRAINING_SAMPLES = 128_000
#: Generated samples of the mode metric (PacGAN's ``num_test_sample``; VEEGAN's protocol).
NUM_EVALUATION_SAMPLES = 26_000
IMAGE_SIZES = (28, 32)


def stacked_labels(digits: Tensor, base: int = 10) -> Tensor:
    """Label triples ``(N, 3)`` -> ``base^2 l_R + base l_G + l_B`` ``(N,)``: the modes ``100 d_R + 10 d_G + d_B`` of
    digit triples, or a triple of k-means clusters of the channels (``base`` k)."""
    return (digits[:, 0] * base + digits[:, 1]) * base + digits[:, 2]


class StackedDigits(Dataset):
    """``(image float32 (3, S, S) in [-1, 1], mode)`` for each row of a table of digit-index triples.

    Args:
        digits: uint8 MNIST digits ``(N, 1, 28, 28)``.
        labels: their classes ``(N,)`` in ``0..base-1``: digits, or k-means clusters of the digits.
        triples: long ``(M, 3)``: the indices of the R, G and B digits of each of the M images.
        image_size: 28, or 32 (the 28x28 digits centred, padded with -1).
        base: the number of label values.
    """

    def __init__(
        self, digits: Tensor, labels: Tensor, triples: Tensor, image_size: int = 28, base: int = 10
    ) -> None:
        self.digits, self.labels, self.triples, self.image_size = digits[:, 0], labels, triples, image_size
        self.base = base

    def __len__(self) -> int:
        return len(self.triples)

    def images(self, rows: Tensor | list[int]) -> Tensor:
        """The images of some rows of the table ``(len(rows), 3, S, S)``, assembled in one indexing operation."""
        images = to_signed_unit(self.digits[self.triples[rows]])
        if self.image_size != 28:
            pad = (self.image_size - 28) // 2
            images = F.pad(images, [pad, self.image_size - 28 - pad] * 2, value=-1.0)
        return images

    def modes(self, rows: Tensor | list[int]) -> Tensor:
        """The labels ``base^2 l_R + base l_G + l_B`` of some rows (with digits: the modes 100 d_R + 10 d_G + d_B)."""
        return stacked_labels(self.labels[self.triples[rows]], self.base)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.images([index])[0], self.modes([index])[0]


class StackedMNISTDataModule(ImageDataModule):
    """Stacked MNIST in [-1, 1]; batches are ``(images (B, 3, S, S), modes (B,))`` with 1,000 classes.

    ``setup`` reads the digits of one MNIST split (uint8, through :func:`~gan_lightning.data.mnist.load_mnist`,
    with :class:`~gan_lightning.data.MNISTDataModule`'s file finding, download and one-line messages) and draws
    the table of ``num_samples`` index triples, uniformly with replacement, from a generator seeded with
    ``seed``: the same seed gives the same images in the same order, and the resumable loaders of
    :class:`~gan_lightning.data.base.ImageDataModule` continue a checkpointed epoch at its next batch.

    Evaluation hints, read by :class:`~gan_lightning.evaluator.Evaluator` (and so by the ``Evaluation`` callback
    and ``gan-lightning evaluate``): ``feature_extractor: auto`` resolves to the MNIST LeNet
    (``default_feature_extractor``), whose ``classes`` metric then classifies each channel (modes covered of
    1,000, KL to uniform), and ``num_generated`` defaults to 26,000 (``default_num_generated``).

    Args:
        data_dir: folder of the MNIST IDX files (see :class:`~gan_lightning.data.MNISTDataModule`).
        split: the MNIST split the digits come from: ``train`` (60,000) or ``test`` (10,000, e.g.
            ``../shared/data/mnist``).
        download: download the files with torchvision when they are missing.
        num_samples: rows of the index table, i.e. training images (PacGAN: 128,000).
        image_size: 28, or 32 (digits padded with -1 to 32x32, for networks that want a power of two).
        val_fraction: fraction of the table's rows held out (seeded) for ``val_dataloader`` and ``sample``; the
            held-out images are new triples of the same digits.
        seed: seed of the index table and of the held-out split.
        batch_size: images per batch (one critic step).
        num_workers: loader processes; 0 assembles the batches in the main process (cheap: one indexing).
        cluster_labels: label each image by its triple of k-means clusters of the channels' pixels,
            ``k^2 c_R + k c_G + c_B`` of ``k^3`` classes, instead of its digits, for a self-conditioned GAN (as
            :class:`~gan_lightning.data.MNISTDataModule`'s option: the digits are clustered once, with ``seed``).
            None keeps the 1,000 digit modes.
    """

    default_feature_extractor = "lenet"
    default_num_generated = NUM_EVALUATION_SAMPLES

    def __init__(
        self,
        data_dir: str = "data/mnist",
        split: Split = "train",
        download: bool = True,
        num_samples: int = NUM_TRAINING_SAMPLES,
        image_size: int = 28,
        val_fraction: float = 0.0,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        cluster_labels: int | None = None,
    ) -> None:
        super().__init__()
        if image_size not in IMAGE_SIZES:
            raise ValueError(
                f"data.image_size must be 28 or 32 (the digits padded with -1), got {image_size}"
            )
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(
                f"data.num_samples must be a positive integer (rows of the table), got {num_samples}"
            )
        # The MNIST module checks split, val_fraction, the loader arguments and cluster_labels, and finds /
        # downloads the files.
        self._mnist = MNISTDataModule(
            data_dir, split, download, None, val_fraction, seed, batch_size, num_workers, cluster_labels
        )  # fmt: skip
        self.data_dir, self.split, self.download = as_path(data_dir), split, download  # a URL stays a string
        self.num_samples, self.image_size = num_samples, image_size
        self.val_fraction, self.seed = val_fraction, seed
        self.batch_size, self.num_workers = batch_size, num_workers
        self.cluster_labels = cluster_labels
        self.data_shape = (3, image_size, image_size)
        self.num_classes = (cluster_labels or 10) ** 3
        self.dataset: StackedDigits | None = None

    def prepare_data(self) -> None:
        self._mnist.prepare_data()

    def load(self) -> None:
        if self.download and not self._mnist._download_attempted:  # setup() called without prepare_data()
            self.prepare_data()
        loaded = load_mnist(self.data_dir, self.split)
        if loaded is None:
            raise FileNotFoundError(f"Stacked MNIST: {self._mnist._missing_message()}")
        digits, labels = loaded
        triples = torch.randint(
            len(digits), (self.num_samples, 3), generator=torch.Generator().manual_seed(self.seed)
        )
        k = self.cluster_labels
        if k:
            if k > len(digits):
                raise ValueError(
                    f"data.cluster_labels ({k}) is more than the {len(digits)} digits to cluster"
                )
            labels = kmeans(to_signed_unit(digits), k, self.seed)
        self.dataset = StackedDigits(digits, labels, triples, self.image_size, k or 10)
        self.label_values = self.dataset.modes(torch.arange(self.num_samples))
        self.label_source = (
            "data.cluster_labels"
            if k
            else f"Stacked MNIST (modes 100 d_R + 10 d_G + d_B of {self.data_dir}, {self.split} split)"
        )
        train_idx = torch.arange(self.num_samples)
        if self.val_fraction > 0:
            train_idx, val_idx = split_indices(self.num_samples, self.val_fraction, self.seed)
            self.train_set, self.val_set = Subset(self.dataset, train_idx), Subset(self.dataset, val_idx)
        else:
            self.train_set, self.val_set = self.dataset, None
        if k:
            self.label_prior = label_frequencies(self.label_values[train_idx], self.num_classes)

    def sample(self, n: int, seed: int = 1) -> Tensor:
        """n real images, seeded, from the held-out rows when there are some (assembled in one operation)."""
        if self.train_set is None:
            self.setup("fit")
        source = self.val_set if self.val_set is not None and len(self.val_set) else self.train_set
        order = torch.randperm(len(source), generator=torch.Generator().manual_seed(seed))[:n].tolist()
        rows = [source.indices[i] for i in order] if isinstance(source, Subset) else order
        return self.dataset.images(rows)


def real_mode_floor(
    data_dir: str | Path,
    split: Split = "test",
    num_samples: int = NUM_EVALUATION_SAMPLES,
    seed: int = 0,
    extractor: torch.nn.Module | None = None,
    batch_size: int = 1000,
) -> dict[str, float]:
    """The mode metric of ``num_samples`` real Stacked MNIST images: what a perfect generator would score.

    A fresh seeded table of ``num_samples`` triples of the split's digits, classified channel by channel like
    generated images (:func:`gan_lightning.metrics.image.class_histogram_of`). Even exact samples of
    the data stay above KL 0: a histogram of n draws over K equally likely modes has KL(q || uniform) about
    (K - 1) / (2 n), 0.019 for 26,000 draws of 1,000 modes, plus what the classifier's errors and MNIST's
    unequal digit frequencies add.

    Args:
        data_dir: folder of the MNIST IDX files (nothing is downloaded).
        split: the split the digits come from.
        num_samples: real images classified (PacGAN: 26,000).
        seed: seed of the table.
        extractor: a one-channel classifier (``None``: the bundled LeNet).
        batch_size: images per classification batch.
    """
    from gan_lightning.metrics.image import class_histogram_of

    data = StackedMNISTDataModule(
        str(data_dir), split, download=False, num_samples=num_samples, seed=seed, batch_size=1
    )
    data.setup("fit")
    images = (data.dataset.images(rows) for rows in torch.arange(num_samples).split(batch_size))
    return class_histogram_of(images, extractor)
