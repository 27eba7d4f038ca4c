"""Relativistic standard GAN (Jolicoeur-Martineau, "The relativistic discriminator: a key element missing
from standard GAN", ICLR 2019)."""

from __future__ import annotations

from torch import Tensor

from gan_lightning.losses import relativistic_pairing_discriminator_loss, relativistic_pairing_generator_loss
from gan_lightning.module import GANModule


class RSGAN(GANModule):
    """D minimises E[softplus(C(G(z)) - C(x))] over pairs of a real and a generated sample; G minimises
    E[softplus(C(x) - C(G(z)))]. The critic judges whether real data is more realistic than fake data, so G
    also learns from pushing C(x) down, which the standard GAN ignores. Paper defaults: Adam 2e-4,
    betas (0.5, 0.999), n_critic 1.
    """

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_logits, fake_logits = self.critic(real, labels), self.critic(fake, labels)
        return {
            "loss": relativistic_pairing_discriminator_loss(real_logits, fake_logits),
            "real_logit": real_logits.mean(),
            "fake_logit": fake_logits.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_logits = self.critic(real, labels).detach()  # D is frozen in this phase
        return {"loss": relativistic_pairing_generator_loss(real_logits, self.critic(fake, labels))}
