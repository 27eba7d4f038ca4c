"""Improved precision and recall of a generative model (Kynkaanniemi et al., 2019, arXiv:1904.06991).

Each set of features is a manifold estimate: the union of balls centred at its points, each ball's radius
being the distance from that point to its k-th nearest neighbour in the same set (k = 3 in the paper). Then

* precision = fraction of generated samples that lie in the manifold of the real samples (quality),
* recall = fraction of real samples that lie in the manifold of the generated samples (coverage).

A point lies in a ball when its distance to the centre is at most the radius (``<=``, as in the authors'
code).
Distances are computed in float64, in chunks, so that 10,000 x 10,000 sets fit in memory.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat


def _distances(a: Tensor, b: Tensor) -> Tensor:
    return torch.cdist(a.double(), b.double())


def knn_radii(features: Tensor, k: int = 3, chunk: int = 1024) -> Tensor:
    """Distance from every point to its k-th nearest neighbour in the same set (the point itself excluded)."""
    if not 1 <= k < len(features):
        raise ValueError(
            f"precision/recall k must be in [1, {len(features) - 1}] for {len(features)} samples, got {k}"
        )
    # The k+1-th smallest distance of each row skips the zero distance of the point to itself.
    return torch.cat(
        [_distances(rows, features).kthvalue(k + 1, dim=1).values for rows in features.split(chunk)]
    )


def _fraction_inside(queries: Tensor, centres: Tensor, radii: Tensor, chunk: int = 1024) -> Tensor:
    inside = [(_distances(rows, centres) <= radii[None]).any(1) for rows in queries.split(chunk)]
    return torch.cat(inside).double().mean()


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> tuple[Tensor, Tensor]:
    """(precision, recall) of generated features ``fake (M, D)`` against real features ``real (N, D)``.

    Args:
        real: features of real samples.
        fake: features of generated samples.
        k: the k of the k-nearest-neighbour radii (3 in the paper).
    """
    precision = _fraction_inside(fake, real, knn_radii(real, k))
    recall = _fraction_inside(real, fake, knn_radii(fake, k))
    return precision, recall


class PrecisionRecall(Metric):
    """:func:`precision_recall` as a torchmetrics Metric over feature vectors (gathered across DDP ranks).

    Args:
        k: the k of the k-nearest-neighbour radii.
        reset_real_features: whether ``reset()`` also forgets the real features (False: they are kept, so a
            fixed real set is extracted once and reused at every evaluation).
    """

    full_state_update = False

    def __init__(self, k: int = 3, reset_real_features: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.k, self.reset_real_features = k, reset_real_features
        self.add_state("real_features", [], dist_reduce_fx="cat")
        self.add_state("fake_features", [], dist_reduce_fx="cat")

    def update(self, features: Tensor, real: bool) -> None:
        (self.real_features if real else self.fake_features).append(features.float())

    def compute(self) -> tuple[Tensor, Tensor]:
        return precision_recall(dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features), self.k)

    def reset(self) -> None:
        real = list(self.real_features)  # Metric.reset() clears list states in place
        super().reset()
        if not self.reset_real_features:
            self.real_features.extend(real)
