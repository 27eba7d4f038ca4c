"""Relativistic average standard GAN (Jolicoeur-Martineau, "The relativistic discriminator: a key element
missing from standard GAN", ICLR 2019)."""

from __future__ import annotations

from torch import Tensor

from gan_lightning.losses import relativistic_average_discriminator_loss, relativistic_average_generator_loss
from gan_lightning.module import GANModule


class RaSGAN(GANModule):
    """D minimises E_x[softplus(-(C(x) - E C(G(z))))] + E_z[softplus(C(G(z)) - E C(x))]: every sample is
    compared with the batch average of the other kind, not with one partner; G minimises the same with real
    and fake swapped. Paper defaults: Adam 2e-4, betas (0.5, 0.999), n_critic 1.
    """

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_logits, fake_logits = self.critic(real, labels), self.critic(fake, labels)
        return {
            "loss": relativistic_average_discriminator_loss(real_logits, fake_logits),
            "real_logit": real_logits.mean(),
            "fake_logit": fake_logits.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_logits = self.critic(real, labels).detach()  # D is frozen in this phase
        return {"loss": relativistic_average_generator_loss(real_logits, self.critic(fake, labels))}
