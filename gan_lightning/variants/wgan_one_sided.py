"""WGAN with a one-sided gradient penalty (Gulrajani et al., 2017, section 4; Petzka et al., 2018)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gan_lightning.losses import wasserstein_critic_loss
from gan_lightning.penalties import one_sided_gradient_penalty
from gan_lightning.variants.wgan_gp import WGANGP


class WGANOneSided(WGANGP):
    """WGAN with the one-sided gradient penalty lambda E[max(0, ||grad D|| - 1)] or its square (WGAN-LP).

    The critic minimises E[D(G(z))] - E[D(x)] + lambda E[max(0, ||grad D(x_hat)|| - 1)] (or, with
    ``squared``, lambda E[max(0, ||grad D(x_hat)|| - 1)^2], WGAN-LP of Petzka et al., 2018, arXiv:1709.08894)
    on the interpolates of WGAN-GP; the generator minimises -E[D(G(z))]. Only slopes above 1 are penalised:
    the Lipschitz constraint asks no more, and Gulrajani et al. report the two-sided form works as well in
    practice. Defaults as WGAN-GP: lambda = 10, n_critic = 5, Adam lr 1e-4, betas (0, 0.9); no batch norm in
    the critic.

    Args:
        squared: penalise the squared excess slope (WGAN-LP) instead of the excess itself.
    """

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, squared: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(generator, discriminator, **kwargs)
        self.squared = squared

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        wasserstein = wasserstein_critic_loss(self.critic(real, labels), self.critic(fake, labels))
        penalty = one_sided_gradient_penalty(
            lambda x: self.critic(x, labels), real, fake, squared=self.squared
        )
        return {
            "loss": wasserstein + self.gp_weight * penalty,
            "wasserstein": -wasserstein,
            "one_sided_penalty": penalty,
        }
