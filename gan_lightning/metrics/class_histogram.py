"""Mode dropping among classes: the histogram of the classes a classifier predicts for generated samples.

A generator that drops a class (an MNIST digit, a Stacked MNIST triple) leaves a hole in this histogram. Two
numbers summarise it (the protocol of VEEGAN, Srivastava et al., 2017, and PacGAN, Lin et al., 2018, Table 2):

* classes covered: the classes predicted for at least one sample;
* KL(q || uniform) = sum_k q_k log(K q_k), with 0 log 0 = 0, in nats: 0 for a perfectly balanced generator,
  log K when every sample falls in one class.

Images of C channels and a one-channel classifier of K classes (Stacked MNIST and the MNIST LeNet): each
channel is classified alone and the C classes are read as the base-K digits of one class of K^C, the first
channel most significant (:func:`combine_digits`: 100 d_R + 10 d_G + d_B, 1,000 classes), as PacGAN's code
does. ``ImageMetrics``' ``classes`` metric does this for generated images;
:func:`gan_lightning.metrics.image.class_histogram_of` applies the same metric to any images (the real-data floor).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

#: The largest histogram a combination of per-channel classes may need (K^C counts).
MAX_COMBINED_CLASSES = 10_000_000


def combined_classes(num_classes: int, channels: int) -> int:
    """K^C: the classes of C channels classified alone into K classes each."""
    total = num_classes**channels
    if total > MAX_COMBINED_CLASSES:
        raise ValueError(
            f"evaluation.image_metrics 'classes': {channels} channels of {num_classes} classes each make "
            f"{total} combined classes, more than {MAX_COMBINED_CLASSES}"
        )
    return total


def combine_digits(digits: Tensor, num_classes: int) -> Tensor:
    """Per-channel classes ``(B, C)`` -> ``sum_c digits[:, c] K^(C - 1 - c)`` ``(B,)``, the first most
    significant: ``100 d_R + 10 d_G + d_B`` for three channels of 10 classes."""
    combined = torch.zeros(len(digits), dtype=torch.long, device=digits.device)
    for c in range(digits.shape[1]):
        combined = combined * num_classes + digits[:, c].long()
    return combined


def class_histogram_scores(counts: Tensor) -> dict[str, float]:
    """``classes_covered`` and ``class_kl`` (KL of the normalised histogram to the uniform one) of counts."""
    counts = counts.double()
    if counts.sum() <= 0:
        raise ValueError("the class histogram is empty: no samples were classified")
    q = counts / counts.sum()
    k = len(counts)
    nonzero = q[q > 0]
    return {
        "classes_covered": float((counts > 0).sum()),
        "class_kl": float((nonzero * (nonzero * k).log()).sum()),
    }


class ClassHistogram(Metric):
    """Counts of predicted classes (summed across DDP ranks) and their :func:`class_histogram_scores`.

    Args:
        num_classes: K, the number of classes of the uniform reference.
    """

    full_state_update = False

    def __init__(self, num_classes: int, **kwargs) -> None:
        super().__init__(**kwargs)
        if num_classes < 2:
            raise ValueError(f"a class histogram needs at least 2 classes, got {num_classes}")
        self.num_classes = num_classes
        self.add_state("counts", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, labels: Tensor) -> None:
        """Add predicted labels (integers in [0, num_classes))."""
        labels = labels.flatten().long()
        if len(labels) and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"class labels must be in [0, {self.num_classes - 1}]")
        self.counts += torch.bincount(labels, minlength=self.num_classes).to(self.counts.device)

    def compute(self) -> dict[str, float]:
        return class_histogram_scores(self.counts)
