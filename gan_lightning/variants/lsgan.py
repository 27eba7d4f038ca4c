"""Least-squares GAN (Mao et al., 2017, arXiv:1611.04076), with an optional mean-matching regulariser.

Mean matching comes from the LSGAN report "对 Least Squares GAN 的思考与改进" (PKU 2020).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.losses import (
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    mean_matching_loss,
)
from gan_lightning.module import GANModule


class LSGAN(GANModule):
    """D minimises 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]; G minimises 1/2 E[(D(G(z)) - c)^2].

    With b - c = 1 and b - a = 2, e.g. the default (a, b, c) = (-1, 1, 0), G minimises the Pearson
    chi-squared divergence chi2(p_data + p_g || 2 p_g) (Mao et al., Theorem 1); (0, 1, 1) asks G to make
    samples D scores as real. Adam lr 2e-4, betas (0.5, 0.999). Presets: configs ``lsgan`` (-1, 1, 0)
    and ``lsgan_binary`` (0, 1, 1).

    Mean matching (the LSGAN report "对 Least Squares GAN 的思考与改进", PKU 2020): G minimises
    1/2 E[(D(G(z)) - c)^2] + lambda (E[D(G(z))] - E[D(x)])^2, the real scores held constant. Where the supports of p_data and
    p_g do not overlap the optimal D is flat around each sample and the least-squares gradient vanishes; the
    mean-matching term keeps one. The report gives no lambda; 0 (the default) is plain LSGAN.

    Args:
        a: target score of fake samples for D.
        b: target score of real samples for D.
        c: score G wants D to give its samples.
        mean_matching_weight: lambda of the mean-matching term.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        a: float = -1.0,
        b: float = 1.0,
        c: float = 0.0,
        mean_matching_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if not mean_matching_weight >= 0:  # `not >=`: NaN fails too
            raise ValueError(f"model.mean_matching_weight must be >= 0, got {mean_matching_weight}")
        super().__init__(generator, discriminator, **kwargs)
        self.a, self.b, self.c = a, b, c
        self.mean_matching_weight = mean_matching_weight

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_scores, fake_scores = self.critic(real, labels), self.critic(fake, labels)
        return {
            "loss": least_squares_discriminator_loss(real_scores, fake_scores, self.a, self.b),
            "real_score": real_scores.mean(),
            "fake_score": fake_scores.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        fake_scores = self.critic(fake, labels)
        least_squares = least_squares_generator_loss(fake_scores, self.c)
        if not self.mean_matching_weight:
            return {"loss": least_squares}
        with torch.no_grad():  # E[D(x)] is a constant for G
            real_scores = self.critic(real, labels)
        matching = mean_matching_loss(real_scores, fake_scores)
        return {
            "loss": least_squares + self.mean_matching_weight * matching,
            "least_squares": least_squares,
            "mean_matching": matching,
        }
