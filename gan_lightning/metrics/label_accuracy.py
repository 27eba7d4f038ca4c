"""Label accuracy of a class-conditional generator: how often a classifier reads the label it was asked for.

"Conditional Image Synthesis With Auxiliary Classifier GANs" (Odena, Olah and Shlens, ICML 2017) measured
the Inception accuracy of class-conditional samples: the fraction of samples G(z, y) that a pretrained
classifier assigns to y. Here the classifier is the feature extractor's (the MNIST LeNet): a generator that
ignores y scores about 1 / K, one that always draws the digit asked for scores about the classifier's own
accuracy on real digits. ``ImageMetrics``' ``label_accuracy`` metric computes it for generated images.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric


class LabelAccuracy(Metric):
    """Fraction of predicted classes equal to the labels the images were generated with (summed across DDP
    ranks before the division, so every rank reports the accuracy of all the images).

    Args:
        num_classes: K, the classifier's classes; labels must be in [0, K).
    """

    full_state_update = False

    def __init__(self, num_classes: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.add_state("correct", torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, predicted: Tensor, labels: Tensor) -> None:
        """Add the predicted classes ``(B,)`` of images generated with ``labels`` ``(B,)``."""
        predicted, labels = predicted.flatten().long(), labels.flatten().long().to(predicted.device)
        if predicted.shape != labels.shape:
            raise ValueError(f"{len(predicted)} predicted classes for {len(labels)} labels")
        if len(labels) and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"evaluation.image_metrics 'label_accuracy': the model's labels must be classes of the "
                f"classifier, in [0, {self.num_classes - 1}]; got {int(labels.min())}..{int(labels.max())}"
            )
        self.correct += (predicted == labels).sum().to(self.correct.device)
        self.total += len(labels)

    def compute(self) -> Tensor:
        if self.total <= 0:
            raise ValueError("label accuracy: no labelled image was classified")
        return self.correct.double() / self.total
