"""WGAN with weight clipping (Arjovsky, Chintala & Bottou, 2017, arXiv:1701.07875), Algorithm 1."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.losses import wasserstein_critic_loss, wasserstein_generator_loss
from gan_lightning.module import GANModule


class WGAN(GANModule):
    """WGAN: the critic's weights are clipped to [-c, c] after every critic step (Arjovsky et al., 2017).

    The critic maximises E[f(x)] - E[f(G(z))] over f with weights in [-c, c] (a crude K-Lipschitz set); the
    generator minimises -E[f(G(z))]. Defaults of Algorithm 1: c = 0.01, n_critic = 5, RMSprop lr 5e-5; no
    sigmoid on the critic, whose batch norm is allowed (the paper uses DCGAN's). Every critic parameter
    (batch-norm scales included, as the authors' code) is clamped after each critic step. The paper's 100
    critic steps at the start are not reproduced.

    Args:
        clip_value: c, the bound on every critic parameter.
    """

    default_optimizer = (torch.optim.RMSprop, {"lr": 5e-5})

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        n_critic: int = 5,
        clip_value: float = 0.01,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, discriminator, n_critic=n_critic, **kwargs)
        if not 0 < clip_value < math.inf:  # NaN fails too
            raise ValueError(f"model.clip_value must be a finite positive number, got {clip_value}")
        self.clip_value = clip_value

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        loss = wasserstein_critic_loss(self.critic(real, labels), self.critic(fake, labels))
        return {"loss": loss, "wasserstein": -loss}

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        return {"loss": wasserstein_generator_loss(self.critic(fake, labels))}

    @torch.no_grad()
    def after_discriminator_step(self) -> None:
        for p in self.discriminator.parameters():
            p.clamp_(-self.clip_value, self.clip_value)
