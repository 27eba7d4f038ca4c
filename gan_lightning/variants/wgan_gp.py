"""WGAN with gradient penalty (Gulrajani et al., 2017, arXiv:1704.00028), exactly Algorithm 1."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.losses import wasserstein_critic_loss, wasserstein_generator_loss
from gan_lightning.module import GANModule
from gan_lightning.penalties import gradient_penalty, has_batch_norm


class WGANGP(GANModule):
    """The critic minimises E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)|| - 1)^2] on interpolates
    x_hat = eps x + (1 - eps) G(z); the generator minimises -E[D(G(z))]. Defaults of Algorithm 1:
    lambda = 10, n_critic = 5, Adam lr 1e-4, betas (0, 0.9). The critic must not use batch norm.

    Args:
        gp_weight: lambda, the weight of the gradient penalty.
    """

    default_optimizer = (torch.optim.Adam, {"lr": 1e-4, "betas": (0.0, 0.9)})

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        n_critic: int = 5,
        gp_weight: float = 10.0,
        **kwargs: Any,
    ) -> None:
        if not gp_weight >= 0:  # `not >=`: NaN fails too
            raise ValueError(f"model.gp_weight must be >= 0, got {gp_weight}")
        super().__init__(generator, discriminator, n_critic=n_critic, **kwargs)
        if has_batch_norm(discriminator):
            raise ValueError(
                "model.discriminator uses batch norm, which the per-sample gradient penalty forbids: "
                "set its norm to 'layer' or 'none'"
            )
        self.gp_weight = gp_weight

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        wasserstein = wasserstein_critic_loss(self.critic(real, labels), self.critic(fake, labels))
        penalty = gradient_penalty(lambda x: self.critic(x, labels), real, fake)
        return {
            "loss": wasserstein + self.gp_weight * penalty,
            "wasserstein": -wasserstein,
            "gradient_penalty": penalty,
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        return {"loss": wasserstein_generator_loss(self.critic(fake, labels))}
