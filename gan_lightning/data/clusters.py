"""k-means cluster labels for self-conditioned GANs.

Liu et al., "Diverse Image Generation via Self-Conditioned GANs" (CVPR 2020): an unconditional data set is
clustered, and a conditional G(z, c) and D(x, c) are trained on the cluster labels c; sampling draws c from the
clusters' frequencies. The conditioning splits the data's disconnected modes (MNIST's digits) into pieces a
generator can cover one at a time, without labels. Here the clusters are k-means of the pixels, computed once
(the paper re-clusters D's features during training).

Lloyd's algorithm with k-means++ seeding (Arthur & Vassilvitskii, "k-means++: The Advantages of Careful
Seeding", SODA 2007), written in torch because the data is already a tensor: 10,000 MNIST digits and 50 clusters
take a few seconds on one core, with no new dependency.
"""

from __future__ import annotations

import torch
from torch import Tensor


def kmeans(points: Tensor, k: int, seed: int = 0, max_iterations: int = 100, chunk: int = 4096) -> Tensor:
    """Cluster index in 0..k-1 of each row of ``points`` (N, D), the same for the same seed.

    Stops when no assignment changes, or after ``max_iterations`` Lloyd steps. A cluster that loses all its
    points keeps its centre. Distances are computed ``chunk`` rows at a time to bound memory.
    """
    points = points.flatten(1).double()  # float64: rounding rarely decides an assignment
    n = len(points)
    if not 1 <= k <= n:
        raise ValueError(f"k-means needs 1 <= k <= the number of points ({n}), got k = {k}")
    rng = torch.Generator().manual_seed(seed)
    centres = points[torch.randint(n, (1,), generator=rng)]
    nearest = _squared_distances(points, centres, chunk).squeeze(1)
    for _ in range(k - 1):  # k-means++: the next centre with probability proportional to D(x)^2
        pick = torch.multinomial(nearest.clamp_min(0) + 1e-12, 1, generator=rng)
        centres = torch.cat([centres, points[pick]])
        nearest = torch.minimum(nearest, _squared_distances(points, points[pick], chunk).squeeze(1))
    assignment = torch.full((n,), -1, dtype=torch.long)
    for _ in range(max_iterations):
        new = torch.cat([_squared_distances(part, centres, chunk).argmin(1) for part in points.split(chunk)])
        if torch.equal(new, assignment):
            break
        assignment = new
        counts = torch.bincount(assignment, minlength=k)
        sums = torch.zeros_like(centres).index_add_(0, assignment, points)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return assignment


def _squared_distances(points: Tensor, centres: Tensor, chunk: int) -> Tensor:
    """||p - c||^2 for every row p of ``points`` and c of ``centres``: (N, K)."""
    return torch.cat(
        [
            (part * part).sum(1, keepdim=True) - 2 * part @ centres.T + (centres * centres).sum(1)
            for part in points.split(chunk)
        ]
    )


def label_frequencies(labels: Tensor, k: int) -> Tensor:
    """p(y): the share of each label 0..k-1 in ``labels``."""
    return torch.bincount(labels, minlength=k).double().div(len(labels)).float()
