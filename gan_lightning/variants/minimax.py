"""The original minimax GAN, with the saturating generator loss (Goodfellow et al., 2014, arXiv:1406.2661)."""

from __future__ import annotations

from torch import Tensor

from gan_lightning.losses import minimax_generator_loss
from gan_lightning.variants.nsgan import NSGAN


class MinimaxGAN(NSGAN):
    """The minimax GAN: G minimises E[log(1 - D(G(z)))] (Goodfellow et al., 2014, eq. 1).

    min_G max_D E[log D(x)] + E[log(1 - D(G(z)))], the game of the paper played as written.

    D maximises the value (NSGAN's discriminator loss); G minimises E[log(1 - D(G(z)))] = -E[softplus(logit)],
    whose gradient vanishes when D rejects the samples confidently (the reason for the non-saturating loss).
    Adam lr 2e-4, betas (0.5, 0.999) as DCGAN; ``real_label`` as :class:`NSGAN`.
    """

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        return {"loss": minimax_generator_loss(self.critic(fake, labels))}
