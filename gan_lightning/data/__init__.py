"""LightningDataModules. Every batch is ``(samples, labels)``; samples of images lie in [-1, 1].

``data.base`` holds the base of the image modules, ``data.loading`` the resumable loader and its sampler,
``data.transforms`` the pixel scaling and ``data.download`` the download helpers.
"""

from gan_lightning.data.base import ImageDataModule
from gan_lightning.data.celeba import CelebADataModule
from gan_lightning.data.image_folder import ImageFolderDataModule
from gan_lightning.data.loading import EpochShuffleSampler, ResumableDataLoader
from gan_lightning.data.mnist import MNISTDataModule
from gan_lightning.data.stacked_mnist import StackedMNISTDataModule
from gan_lightning.data.toy import ToyDataModule

__all__ = [
    "CelebADataModule",
    "EpochShuffleSampler",
    "ImageDataModule",
    "ImageFolderDataModule",
    "MNISTDataModule",
    "ResumableDataLoader",
    "StackedMNISTDataModule",
    "ToyDataModule",
]
