"""Autoencoder discriminators for EBGAN (Zhao, Mathieu and LeCun, 2017, arXiv:1609.03126, section 2.3).

The energy of a sample is its reconstruction error, D(x) = ||Dec(Enc(x)) - x||^2 / n (mean squared error over
the n features of one sample, as the paper's MSE criterion). ``forward`` returns one energy per sample, shape
``(B,)``, so an autoencoder plugs in wherever a discriminator does; ``encode`` exposes the codes that EBGAN's
pulling-away term needs, ``decode`` and ``reconstruct`` the way back.
"""

from __future__ import annotations

from torch import Tensor, nn

from gan_lightning.networks.dcgan import Norm, _norm, dcgan_init


def reconstruction_energy(x: Tensor, reconstruction: Tensor) -> Tensor:
    """Mean squared error per sample: ((reconstruction - x)^2).mean over all but the batch dimension."""
    return (reconstruction - x).pow(2).flatten(1).mean(1)


class _Autoencoder(nn.Module):
    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: Tensor) -> Tensor:
        """Enc(x), the code of each sample."""
        return self.encoder(x)

    def decode(self, code: Tensor) -> Tensor:
        """Dec(code), a sample of the input's shape."""
        return self.decoder(code)

    def reconstruct(self, x: Tensor) -> Tensor:
        """Dec(Enc(x))."""
        return self.decode(self.encode(x))

    def energy_and_code(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(energy (B,), code) from one pass, for losses that need both."""
        code = self.encode(x)
        return reconstruction_energy(x, self.decode(code)), code

    def forward(self, x: Tensor) -> Tensor:
        return reconstruction_energy(x, self.reconstruct(x))


class MLPAutoencoder(_Autoencoder):
    """x (B, in_dim) -> code (B, code_dim) -> reconstruction, through ``depth`` ReLU layers each way.

    Args:
        in_dim: size of a sample (2 for the toy sets).
        hidden_dim: units of the hidden layers.
        depth: hidden layers in the encoder (and, mirrored, in the decoder).
        code_dim: size of the code.
    """

    def __init__(self, in_dim: int = 2, hidden_dim: int = 256, depth: int = 2, code_dim: int = 16) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        widths = [in_dim] + [hidden_dim] * depth
        encoder: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            encoder += [nn.Linear(a, b), nn.ReLU()]
        self.encoder = nn.Sequential(*encoder, nn.Linear(hidden_dim, code_dim))
        decoder: list[nn.Module] = []
        for a, b in zip([code_dim] + [hidden_dim] * (depth - 1), [hidden_dim] * depth, strict=True):
            decoder += [nn.Linear(a, b), nn.ReLU()]
        self.decoder = nn.Sequential(*decoder, nn.Linear(hidden_dim, in_dim))


class ConvAutoencoder(_Autoencoder):
    """image (B, C, S, S) -> code (B, width * 2^(depth-1), S / 2^depth, S / 2^depth) -> reconstruction.

    The encoder is ``depth`` strided 4x4 convolutions doubling the channels (LeakyReLU 0.2), the decoder the
    mirror image with transposed convolutions (ReLU) and a linear last layer: the reconstruction is unbounded
    so that the energy of a poor sample can exceed any margin. With ``depth=3`` and ``width=64`` on 64x64
    images this is the paper's LSUN/CelebA autoencoder: (64)4c2s-(128)4c2s-(256)4c2s and its mirror.

    Args:
        image_size: side of the images; must be divisible by 2^depth (28 with depth 2; 32 or 64 with 3).
        channels: image channels.
        width: channels of the first convolution; each later one doubles it.
        depth: number of stride-2 convolutions in the encoder.
        norm: normalisation after every convolution but the first and the last (batch, layer, instance, none).
    """

    def __init__(
        self, image_size: int = 28, channels: int = 1, width: int = 64, depth: int = 2, norm: Norm = "none"
    ) -> None:
        super().__init__()
        if depth < 1 or image_size % 2**depth:
            raise ValueError(f"image_size ({image_size}) must be divisible by 2^depth (depth={depth})")
        encoder: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(depth - 1):
            encoder += [nn.Conv2d(c, c * 2, 4, 2, 1), _norm(norm, c * 2), nn.LeakyReLU(0.2, True)]
            c *= 2
        self.encoder = nn.Sequential(*encoder)
        decoder: list[nn.Module] = []
        for _ in range(depth - 1):
            decoder += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), _norm(norm, c // 2), nn.ReLU(True)]
            c //= 2
        self.decoder = nn.Sequential(*decoder, nn.ConvTranspose2d(c, channels, 4, 2, 1))
        self.apply(dcgan_init)
