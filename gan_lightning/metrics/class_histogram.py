"""Mode dropping among classes: the histogram of the classes a classifier predicts for generated samples.

A generator that drops a class (an MNIST digit, a Stacked MNIST triple) leaves a hole in this histogram. Two
numbers summarise it (the protocol of VEEGAN, Srivastava et al., 2017, and PacGAN, Lin et al., 2018, Table 2):

* classes covered: the classes predicted for at least one sample;
* KL(q || uniform) = sum_k q_k log(K q_k), with 0 log 0 = 0, in nats: 0 for a perfectly balanced generator,
  log K when every sample falls in one class.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric


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
