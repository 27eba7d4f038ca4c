"""Regularisers on the critic's input gradient (Lipschitz constraints)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Critic = Callable[[Tensor], Tensor]


def interpolate(real: Tensor, fake: Tensor, eps: Tensor | None = None) -> Tensor:
    """x_hat = eps * x + (1 - eps) * x~ with eps ~ U[0, 1], one eps per sample (Gulrajani et al., 2017, Alg. 1)."""
    if eps is None:
        eps = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    eps = eps.view(-1, *([1] * (real.dim() - 1)))
    return eps * real + (1 - eps) * fake


def input_gradient_norm(critic: Critic, x: Tensor) -> Tensor:
    """||grad_x critic(x)||_2 for each sample, the gradient flattened over all but the batch dimension.

    The graph is kept (create_graph) so that a penalty on the norm trains the critic. A tiny constant under
    the square root keeps the backward pass finite where the gradient is exactly zero.
    """
    x = x.detach().requires_grad_(True)
    scores = critic(x)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return (grad.flatten(1).pow(2).sum(1) + 1e-12).sqrt()


def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, eps: Tensor | None = None) -> Tensor:
    """E[(||grad D(x_hat)|| - 1)^2] on random interpolates (Gulrajani et al., 2017, eq. 3), without lambda."""
    return (input_gradient_norm(critic, interpolate(real, fake.detach(), eps)) - 1).pow(2).mean()


def one_sided_gradient_penalty(
    critic: Critic, real: Tensor, fake: Tensor, eps: Tensor | None = None, squared: bool = False
) -> Tensor:
    """E[max(0, ||grad D(x_hat)|| - 1)] on random interpolates, or with ``squared`` E[max(0, ||grad|| - 1)^2].

    Only slopes above 1 are penalised, which is all the Lipschitz constraint asks for: Gulrajani et al. (2017,
    section 4) discuss this one-sided form; Petzka et al. (2018, "On the regularization of Wasserstein GANs",
    arXiv:1709.08894) argue for the squared one-sided penalty (WGAN-LP). Without lambda.
    """
    excess = (input_gradient_norm(critic, interpolate(real, fake.detach(), eps)) - 1).clamp(min=0)
    return (excess.pow(2) if squared else excess).mean()


def perturb(real: Tensor, scale: float = 0.5, noise: Tensor | None = None) -> Tensor:
    """x + scale * std(x) * u with u ~ U[0, 1] per element and std over the whole batch (DRAGAN's code)."""
    if noise is None:
        noise = torch.rand_like(real)
    return real + scale * real.std() * noise


def dragan_penalty(
    critic: Critic, real: Tensor, scale: float = 0.5, noise: Tensor | None = None, eps: Tensor | None = None
) -> Tensor:
    """E[(||grad D(x + alpha (x_p - x))|| - 1)^2] around perturbed real data x_p = :func:`perturb` (x).

    DRAGAN (Kodali et al., 2017, arXiv:1705.07215) penalises sharp gradients only in a neighbourhood of the
    data, where mode collapse creates them; alpha ~ U[0, 1] per sample as in the authors' code. Without lambda.
    """
    real = real.detach()
    around = interpolate(perturb(real, scale, noise), real, eps)  # x + alpha (x_p - x)
    return (input_gradient_norm(critic, around) - 1).pow(2).mean()


def has_batch_norm(network: torch.nn.Module) -> bool:
    """Whether a network normalises over the batch: that couples samples and breaks per-sample penalties."""
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in network.modules())


def zero_centered_gradient_penalty(critic: Critic, x: Tensor) -> Tensor:
    """E[||grad D(x)||^2] at the given samples, without gamma / 2.

    On real samples this is R1, on generated ones R2 (Mescheder, Geiger, Nowozin, "Which Training Methods for
    GANs do actually Converge?", ICML 2018, eq. 9-10): centred at zero, it pulls the critic flat on the data,
    which makes the GAN's equilibrium locally convergent where WGAN-GP's penalty (centred at 1) does not.
    """
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()
