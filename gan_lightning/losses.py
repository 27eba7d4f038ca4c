"""GAN objectives as pure functions of critic outputs (logits or scores), one pair per game.

Every function returns the quantity its network *minimises*, averaged over the batch. Inputs are the raw
outputs of the discriminator (no sigmoid), so each loss is written in its numerically stable form.
"""

from __future__ import annotations

import math

import torch
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


# ---------------------------------------------------------------- generator losses of the original GAN game
def minimax_generator_loss(fake_logits: Tensor) -> Tensor:
    """E[log(1 - D(G(z)))]: the saturating loss G minimises in the minimax game (Goodfellow et al., 2014, eq 1).

    log(1 - sigmoid(l)) = -softplus(l): finite at any logit; its gradient -sigmoid(l) vanishes as l -> -inf,
    which is why G learns slowly when D confidently rejects its samples.
    """
    return -F.softplus(fake_logits).mean()


def maximum_likelihood_generator_loss(fake_logits: Tensor, max_logit: float = 50.0) -> Tensor:
    """E[-exp(logit D(G(z)))] (Goodfellow, 2016, NIPS tutorial, arXiv:1701.00160, section 3.2.3).

    Under the optimal D, exp(logit) = p_data / p_g, so the expected gradient is that of KL(p_data || p_g).
    exp overflows float32 above a logit of about 88, so above ``max_logit`` the exponential is continued by
    its tangent line: the value and the gradient stay finite and the gradient keeps its sign.

    Args:
        fake_logits: raw critic outputs on generated samples.
        max_logit: where the exponential is continued linearly.
    """
    clamped = fake_logits.clamp(max=max_logit)
    ratio = torch.where(
        fake_logits > max_logit, math.exp(max_logit) * (1 + fake_logits - max_logit), clamped.exp()
    )
    return -ratio.mean()


def label_smoothed_discriminator_loss(
    real_logits: Tensor, fake_logits: Tensor, real_label: float = 0.9
) -> Tensor:
    """Cross-entropy of D with the real target smoothed to ``real_label`` and the fake target kept at 0.

    One-sided label smoothing (Salimans et al., 2016, section 3.4): -t log D(x) - (1 - t) log(1 - D(x))
    - log(1 - D(G(z))), i.e. t softplus(-l_real) + (1 - t) softplus(l_real) + softplus(l_fake). Smoothing only
    the real side keeps D's optimum from pushing generated samples that are far from the data.
    ``real_label = 1`` is :func:`nonsaturating_discriminator_loss`.
    """
    real = real_label * F.softplus(-real_logits) + (1 - real_label) * F.softplus(real_logits)
    return real.mean() + F.softplus(fake_logits).mean()


# ---------------------------------------------------------------- hinge (SN-GAN)
def hinge_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (Lim & Ye, 2017; Miyato et al., 2018, eq. 16)."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_generator_loss(fake_scores: Tensor) -> Tensor:
    """-E[D(G(z))] (Miyato et al., 2018, eq. 17)."""
    return -fake_scores.mean()


# ---------------------------------------------------------------- terms that other losses add
def mean_matching_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """(E[D(G(z))] - E[D(x)])^2 with the real scores held constant (seed 001: LSGAN's mean-matching term).

    The real mean is detached, so the term moves only G: its gradient does not vanish when the supports of
    p_data and p_g do not overlap and the least-squares term's gradient does.
    """
    return (fake_scores.mean() - real_scores.detach().mean()).pow(2)


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """||E[f(x)] - E[f(G(z))]||_2^2 over D's features f (Salimans et al., 2016, section 3.1).

    The real features are detached: they are the target G must match.
    """
    return (real_features.detach().flatten(1).mean(0) - fake_features.flatten(1).mean(0)).pow(2).sum()
