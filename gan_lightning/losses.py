"""GAN objectives as pure functions of critic outputs (logits, scores or energies), one pair per game.

Every function returns the quantity its network *minimises*, averaged over the batch. Inputs are the raw
outputs of the discriminator (no sigmoid), so each loss is written in its numerically stable form. The
variants (``gan_lightning.variants``) only compute the critic's outputs and call these.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

if TYPE_CHECKING:
    from gan_lightning.divergences import FDivergence


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


# ---------------------------------------------------------------- f-GAN
def fgan_critic_loss(divergence: FDivergence, real_v: Tensor, fake_v: Tensor) -> Tensor:
    """-(E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))]): minus the variational lower bound on D_f(P || Q).

    Nowozin, Cseke and Tomioka, 2016, "f-GAN: Training Generative Neural Samplers using Variational
    Divergence Minimization", arXiv:1606.00709, eq. 6; g_f is the divergence's output activation and f* the
    convex conjugate of its generator f.
    """
    return -divergence.lower_bound(real_v, fake_v)


def fgan_generator_loss(divergence: FDivergence, fake_v: Tensor, saturating: bool = False) -> Tensor:
    """-E_Q[g_f(V(G(z)))] (f-GAN, section 3.2's alternative update, the non-saturating GAN trick for every f),
    or, with ``saturating``, -E_Q[f*(g_f(V(G(z))))]: the generator's part of the saddle objective itself."""
    if saturating:
        return -divergence.conjugate_of_activation(fake_v).mean()
    return -divergence.activation(fake_v).mean()


# ---------------------------------------------------------------- energy-based GAN
def ebgan_discriminator_loss(real_energy: Tensor, fake_energy: Tensor, margin: float) -> Tensor:
    """E[D(x)] + E[max(0, m - D(G(z)))]: low energy on data, at least m on samples.

    Zhao, Mathieu and LeCun, 2017, "Energy-based Generative Adversarial Network", arXiv:1609.03126, eq. 1.
    """
    return real_energy.mean() + F.relu(margin - fake_energy).mean()


def ebgan_generator_loss(fake_energy: Tensor) -> Tensor:
    """E[D(G(z))] (EBGAN, eq. 2)."""
    return fake_energy.mean()


def pulling_away_term(codes: Tensor) -> Tensor:
    """f_PT(S) = 1 / (N (N - 1)) sum_{i != j} (S_i . S_j / (|S_i| |S_j|))^2 over the N codes of a batch
    (EBGAN, eq. 5): the mean squared cosine similarity of distinct pairs, 1 for identical directions and 0 for
    orthogonal ones. Codes are flattened per sample."""
    n = codes.shape[0]
    if n < 2:
        return codes.new_zeros(())
    unit = F.normalize(codes.flatten(1), dim=1)
    cosine = unit @ unit.T
    off_diagonal = cosine.pow(2).sum() - cosine.diagonal().pow(2).sum()
    return off_diagonal / (n * (n - 1))


# ---------------------------------------------------------------- loss-sensitive GAN
Distance = Literal["l1", "l2"]


def sample_distance(real: Tensor, fake: Tensor, distance: Distance = "l1") -> Tensor:
    """||x - G(z)|| per pair of samples, flattened over all but the batch dimension (L1 or L2): the margin
    Delta(x, G(z)) of the Loss-Sensitive GAN, before its scale."""
    diff = (real - fake).flatten(1)
    if distance == "l1":
        return diff.abs().sum(1)
    if distance == "l2":
        return diff.pow(2).sum(1).sqrt()
    raise ValueError(f"model.distance must be 'l1' or 'l2', got {distance!r}")


def loss_sensitive_critic_loss(
    real_loss: Tensor, fake_loss: Tensor, margin: Tensor, real_weight: float
) -> Tensor:
    """real_weight * E[L(x)] + E[(Delta(x, G(z)) + L(x) - L(G(z)))_+] on paired real and generated samples.

    Qi, 2017, "Loss-Sensitive Generative Adversarial Networks on Lipschitz Densities", arXiv:1701.06264: the
    paper's objective E[L(x)] + lambda E[(...)_+] divided by lambda, so real_weight = 1 / lambda.
    """
    return real_weight * real_loss.mean() + F.relu(margin + real_loss - fake_loss).mean()


def loss_sensitive_generator_loss(fake_loss: Tensor) -> Tensor:
    """E[L(G(z))]: the generator lowers the loss of its samples (Loss-Sensitive GAN)."""
    return fake_loss.mean()


# ---------------------------------------------------------------- terms that other losses add
def mean_matching_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """(E[D(G(z))] - E[D(x)])^2 with the real scores held constant (LSGAN's mean-matching term, from the LSGAN
    report "对 Least Squares GAN 的思考与改进").

    The real mean is detached, so the term moves only G: its gradient does not vanish when the supports of
    p_data and p_g do not overlap and the least-squares term's gradient does.
    """
    return (fake_scores.mean() - real_scores.detach().mean()).pow(2)


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """||E[f(x)] - E[f(G(z))]||_2^2 over D's features f (Salimans et al., 2016, section 3.1).

    The real features are detached: they are the target G must match.
    """
    return (real_features.detach().flatten(1).mean(0) - fake_features.flatten(1).mean(0)).pow(2).sum()


# ---------------------------------------------------------------- relativistic games
def relativistic_pairing_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E[softplus(C(G(z)) - C(x))] = -E[log sigmoid(C(x) - C(G(z)))] over pairs (x_i, G(z_i)).

    RSGAN (Jolicoeur-Martineau, "The relativistic discriminator: a key element missing from standard GAN",
    ICLR 2019, eq. 5), which R3GAN calls RpGAN: D rates how much more real x is than its paired fake.
    """
    return F.softplus(fake_logits - real_logits).mean()


def relativistic_pairing_generator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E[softplus(C(x) - C(G(z)))]: the same game with the roles of real and fake swapped (eq. 6)."""
    return F.softplus(real_logits - fake_logits).mean()


def relativistic_average_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E_x[softplus(-(C(x) - E C(G(z))))] + E_z[softplus(C(G(z)) - E C(x))] (RaSGAN, Jolicoeur-Martineau, 2019,
    eq. 7): each sample is compared with the average critic output of the other kind."""
    return (
        F.softplus(fake_logits.mean() - real_logits).mean()
        + F.softplus(fake_logits - real_logits.mean()).mean()
    )


def relativistic_average_generator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """RaSGAN's generator loss: the discriminator's with real and fake swapped (eq. 8)."""
    return relativistic_average_discriminator_loss(fake_logits, real_logits)


def relativistic_average_least_squares_discriminator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E_x[(C(x) - E C(G(z)) - 1)^2] + E_z[(C(G(z)) - E C(x) + 1)^2] (RaLSGAN, Jolicoeur-Martineau, 2019,
    appendix)."""
    return (real_scores - fake_scores.mean() - 1).pow(2).mean() + (fake_scores - real_scores.mean() + 1).pow(
        2
    ).mean()


def relativistic_average_least_squares_generator_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """E_z[(C(G(z)) - E C(x) - 1)^2] + E_x[(C(x) - E C(G(z)) + 1)^2]: the discriminator's, roles swapped."""
    return relativistic_average_least_squares_discriminator_loss(fake_scores, real_scores)
