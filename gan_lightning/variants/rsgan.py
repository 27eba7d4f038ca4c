"""Relativistic standard GAN (Jolicoeur-Martineau, "The relativistic discriminator: a key element missing
from standard GAN", ICLR 2019)."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from gan_lightning.losses import relativistic_pairing_discriminator_loss, relativistic_pairing_generator_loss
from gan_lightning.module import GANModule

RelativisticLoss = Callable[[Tensor, Tensor], Tensor]  # (critic on real, critic on fake) -> loss


class RSGAN(GANModule):
    """D minimises E[softplus(C(G(z)) - C(x))] over pairs of a real and a generated sample; G minimises
    E[softplus(C(x) - C(G(z)))]. The critic judges whether real data is more realistic than fake data, so G
    also learns from pushing C(x) down, which the standard GAN ignores. Paper defaults: Adam 2e-4,
    betas (0.5, 0.999), n_critic 1.

    The relativistic variants differ only in their two losses of (C(x), C(G(z))), class attributes here.
    """

    relativistic_d_loss: RelativisticLoss = staticmethod(relativistic_pairing_discriminator_loss)
    relativistic_g_loss: RelativisticLoss = staticmethod(relativistic_pairing_generator_loss)

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_out, fake_out = self.critic(real, labels), self.critic(fake, labels)
        return {
            "loss": self.relativistic_d_loss(real_out, fake_out),
            "real_score": real_out.mean(),
            "fake_score": fake_out.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_out = self.critic(real, labels).detach()  # D is frozen in this phase
        return {"loss": self.relativistic_g_loss(real_out, self.critic(fake, labels))}
