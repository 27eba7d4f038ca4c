"""The interface of one f-divergence of f-GAN (Nowozin, Cseke and Tomioka, 2016, arXiv:1606.00709):
:class:`FDivergence`, the frozen dataclass every row of the table in :mod:`gan_lightning.divergences`
subclasses, and :class:`Interval`, its dom f*.

An f-divergence is D_f(P || Q) = E_Q[f(p(x) / q(x))] with f convex and f(1) = 0. Its variational lower bound

    D_f(P || Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(x))],

where f*(t) = sup_u [t u - f(u)] is the convex conjugate, is tight at T*(x) = f'(p(x) / q(x)). f-GAN writes
the critic as T(x) = g_f(V(x)): a raw network output V(x) in R passed through an output activation g_f that
maps the reals into dom f*.

Every entry of the table is an :class:`FDivergence` with

* ``f(u)``: the generator function, for u > 0 (and u = 0 where it is finite);
* ``f_prime(u)``: its derivative, so ``f_prime(p / q)`` is the optimal critic T*;
* ``conjugate(t)``: f*(t), for t in ``domain`` (= dom f*, an :class:`Interval`);
* ``activation(v)``: g_f(v), mapping R into ``domain``;
* ``conjugate_of_activation(v)``: f*(g_f(v)) in a stable closed form. Use it in losses: composing the two
  naively loses everything near the boundary of dom f* (e.g. 2 - exp(log 2 - 1e-20) = 0);
* ``lower_bound(real_v, fake_v)``: E_P[g_f(V)] - E_Q[f*(g_f(V))], the critic's estimate of D_f;
* ``divergence(p, q)``: the exact D_f = sum_i q_i f(p_i / q_i) of two discrete distributions (q > 0), e.g.
  two densities evaluated on a grid and normalised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor


@dataclass(frozen=True)
class Interval:
    """An interval of the real line (``low`` may be -inf, ``high`` inf); used for dom f*."""

    low: float
    high: float
    closed_low: bool = False
    closed_high: bool = False

    def contains(self, t: Tensor) -> Tensor:
        """Elementwise membership as a bool tensor."""
        above = t >= self.low if self.closed_low else t > self.low
        below = t <= self.high if self.closed_high else t < self.high
        return above & below

    def closure_contains(self, t: Tensor) -> Tensor:
        """Membership in the closed interval (outputs that rounded onto an open end still count)."""
        return (t >= self.low) & (t <= self.high)


@dataclass(frozen=True)
class FDivergence:
    """One row of the f-GAN table; subclasses give f, f', f*, g_f and dom f* (see the module docstring)."""

    name: ClassVar[str] = ""
    #: f'(1): the critic value T = g_f(V) at equilibrium P = Q (Table 2's last column).
    f_prime_at_one: ClassVar[float] = 0.0

    @property
    def domain(self) -> Interval:
        """dom f*, the interval the critic's output T must lie in."""
        raise NotImplementedError

    def f(self, u: Tensor) -> Tensor:
        raise NotImplementedError

    def f_prime(self, u: Tensor) -> Tensor:
        raise NotImplementedError

    def conjugate(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def activation(self, v: Tensor) -> Tensor:
        raise NotImplementedError

    def conjugate_of_activation(self, v: Tensor) -> Tensor:
        """f*(g_f(v)); subclasses override it with a closed form that stays finite for any finite v."""
        return self.conjugate(self.activation(v))

    def lower_bound(self, real_v: Tensor, fake_v: Tensor) -> Tensor:
        """E_P[g_f(V(x))] - E_Q[f*(g_f(V(x)))] from raw critic outputs on samples of P (real) and Q (fake)."""
        return self.activation(real_v).mean() - self.conjugate_of_activation(fake_v).mean()

    def divergence(self, p: Tensor, q: Tensor, dim: int = -1) -> Tensor:
        """D_f(P || Q) = sum q f(p / q) of discrete distributions along ``dim`` (q must be positive)."""
        return (q * self.f(p / q)).sum(dim)
