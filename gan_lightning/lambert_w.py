"""The principal branch W0 of the Lambert W function, w e^w = x, as differentiable torch functions.

Corless, Gonnet, Hare, Jeffrey and Knuth, "On the Lambert W function", Advances in Computational Mathematics
5 (1996): the branch-point series (eq. 4.22), Halley's iteration, and the derivative dW/dx = W / (x (1 + W)).

* :func:`lambertw`: W0(x) for x >= -1/e (NaN below);
* :func:`lambertw_exp`: W0(exp(y)) for any real y, without forming exp(y) (the f-GAN Jeffrey conjugate,
  :class:`gan_lightning.divergences.Jeffrey`, needs W(e^(1-t)) for any real t).

Both solve in float64 and return the input's dtype; their backward passes are analytic and differentiable again.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _lambertw_series_at_branch(p: Tensor) -> Tensor:
    """W0 near x = -1/e as a series in p = sqrt(2 (e x + 1)) (Corless et al., 1996, eq. 4.22)."""
    return -1 + p * (1 + p * (-1 / 3 + p * (11 / 72 + p * (-43 / 540 + p * (769 / 17280 - p * 221 / 8505)))))


def _lambertw_solve(x: Tensor) -> Tensor:
    """W0(x) in float64 by Halley's iteration on w e^w = x, from the series (near -1/e), log1p or the
    asymptotic expansion (large x). NaN below -1/e."""
    x = x.double()
    p = torch.sqrt(torch.clamp(2 * (math.e * x + 1), min=0.0))
    branch = _lambertw_series_at_branch(p)
    big = torch.clamp(x, min=math.e)
    l1 = torch.log(big)
    l2 = torch.log(l1)
    w = torch.where(
        x < -0.25, branch, torch.where(x < math.e, torch.log1p(torch.clamp(x, min=-0.25)), l1 - l2 + l2 / l1)
    )
    for _ in range(12):
        # Halley's step on f(w) = w e^w - x, divided through by e^w so nothing overflows for large x.
        r = w - x * torch.exp(-w)
        step = 2 * r * (w + 1) / (2 * (w + 1) ** 2 - r * (w + 2))
        w = w - torch.nan_to_num(step, nan=0.0, posinf=0.0, neginf=0.0)
    # Within 1e-3 of the branch point the series alone is exact in float64 (and Halley divides by ~0 there).
    w = torch.where(p < 1e-3, branch, w)
    return torch.where(x < -1 / math.e - 1e-15, torch.full_like(w, math.nan), w)


def _lambertw_exp_solve(y: Tensor) -> Tensor:
    """W0(exp(y)) in float64: Newton's iteration on w + log w = y, which stays finite for any real y."""
    y = y.double()
    tiny = y < -600  # W(x) = x - x^2 + ... = x to double precision (and exp(y) may be denormal)
    y_safe = torch.where(tiny, torch.zeros_like(y), y)
    w = torch.where(
        y_safe > 1, y_safe - torch.log(torch.clamp(y_safe, min=1.0)), torch.exp(y_safe.clamp(max=1.0))
    )
    for _ in range(30):
        # From any start in (0, e^(1 + y)) this stays positive and converges: h(w) = w + log w - y is concave.
        w = w * (1 + y_safe - torch.log(w)) / (1 + w)
    return torch.where(tiny, torch.exp(y), w)


class _LambertW(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        w = _lambertw_solve(x).to(x.dtype)
        ctx.save_for_backward(w)
        return w

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (w,) = ctx.saved_tensors
        # dW/dx = W / (x (1 + W)) = exp(-W) / (1 + W), finite at x = 0; differentiable again through w.
        return grad * torch.exp(-w) / (1 + w)


class _LambertWExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y: Tensor) -> Tensor:
        w = _lambertw_exp_solve(y).to(y.dtype)
        ctx.save_for_backward(w)
        return w

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (w,) = ctx.saved_tensors
        return grad * w / (1 + w)  # from w + log w = y


def lambertw(x: Tensor) -> Tensor:
    """The principal branch W0 of the Lambert W function (w e^w = x) for x >= -1/e; NaN below.

    Accurate to about 1e-15 relative in float64 away from the branch point (about 1e-8 absolute within 1e-12
    of it), differentiable with dW/dx = exp(-W) / (1 + W), twice differentiable.
    """
    return _LambertW.apply(x)


def lambertw_exp(y: Tensor) -> Tensor:
    """W0(exp(y)) for any real y, without forming exp(y) (no overflow at y = 1000); dW/dy = W / (1 + W)."""
    return _LambertWExp.apply(y)
