"""LightningDataModules. Every batch is ``(samples, labels)``; samples of images lie in [-1, 1]."""

from gan_lightning.data.celeba import CelebADataModule
from gan_lightning.data.image_folder import ImageFolderDataModule
from gan_lightning.data.mnist import MNISTDataModule
from gan_lightning.data.toy import ToyDataModule

__all__ = ["CelebADataModule", "ImageFolderDataModule", "MNISTDataModule", "ToyDataModule"]
