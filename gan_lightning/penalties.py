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
