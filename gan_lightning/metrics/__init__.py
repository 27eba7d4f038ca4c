"""Evaluation metrics: FID/KID/IS/precision-recall, predicted-class histograms and conditional label accuracy of images, VEEGAN/PacGAN mode coverage of 2D mixtures."""

from gan_lightning.metrics.class_histogram import ClassHistogram, class_histogram_scores
from gan_lightning.metrics.image import (
    IMAGE_METRICS,
    ImageMetrics,
    InceptionV3Features,
    build_feature_extractor,
)
from gan_lightning.metrics.label_accuracy import LabelAccuracy
from gan_lightning.metrics.lenet import LeNet, load_lenet
from gan_lightning.metrics.mode_coverage import ModeCoverage, mode_coverage
from gan_lightning.metrics.precision_recall import PrecisionRecall, precision_recall

__all__ = [
    "ClassHistogram",
    "IMAGE_METRICS",
    "ImageMetrics",
    "InceptionV3Features",
    "LabelAccuracy",
    "LeNet",
    "ModeCoverage",
    "PrecisionRecall",
    "build_feature_extractor",
    "class_histogram_scores",
    "load_lenet",
    "mode_coverage",
    "precision_recall",
]
