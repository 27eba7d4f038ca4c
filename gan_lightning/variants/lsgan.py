"""Least-squares GAN (Mao et al., 2017, arXiv:1611.04076)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gan_lightning.losses import least_squares_discriminator_loss, least_squares_generator_loss
from gan_lightning.module import GANModule


class LSGAN(GANModule):
    """D minimises 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]; G minimises 1/2 E[(D(G(z)) - c)^2].

    With b - c = 1 and b - a = 2, e.g. the default (a, b, c) = (-1, 1, 0), G minimises the Pearson
    chi-squared divergence chi2(p_data + p_g || 2 p_g) (Mao et al., Theorem 1); (0, 1, 1) asks G to make
    samples D scores as real. Adam lr 2e-4, betas (0.5, 0.999).

    Args:
        a: target score of fake samples for D.
        b: target score of real samples for D.
        c: score G wants D to give its samples.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        a: float = -1.0,
        b: float = 1.0,
        c: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, discriminator, **kwargs)
        self.a, self.b, self.c = a, b, c

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_scores, fake_scores = self.critic(real, labels), self.critic(fake, labels)
        return {
            "loss": least_squares_discriminator_loss(real_scores, fake_scores, self.a, self.b),
            "real_score": real_scores.mean(),
            "fake_score": fake_scores.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        return {"loss": least_squares_generator_loss(self.critic(fake, labels), self.c)}
