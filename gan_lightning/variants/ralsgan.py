"""Relativistic average least-squares GAN (Jolicoeur-Martineau, "The relativistic discriminator: a key
element missing from standard GAN", ICLR 2019)."""

from __future__ import annotations

from torch import Tensor

from gan_lightning.losses import (
    relativistic_average_least_squares_discriminator_loss,
    relativistic_average_least_squares_generator_loss,
)
from gan_lightning.module import GANModule


class RaLSGAN(GANModule):
    """D minimises E_x[(C(x) - E C(G(z)) - 1)^2] + E_z[(C(G(z)) - E C(x) + 1)^2]; G minimises
    E_z[(C(G(z)) - E C(x) - 1)^2] + E_x[(C(x) - E C(G(z)) + 1)^2]. Paper defaults: Adam 2e-4,
    betas (0.5, 0.999), n_critic 1.
    """

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_scores, fake_scores = self.critic(real, labels), self.critic(fake, labels)
        return {
            "loss": relativistic_average_least_squares_discriminator_loss(real_scores, fake_scores),
            "real_score": real_scores.mean(),
            "fake_score": fake_scores.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_scores = self.critic(real, labels).detach()  # D is frozen in this phase
        fake_scores = self.critic(fake, labels)
        return {"loss": relativistic_average_least_squares_generator_loss(real_scores, fake_scores)}
