"""Fully connected networks for low-dimensional (2D toy) data, as in the WGAN-GP toy experiments."""

from __future__ import annotations

from torch import Tensor, nn

from gan_lightning.networks.spectral import apply_spectral_norm


def _mlp(
    in_dim: int, hidden_dim: int, depth: int, out_dim: int, activation: type[nn.Module]
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else hidden_dim, hidden_dim), activation()]
    layers.append(nn.Linear(hidden_dim if depth else in_dim, out_dim))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z -> x through ``depth`` ReLU layers of ``hidden_dim`` units (linear output, unbounded)."""

    def __init__(self, latent_dim: int = 2, hidden_dim: int = 512, depth: int = 3, out_dim: int = 2) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.out_shape = (out_dim,)
        self.net = _mlp(latent_dim, hidden_dim, depth, out_dim, nn.ReLU)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """x -> one raw score per sample through ``depth`` ReLU layers (no sigmoid: losses take logits).

    Args:
        in_dim: size of x.
        hidden_dim: units of each hidden layer.
        depth: number of hidden layers.
        spectral_norm: divide every weight by its largest singular value (SN-GAN, Miyato et al., 2018).
    """

    def __init__(
        self, in_dim: int = 2, hidden_dim: int = 512, depth: int = 3, spectral_norm: bool = False
    ) -> None:
        super().__init__()
        self.net = _mlp(in_dim, hidden_dim, depth, 1, nn.ReLU)
        self.feature_dim = hidden_dim if depth else in_dim  # size of features(x)
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: Tensor) -> Tensor:
        """Activations of the last hidden layer (for feature matching)."""
        return self.net[:-1](x)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)
