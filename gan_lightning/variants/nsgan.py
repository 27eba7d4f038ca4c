"""The original GAN with the non-saturating generator loss (Goodfellow et al., 2014, arXiv:1406.2661)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gan_lightning.losses import label_smoothed_discriminator_loss, nonsaturating_generator_loss
from gan_lightning.module import GANModule


class NSGAN(GANModule):
    """D maximises E[log D(x)] + E[log(1 - D(G(z)))]; G maximises E[log D(G(z))] instead of minimising
    E[log(1 - D(G(z)))], which has the same fixed point but strong gradients early on. Adam lr 2e-4,
    betas (0.5, 0.999) as DCGAN (Radford et al., 2016).

    Args:
        real_label: D's target on real samples; 0.9 is one-sided label smoothing (Salimans et al., 2016).
    """

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, real_label: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(generator, discriminator, **kwargs)
        if not 0.0 < real_label <= 1.0:
            raise ValueError(f"model.real_label must be in (0, 1], got {real_label}")
        self.real_label = real_label

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_logits, fake_logits = self.critic(real, labels), self.critic(fake, labels)
        return {
            "loss": label_smoothed_discriminator_loss(real_logits, fake_logits, self.real_label),
            "real_logit": real_logits.mean(),
            "fake_logit": fake_logits.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        return {"loss": nonsaturating_generator_loss(self.critic(fake, labels))}
