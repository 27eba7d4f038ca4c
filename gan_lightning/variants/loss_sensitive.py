"""Loss-Sensitive GAN (Qi, 2017, "Loss-Sensitive Generative Adversarial Networks on Lipschitz Densities",
arXiv:1701.06264), following the author's code (github.com/guojunq/lsgan, lsgan.lua) for its defaults."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.losses import (
    Distance,
    loss_sensitive_critic_loss,
    loss_sensitive_generator_loss,
    sample_distance,
)
from gan_lightning.module import GANModule
from gan_lightning.penalties import gradient_penalty


class LossSensitiveGAN(GANModule):
    """Loss-Sensitive GAN: a learned loss L(x) >= 0 must rate each sample a distance-scaled margin above data.

    The critic is a loss function L = softplus(D) >= 0 that must give every generated sample a loss at least
    a data-dependent margin Delta(x, G(z)) above the loss of the real sample it is paired with: L minimises
    real_weight * E[L(x)] + E[(Delta(x, G(z)) + L(x) - L(G(z)))_+], Delta = margin_scale * ||x - G(z)||_1;
    the generator minimises E[L(G(z))]. The margin shrinks as samples approach data, so L need not keep
    separating samples that are already close (the paper's argument for Lipschitz losses).

    The paper writes the critic objective as E[L(x)] + lambda E[(...)_+]; real_weight is 1 / lambda. The
    author's code sets it to 0 (its ``gamma``), since the first term can be dropped for the unconditional
    model, and scales the L1 distance of 64x64x3 images by 0.0002 (its ``lambda``, the paper's margin
    scale); Adam lr 1e-4, betas (0.5, 0.999); Lipschitz regularity from weight decay (0 by default there).
    The code's L is ReLU(D); softplus keeps L >= 0 without the dead zone where a negative score gives
    neither network a gradient (on the ring, three seeds of four never moved with ReLU). ``gp_weight``
    adds the WGAN-GP penalty E[(||grad D(x_hat)|| - 1)^2] on the raw score (0 by default).

    Args:
        margin_scale: the factor on ||x - G(z)|| in Delta (scale it with the data's dimension).
        distance: ``l1`` (the paper's and code's choice) or ``l2``.
        real_weight: weight of E[L(x)] in the critic loss (1 / the paper's lambda).
        gp_weight: weight of a gradient penalty on interpolates (0: none).
    """

    critic_scores_real_high = False  # an energy / a loss: low on data (TopKGenerator refuses it)

    default_optimizer = (torch.optim.Adam, {"lr": 1e-4, "betas": (0.5, 0.999)})

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        margin_scale: float = 0.0002,
        distance: Distance = "l1",
        real_weight: float = 0.0,
        gp_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, discriminator, **kwargs)
        if distance not in ("l1", "l2"):
            raise ValueError(f"model.distance must be 'l1' or 'l2', got {distance!r}")
        if margin_scale < 0 or real_weight < 0 or gp_weight < 0:
            raise ValueError("model.margin_scale, model.real_weight and model.gp_weight must be >= 0")
        self.margin_scale, self.distance = margin_scale, distance
        self.real_weight, self.gp_weight = real_weight, gp_weight

    def loss_function(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """L(x) = softplus(D(x)) >= 0 per sample (the author's code uses ReLU; see the class docstring)."""
        return F.softplus(self.critic(x, labels))

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        # L maximises -E[(Delta + L(x) - L(G(z)))_+]: samples rated a margin above their paired data.
        real_loss, fake_loss = self.loss_function(real, labels), self.loss_function(fake, labels)
        margin = self.margin_scale * sample_distance(real, fake, self.distance)
        loss = loss_sensitive_critic_loss(real_loss, fake_loss, margin, self.real_weight)
        terms = {"loss": loss, "margin": margin.mean()}
        if self.gp_weight:
            penalty = gradient_penalty(lambda x: self.critic(x, labels), real, fake)
            terms.update(loss=loss + self.gp_weight * penalty, gradient_penalty=penalty)
        return terms

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        # The generator maximises -E[L(G(z))]: samples the learned loss rates as close to data.
        return {"loss": loss_sensitive_generator_loss(self.loss_function(fake, labels))}
