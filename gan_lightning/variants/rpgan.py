"""RpGAN + R1 + R2: R3GAN's objective (Huang, Gokaslan, Kuleshov, Tompkin, "The GAN is dead; long live the
GAN! A Modern GAN Baseline", NeurIPS 2024)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gan_lightning.techniques import R1R2Penalty
from gan_lightning.variants.rsgan import RSGAN


class RpGAN(RSGAN):
    """The relativistic pairing loss of :class:`RSGAN` with zero-centred penalties on both real (R1) and
    generated (R2) samples, gamma / 2 E||grad D||^2 each. Huang et al. show that this pairing removes the
    mode-dropping optima of the standard GAN's loss landscape, and that R1 + R2 makes its training locally
    convergent. Their defaults: Adam betas (0, 0.99); gamma depends on the data (they use 0.05 to 2 for
    CIFAR-10 to FFHQ-64 at their networks' scale).

    Args:
        gamma: gamma of R1 and of R2.
        penalty_every: lazy interval of the penalties (see :class:`~gan_lightning.techniques.R1R2Penalty`).
    """

    default_optimizer = (torch.optim.Adam, {"lr": 2e-4, "betas": (0.0, 0.99)})

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        gamma: float = 1.0,
        penalty_every: int = 1,
        **kwargs: Any,
    ) -> None:
        if not gamma > 0:  # `not >`: NaN fails too
            raise ValueError(f"model.gamma must be positive, got {gamma}")
        techniques = [R1R2Penalty(gamma, gamma, penalty_every), *(kwargs.pop("techniques", None) or [])]
        super().__init__(generator, discriminator, techniques=techniques, **kwargs)
        self.gamma = gamma
