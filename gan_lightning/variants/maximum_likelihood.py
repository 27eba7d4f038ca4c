"""GAN with the maximum-likelihood generator loss (Goodfellow, 2016, NIPS tutorial, arXiv:1701.00160,
3.2.3)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gan_lightning.losses import maximum_likelihood_generator_loss
from gan_lightning.variants.nsgan import NSGAN


class MaximumLikelihoodGAN(NSGAN):
    """GAN whose generator minimises E[-exp(logit D(G(z)))], the maximum-likelihood generator loss.

    D maximises E[log D(x)] + E[log(1 - D(G(z)))] (NSGAN's loss); G minimises E[-exp(logit D(G(z)))].

    With D optimal, exp(logit) = p_data / p_g, so G's expected gradient is that of KL(p_data || p_g): maximum
    likelihood (the tutorial's section 3.2.3; also "Everything abut GANs: Model, Training and Beyond"). The
    exponential weights samples D already believes strongly, so the gradient has high variance. Adam lr 2e-4,
    betas (0.5, 0.999) as DCGAN.

    Args:
        max_logit: above this logit exp is continued by its tangent line, keeping the loss finite.
    """

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, max_logit: float = 50.0, **kwargs: Any
    ) -> None:
        if not max_logit > 0:  # `not >`: NaN fails too
            raise ValueError(f"model.max_logit must be positive, got {max_logit}")
        super().__init__(generator, discriminator, **kwargs)
        self.max_logit = max_logit

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        logits = self.critic(fake, labels)
        return {
            "loss": maximum_likelihood_generator_loss(logits, self.max_logit),
            "fake_logit": logits.mean(),
        }
