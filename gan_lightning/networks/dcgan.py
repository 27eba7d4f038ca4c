"""DCGAN networks (Radford et al., 2016) for 28x28, 32x32 and 64x64 images.

The generator starts from a 7x7 (28) or 4x4 (32, 64) map and doubles it with strided transposed convolutions;
the discriminator mirrors it with strided convolutions and LeakyReLU(0.2). Weights follow DCGAN's
initialisation: N(0, 0.02) for convolutions, N(1, 0.02) for normalisation scales, zero biases.
"""

from __future__ import annotations

import math
from typing import Literal

from torch import Tensor, nn

from gan_lightning.networks.spectral import apply_spectral_norm

Norm = Literal["batch", "layer", "instance", "none"]


def _start_size(image_size: int) -> tuple[int, int]:
    """(start resolution, number of doublings) for a supported image size."""
    if image_size < 8:  # log2 of 0 or a negative size: math domain error
        raise ValueError(f"image_size must be 28 or a power of two >= 8 (e.g. 32, 64), got {image_size}")
    start = 7 if image_size % 7 == 0 else 4
    doublings = math.log2(image_size / start)
    if not doublings.is_integer() or doublings < 1:
        raise ValueError(f"image_size must be 28 or a power of two >= 8 (e.g. 32, 64), got {image_size}")
    return start, int(doublings)


def _norm(kind: Norm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # normalise over (C, H, W) per sample: safe with gradient penalties
        return nn.GroupNorm(1, channels)
    if kind == "instance":
        return nn.GroupNorm(channels, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of batch, layer, instance, none; got {kind!r}")


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation, applied to every submodule."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm, nn.BatchNorm1d)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """z (B, latent_dim) -> image (B, channels, image_size, image_size) in [-1, 1] (tanh output).

    Args:
        latent_dim: size of z.
        image_size: 28, 32 or 64 (any size = 7 or 4 times a power of two).
        channels: image channels (1 for MNIST, 3 for CelebA).
        width: channels of the last hidden layer; earlier layers double it at each lower resolution.
    """

    def __init__(
        self, latent_dim: int = 100, image_size: int = 28, channels: int = 1, width: int = 64
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.out_shape = (channels, image_size, image_size)
        start, doublings = _start_size(image_size)
        top = width * 2 ** (doublings - 1)
        self.project = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, top, start, 1, 0, bias=False), nn.BatchNorm2d(top), nn.ReLU(True)
        )
        layers: list[nn.Module] = []
        c = top
        for _ in range(doublings - 1):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c // 2),
                nn.ReLU(True),
            ]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: Tensor) -> Tensor:
        return self.body(self.project(z.view(z.shape[0], -1, 1, 1)))


class DCGANDiscriminator(nn.Module):
    """image -> one raw score per sample (no sigmoid).

    Args:
        image_size: 28, 32 or 64.
        channels: image channels.
        width: channels of the first convolution; each later one doubles it.
        norm: normalisation after every convolution but the first. ``batch`` is DCGAN's; WGAN-GP's gradient
            penalty is per sample and so forbids batch norm in the critic: use ``layer`` (the paper's choice)
            or ``none`` there.
        spectral_norm: divide every weight by its largest singular value (SN-GAN, Miyato et al., 2018),
            usually with ``norm: none``.
    """

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        width: int = 64,
        norm: Norm = "batch",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        start, doublings = _start_size(image_size)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(doublings - 1):
            layers += [
                nn.Conv2d(c, c * 2, 4, 2, 1, bias=norm == "none"),
                _norm(norm, c * 2),
                nn.LeakyReLU(0.2, True),
            ]
            c *= 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(c, 1, start, 1, 0)
        self.feature_dim = c * start * start  # size of features(x)
        self.apply(dcgan_init)
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: Tensor) -> Tensor:
        """Flattened activations before the last layer (for feature matching and minibatch discrimination)."""
        return self.body(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x)).flatten()
