"""DRAGAN (Kodali, Abernethy, Hays & Kira, 2017, arXiv:1705.07215): a gradient penalty around the real
data."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.penalties import dragan_penalty, has_batch_norm
from gan_lightning.variants.nsgan import NSGAN


class DRAGAN(NSGAN):
    """DRAGAN: the non-saturating GAN plus a gradient penalty around perturbed real data.

    D minimises the non-saturating GAN loss + lambda E[(||grad D(x + alpha delta)|| - 1)^2] with
    delta = 0.5 std(x) U[0, 1] and alpha ~ U[0, 1] per sample (the authors' code); G minimises -E[log
    D(G(z))]. Penalising sharp gradients only near the data counters the local equilibria that cause mode
    collapse. Defaults of the authors' code: lambda = 10, Adam lr 1e-4, betas (0.5, 0.9). No batch norm in D
    (per-sample gradients). ``real_label`` as :class:`NSGAN`.

    Args:
        dragan_weight: lambda, the weight of the penalty.
        perturbation_scale: the 0.5 in delta = 0.5 std(x) U[0, 1].
    """

    default_optimizer = (torch.optim.Adam, {"lr": 1e-4, "betas": (0.5, 0.9)})

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        dragan_weight: float = 10.0,
        perturbation_scale: float = 0.5,
        **kwargs: Any,
    ) -> None:
        if not dragan_weight >= 0:  # `not >=`: NaN fails too
            raise ValueError(f"model.dragan_weight must be >= 0, got {dragan_weight}")
        if not perturbation_scale >= 0:
            raise ValueError(f"model.perturbation_scale must be >= 0, got {perturbation_scale}")
        super().__init__(generator, discriminator, **kwargs)
        if has_batch_norm(discriminator):
            raise ValueError(
                "model.discriminator uses batch norm, which the per-sample DRAGAN penalty forbids: "
                "set its norm to 'layer' or 'none'"
            )
        self.dragan_weight, self.perturbation_scale = dragan_weight, perturbation_scale

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        terms = super().discriminator_loss(real, fake, labels)
        penalty = dragan_penalty(lambda x: self.critic(x, labels), real, self.perturbation_scale)
        return {**terms, "loss": terms["loss"] + self.dragan_weight * penalty, "dragan_penalty": penalty}
