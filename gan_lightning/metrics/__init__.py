"""Evaluation metrics: FID/KID/IS/precision-recall of images, VEEGAN/PacGAN mode coverage of 2D mixtures."""

from gan_lightning.metrics.image import (
    IMAGE_METRICS,
    ImageMetrics,
    InceptionV3Features,
    build_feature_extractor,
)
from gan_lightning.metrics.lenet import LeNet, load_lenet
from gan_lightning.metrics.mode_coverage import ModeCoverage, mode_coverage
from gan_lightning.metrics.precision_recall import PrecisionRecall, precision_recall

__all__ = [
    "IMAGE_METRICS",
    "ImageMetrics",
    "InceptionV3Features",
    "LeNet",
    "ModeCoverage",
    "PrecisionRecall",
    "build_feature_extractor",
    "load_lenet",
    "mode_coverage",
    "precision_recall",
]
