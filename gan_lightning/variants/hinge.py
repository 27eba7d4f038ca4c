"""Hinge-loss GAN as in SN-GAN (Miyato et al., 2018, arXiv:1802.05957; Lim & Ye, 2017, arXiv:1705.02894)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.losses import hinge_discriminator_loss, hinge_generator_loss
from gan_lightning.module import GANModule


class HingeGAN(GANModule):
    """Hinge-loss GAN (SN-GAN's objective): a margin loss for D, -E[D(G(z))] for G.

    D minimises E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (it maximises a margin between real and fake
    scores); G minimises -E[D(G(z))]. SN-GAN is this objective with ``spectral_norm: true`` on the
    discriminator (a network switch, so any objective can use it). Defaults of the hinge-loss experiments of
    Miyato et al. and Miyato & Koyama (2018): Adam lr 2e-4, betas (0, 0.9), n_critic = 5.
    """

    default_optimizer = (torch.optim.Adam, {"lr": 2e-4, "betas": (0.0, 0.9)})

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, n_critic: int = 5, **kwargs: Any
    ) -> None:
        super().__init__(generator, discriminator, n_critic=n_critic, **kwargs)

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        real_scores, fake_scores = self.critic(real, labels), self.critic(fake, labels)
        return {
            "loss": hinge_discriminator_loss(real_scores, fake_scores),
            "real_score": real_scores.mean(),
            "fake_score": fake_scores.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        return {"loss": hinge_generator_loss(self.critic(fake, labels))}
