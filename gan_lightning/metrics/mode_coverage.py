"""Mode coverage of a 2D Gaussian mixture, measured exactly as VEEGAN and PacGAN measure it.

Protocol (Srivastava et al., 2017, "VEEGAN", arXiv:1705.07761, Sec. 5.1; Lin et al., 2018, "PacGAN",
arXiv:1712.04086, Sec. 5.1 and its code, ``synthetic_data_experiments/PacGAN/pacgan/extensions.py``):

* draw 2,500 points from the generator;
* a point is **high quality** if it lies within 3 standard deviations of its nearest mode, where distance is
  Mahalanobis with the mode's diagonal covariance, ``sqrt(sum_i (x_i - mu_i)^2 / std_i^2)`` (PacGAN's code
  assigns each point to the mode nearest in that distance and keeps it when the distance is ``< 3``);
* **modes captured** = modes that are the nearest mode of at least one high-quality point;
* **% high quality** = 100 * high-quality points / all points;
* **reverse KL** = KL(p_G || uniform) between the histogram of high-quality points over the modes and the
  uniform distribution over the K modes: ``sum_k p_k log(K p_k)`` with ``0 log 0 = 0`` (0 = every mode equally
  hit, ``log K`` = everything in one mode; NaN when no point is high quality).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchmetrics import Metric

#: Number of generated points of the protocol.
NUM_POINTS = 2500


def mode_histogram(points: Tensor, centers: Tensor, std: float | Tensor, threshold: float = 3.0) -> Tensor:
    """High-quality points per mode, shape ``(K,)``.

    Args:
        points: generated points ``(N, D)``.
        centers: mode centres ``(K, D)``.
        std: per-axis standard deviation of the modes: a float, ``(D,)`` (shared by all modes) or ``(K, D)``.
        threshold: a point counts when its Mahalanobis distance to its nearest mode is below this.
    """
    points, centers = points.double(), centers.to(points.device).double()
    std = torch.as_tensor(std, dtype=torch.float64, device=points.device).expand_as(centers)
    # (N, K) Mahalanobis distances with each mode's diagonal std.
    distance = (((points[:, None, :] - centers[None]) / std[None]) ** 2).sum(-1).sqrt()
    nearest_distance, nearest = distance.min(1)
    keep = nearest_distance < threshold
    return torch.bincount(nearest[keep], minlength=len(centers)).to(torch.long)


def coverage_from_histogram(histogram: Tensor, num_points: int | Tensor) -> dict[str, float]:
    """modes captured, % high quality and reverse KL from a histogram of high-quality points per mode."""
    histogram = histogram.double()
    good = float(histogram.sum())
    num_modes = len(histogram)
    if good == 0:
        reverse_kl = math.nan
    else:
        p = histogram[histogram > 0] / good
        reverse_kl = float((p * (p * num_modes).log()).sum())
    return {
        "modes": float((histogram > 0).sum()),
        "high_quality": 100.0 * good / max(int(num_points), 1),
        "reverse_kl": reverse_kl,
    }


def mode_coverage(
    points: Tensor, centers: Tensor, std: float | Tensor, threshold: float = 3.0
) -> dict[str, float]:
    """VEEGAN/PacGAN mode-coverage numbers of a set of generated points (see the module docstring).

    Returns:
        ``{"modes": modes captured, "high_quality": % high-quality points, "reverse_kl": KL(p_G || uniform)}``
    """
    return coverage_from_histogram(mode_histogram(points, centers, std, threshold), len(points))


class ModeCoverage(Metric):
    """:func:`mode_coverage` as a torchmetrics Metric: the per-mode counts are summed across DDP ranks.

    Args:
        centers: mode centres ``(K, D)``.
        std: per-axis standard deviation of the modes.
        threshold: Mahalanobis distance under which a point is high quality (3 in VEEGAN/PacGAN).
    """

    full_state_update = False

    def __init__(self, centers: Tensor, std: float | Tensor, threshold: float = 3.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.centers, self.std, self.threshold = centers.float(), std, threshold
        self.add_state("histogram", torch.zeros(len(centers), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("num_points", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, points: Tensor) -> None:
        self.histogram += mode_histogram(points, self.centers, self.std, self.threshold).to(
            self.histogram.device
        )
        self.num_points += len(points)

    def compute(self) -> dict[str, float]:
        return coverage_from_histogram(self.histogram, self.num_points)
