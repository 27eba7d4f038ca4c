"""Minibatch discrimination (Salimans et al., 2016, "Improved Techniques for Training GANs", arXiv:1606.03498,
section 3.2): the discriminator sees how close each sample is to the rest of its batch, so a generator that
collapses to one mode produces batches it can tell apart.

    discriminator:
      class_path: gan_lightning.networks.MinibatchDiscriminator
      init_args: {discriminator: {class_path: gan_lightning.networks.DCGANDiscriminator}}
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """The minibatch layer of Salimans et al. (section 3.2): features (N, A) -> closeness to the batch (N, B).

    M_i = f(x_i) T reshaped to (B, C); c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_1); o(x_i)_b = sum_{j != i} c_b.
    (The paper's sum includes j = i, a constant 1 the next layer absorbs; leaving it out, as the authors' code
    does, makes a batch of one sample give 0.)

    Args:
        in_features: A, the size of the features.
        num_kernels: B, the number of outputs.
        kernel_dim: C, the dimension each feature vector is projected to per kernel.
    """

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim
        self.T = nn.Parameter(0.05 * torch.randn(in_features, num_kernels * kernel_dim))

    def forward(self, features: Tensor) -> Tensor:
        m = (features @ self.T).view(-1, self.num_kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        distances = torch.cdist(m, m, p=1)  # (B, N, N): L1 distances per kernel
        return (torch.exp(-distances).sum(2) - 1).T  # minus the j = i term, exp(0) = 1


class MinibatchDiscriminator(nn.Module):
    """Any discriminator with ``features`` and ``feature_dim``, its last layer replaced by
    [phi(x), o(phi(x))] -> score, where o is :class:`MinibatchDiscrimination` (the wrapped network's own last
    layer is then unused). Labels, when given, go to ``features``: with a conditional discriminator only the
    concatenation conditioning reaches the score, not a projection term.

    Args:
        discriminator: the network to wrap.
        num_kernels: B of the minibatch layer.
        kernel_dim: C of the minibatch layer.
    """

    def __init__(self, discriminator: nn.Module, num_kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        dim = getattr(discriminator, "feature_dim", None)
        if dim is None or not callable(getattr(discriminator, "features", None)):
            raise ValueError(
                f"model.discriminator: MinibatchDiscriminator needs a discriminator with `features` and "
                f"`feature_dim`; {type(discriminator).__name__} lacks them"
            )
        self.discriminator = discriminator
        self.num_classes = getattr(discriminator, "num_classes", 0)
        self.feature_dim = dim
        self.minibatch = MinibatchDiscrimination(dim, num_kernels, kernel_dim)
        self.head = nn.Linear(dim + num_kernels, 1)

    def features(self, x: Tensor, *labels: Tensor) -> Tensor:
        return self.discriminator.features(x, *labels)

    def forward(self, x: Tensor, *labels: Tensor) -> Tensor:
        f = self.features(x, *labels)
        return self.head(torch.cat([f, self.minibatch(f)], 1)).squeeze(-1)
