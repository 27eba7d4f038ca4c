"""Latent-space tools for sampling: seeded latents, the truncation trick and spherical interpolation."""

from __future__ import annotations

import torch
from torch import Tensor


def seeded_latents(n: int, latent_dim: int, seed: int) -> Tensor:
    """n standard-normal latents drawn from their own generator, the same for the same seed on every device."""
    return torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))


def truncate(z: Tensor, psi: float) -> Tensor:
    """The truncation trick in z space: pull latents towards the mean of the prior (0) by ``psi``.

    psi = 1 leaves them; psi < 1 trades variety for quality (Brock et al., "Large Scale GAN Training for High
    Fidelity Natural Image Synthesis", 2019; Karras et al., "A Style-Based Generator Architecture for Generative
    Adversarial Networks", 2019, who scale towards the mean in the same way).
    """
    if not 0.0 <= psi <= 1.0:
        raise ValueError(f"--truncation must lie in [0, 1], got {psi}")
    return z * psi


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between rows of ``a`` and ``b`` at fractions ``t`` (White, "Sampling Generative
    Networks", 2016): Gaussian latents keep their typical norm along the path, unlike a straight line.

    a, b: (n, d); t: (k,). Returns (n, k, d) with [:, 0] = a and [:, -1] = b.
    """
    a_unit = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    b_unit = b / b.norm(dim=1, keepdim=True).clamp_min(1e-12)
    omega = torch.acos((a_unit * b_unit).sum(1).clamp(-1.0, 1.0))[:, None]  # (n, 1)
    t = t[None, :]  # (1, k)
    sin_omega = torch.sin(omega)
    # Nearly parallel latents: the spherical weights tend to the linear ones.
    parallel = sin_omega.abs() < 1e-6
    safe = torch.where(parallel, torch.ones_like(sin_omega), sin_omega)
    wa = torch.where(parallel, 1 - t, torch.sin((1 - t) * omega) / safe)
    wb = torch.where(parallel, t, torch.sin(t * omega) / safe)
    return wa[..., None] * a[:, None] + wb[..., None] * b[:, None]


def interpolation_latents(paths: int, steps: int, latent_dim: int, seed: int) -> Tensor:
    """``paths`` slerp paths of ``steps`` latents each between seeded endpoints, flattened path by path."""
    if steps < 2:
        raise ValueError(f"--interpolate needs at least 2 steps, got {steps}")
    ends = seeded_latents(2 * paths, latent_dim, seed)
    return slerp(ends[:paths], ends[paths:], torch.linspace(0, 1, steps)).reshape(paths * steps, latent_dim)
