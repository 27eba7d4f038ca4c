"""GAN objectives as pure functions of critic outputs (logits or scores), one pair per game.

Every function returns the quantity its network *minimises*, averaged over the batch. Inputs are the raw
outputs of the discriminator (no sigmoid), so each loss is written in its numerically stable form.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def nonsaturating_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))] with D = sigmoid(logit) (Goodfellow et al., 2014, eq. 1).

    log D = -softplus(-l) and log(1 - D) = -softplus(l), so the loss stays finite at any logit.
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def nonsaturating_generator_loss(fake_logits: Tensor) -> Tensor:
    """-E[log D(G(z))]: the non-saturating generator loss (Goodfellow et al., 2014, section 3)."""
    return F.softplus(-fake_logits).mean()


def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E[f(G(z))] - E[f(x)]: minus the Kantorovich-Rubinstein dual estimate of W1 (Arjovsky et al., 2017)."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """-E[f(G(z))] (Arjovsky et al., 2017, Algorithm 1)."""
    return -fake_scores.mean()


def least_squares_discriminator_loss(real_scores: Tensor, fake_scores: Tensor, a: float, b: float) -> Tensor:
    """1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2] (Mao et al., 2017, eq. 2)."""
    return 0.5 * (real_scores - b).pow(2).mean() + 0.5 * (fake_scores - a).pow(2).mean()


def least_squares_generator_loss(fake_scores: Tensor, c: float) -> Tensor:
    """1/2 E[(D(G(z)) - c)^2] (Mao et al., 2017, eq. 2)."""
    return 0.5 * (fake_scores - c).pow(2).mean()
