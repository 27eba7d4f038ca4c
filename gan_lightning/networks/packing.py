"""PacGAN (Lin, Khetan, Fanti & Oh, 2018, "PacGAN: The power of two samples in generative adversarial networks",
arXiv:1712.04086): the discriminator judges packs of m samples, all real or all fake, instead of single samples.

A pack of m independent samples is distributed as P^m; the paper shows that packing amplifies the total-variation
distance between P^m and Q^m most for a generator that misses mass (mode collapse), so the discriminator penalises
missing modes more than it penalises small errors spread over all of them. Only the discriminator changes: its
first layer takes m times the input (m * 2 features on the 2D toys, m * channels for images); the losses and the
generator are untouched, and every loss averages over the packs.
"""

from __future__ import annotations

from torch import Tensor, nn


class PackedDiscriminator(nn.Module):
    """Any unconditional discriminator applied to packs: (N, C, ...) -> (N / m, m * C, ...) -> N / m scores.

    Consecutive samples form a pack (the data loader shuffles, fakes are independent), concatenated along the
    first non-batch dimension: features of vectors, channels of images, as in the authors' code. The batch size
    must be a multiple of ``pack``.

    Args:
        discriminator: the network judging one pack; its input has ``pack`` times the data's first dimension,
            e.g. ``MLPDiscriminator(in_dim=4)`` for packs of two 2D points, ``DCGANDiscriminator(channels=2)``
            for packs of two MNIST digits.
        pack: m, the number of samples in a pack (the paper's PacGAN2 and PacGAN4: 2 and 4).
    """

    num_classes = 0  # packing mixes samples of different classes: conditional discriminators are refused

    def __init__(self, discriminator: nn.Module, pack: int = 2) -> None:
        super().__init__()
        if pack < 1:
            raise ValueError(f"model.discriminator.pack must be at least 1, got {pack}")
        if getattr(discriminator, "num_classes", 0):
            raise ValueError("model.discriminator: PackedDiscriminator takes an unconditional discriminator")
        self.discriminator, self.pack = discriminator, pack
        if hasattr(discriminator, "feature_dim"):
            self.feature_dim = discriminator.feature_dim

    def packed(self, x: Tensor) -> Tensor:
        """(N, C, ...) -> (N / pack, pack * C, ...): samples pack*i .. pack*i + pack - 1 form pack i."""
        if x.shape[0] % self.pack:
            raise ValueError(
                f"PackedDiscriminator: a batch of {x.shape[0]} samples does not split into packs of {self.pack}; "
                "make data.batch_size a multiple of the pack size"
            )
        return x.reshape(x.shape[0] // self.pack, self.pack * x.shape[1], *x.shape[2:])

    def features(self, x: Tensor) -> Tensor:
        """The wrapped network's features of each pack (for feature matching)."""
        return self.discriminator.features(self.packed(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.discriminator(self.packed(x))
