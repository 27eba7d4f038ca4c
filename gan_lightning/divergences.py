"""The f-divergences of f-GAN (Nowozin, Cseke and Tomioka, 2016, arXiv:1606.00709, Tables 1, 2 and 6).

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

Usage::

    from gan_lightning.divergences import DIVERGENCES, get_divergence
    kl = get_divergence("kl")
    weighted = get_divergence("weighted_js", pi=0.3)
    estimate = kl.lower_bound(critic(real), critic(fake))  # critic outputs V, before g_f

Names: total_variation, kl, reverse_kl, pearson, neyman, squared_hellinger, jeffrey, js, weighted_js
(parameter ``pi``), gan. The Jeffrey conjugate needs the Lambert W function: :func:`lambertw` (principal
branch W0) and :func:`lambertw_exp` (W0(exp(y)) without overflow) are differentiable torch implementations.

Slips of Table 1 (also in the lecture seed 002), where the code follows f and f* (which agree with Table 2):

* Pearson and Neyman chi-squared pair each generator with the other's formula: f(u) = (u - 1)^2 gives
  D_f = int (p - q)^2 / q, and f(u) = (1 - u)^2 / u gives D_f = int (q - p)^2 / p.
* Jensen-Shannon is written with a factor 1/2, but its f(u) = u log u - (u + 1) log((1 + u) / 2) gives
  D_f = 2 JSD = KL(P || M) + KL(Q || M), M = (P + Q) / 2, at most 2 log 2. ``weighted_js`` at pi = 1/2 is JSD.
* The GAN row's f has f(1) = -log 4, not 0: D_f = 2 JSD - log 4, which is -log 4 at P = Q.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

LOG2 = math.log(2.0)


# ---------------------------------------------------------------------------------------------- Lambert W
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
    def forward(ctx, x: Tensor) -> Tensor:  # noqa: ANN001
        w = _lambertw_solve(x).to(x.dtype)
        ctx.save_for_backward(w)
        return w

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # noqa: ANN001
        (w,) = ctx.saved_tensors
        # dW/dx = W / (x (1 + W)) = exp(-W) / (1 + W), finite at x = 0; differentiable again through w.
        return grad * torch.exp(-w) / (1 + w)


class _LambertWExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y: Tensor) -> Tensor:  # noqa: ANN001
        w = _lambertw_exp_solve(y).to(y.dtype)
        ctx.save_for_backward(w)
        return w

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # noqa: ANN001
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


# ---------------------------------------------------------------------------------------------- the table
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


@dataclass(frozen=True)
class TotalVariation(FDivergence):
    """f(u) = |u - 1| / 2, D_f = 1/2 int |p - q|; f*(t) = t on [-1/2, 1/2], g_f(v) = tanh(v) / 2."""

    name: ClassVar[str] = "total_variation"
    f_prime_at_one: ClassVar[float] = 0.0

    @property
    def domain(self) -> Interval:
        return Interval(-0.5, 0.5, closed_low=True, closed_high=True)

    def f(self, u: Tensor) -> Tensor:
        return 0.5 * (u - 1).abs()

    def f_prime(self, u: Tensor) -> Tensor:
        return 0.5 * torch.sign(u - 1)  # a subgradient; 0 at u = 1

    def conjugate(self, t: Tensor) -> Tensor:
        return t

    def activation(self, v: Tensor) -> Tensor:
        return 0.5 * torch.tanh(v)


@dataclass(frozen=True)
class KL(FDivergence):
    """f(u) = u log u, D_f = KL(P || Q); f*(t) = exp(t - 1) on R, g_f(v) = v.

    f*(g_f(v)) = exp(v - 1) exceeds float32 (3.4e38) for v > 89.7: inherent to KL, not a rounding problem.
    """

    name: ClassVar[str] = "kl"
    f_prime_at_one: ClassVar[float] = 1.0

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, math.inf)

    def f(self, u: Tensor) -> Tensor:
        return torch.xlogy(u, u)

    def f_prime(self, u: Tensor) -> Tensor:
        return torch.log(u) + 1

    def conjugate(self, t: Tensor) -> Tensor:
        return torch.exp(t - 1)

    def activation(self, v: Tensor) -> Tensor:
        return v


@dataclass(frozen=True)
class ReverseKL(FDivergence):
    """f(u) = -log u, D_f = KL(Q || P); f*(t) = -1 - log(-t) on t < 0, g_f(v) = -exp(-v).

    f*(g_f(v)) = v - 1 exactly; g_f(v) itself exceeds float32 for v < -88.7.
    """

    name: ClassVar[str] = "reverse_kl"
    f_prime_at_one: ClassVar[float] = -1.0

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, 0.0)

    def f(self, u: Tensor) -> Tensor:
        return -torch.log(u)

    def f_prime(self, u: Tensor) -> Tensor:
        return -1 / u

    def conjugate(self, t: Tensor) -> Tensor:
        return -1 - torch.log(-t)

    def activation(self, v: Tensor) -> Tensor:
        return -torch.exp(-v)

    def conjugate_of_activation(self, v: Tensor) -> Tensor:
        return v - 1


@dataclass(frozen=True)
class Pearson(FDivergence):
    """f(u) = (u - 1)^2, D_f = int (p - q)^2 / q (Table 1 prints int (q - p)^2 / p); f*(t) = t^2 / 4 + t on R,
    g_f(v) = v."""

    name: ClassVar[str] = "pearson"
    f_prime_at_one: ClassVar[float] = 0.0

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, math.inf)

    def f(self, u: Tensor) -> Tensor:
        return (u - 1) ** 2

    def f_prime(self, u: Tensor) -> Tensor:
        return 2 * (u - 1)

    def conjugate(self, t: Tensor) -> Tensor:
        return 0.25 * t**2 + t

    def activation(self, v: Tensor) -> Tensor:
        return v


@dataclass(frozen=True)
class Neyman(FDivergence):
    """f(u) = (1 - u)^2 / u, D_f = int (q - p)^2 / p (Table 1 prints int (p - q)^2 / q);
    f*(t) = 2 - 2 sqrt(1 - t) on t < 1, g_f(v) = 1 - exp(-v), so f*(g_f(v)) = 2 - 2 exp(-v / 2)."""

    name: ClassVar[str] = "neyman"
    f_prime_at_one: ClassVar[float] = 0.0

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, 1.0)

    def f(self, u: Tensor) -> Tensor:
        return (1 - u) ** 2 / u

    def f_prime(self, u: Tensor) -> Tensor:
        return 1 - u.pow(-2)

    def conjugate(self, t: Tensor) -> Tensor:
        return 2 - 2 * torch.sqrt(1 - t)

    def activation(self, v: Tensor) -> Tensor:
        return -torch.expm1(-v)

    def conjugate_of_activation(self, v: Tensor) -> Tensor:
        return 2 - 2 * torch.exp(-0.5 * v)


@dataclass(frozen=True)
class SquaredHellinger(FDivergence):
    """f(u) = (sqrt(u) - 1)^2, D_f = int (sqrt(p) - sqrt(q))^2; f*(t) = t / (1 - t) on t < 1,
    g_f(v) = 1 - exp(-v), so f*(g_f(v)) = exp(v) - 1."""

    name: ClassVar[str] = "squared_hellinger"
    f_prime_at_one: ClassVar[float] = 0.0

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, 1.0)

    def f(self, u: Tensor) -> Tensor:
        return (torch.sqrt(u) - 1) ** 2

    def f_prime(self, u: Tensor) -> Tensor:
        return 1 - u.rsqrt()

    def conjugate(self, t: Tensor) -> Tensor:
        return t / (1 - t)

    def activation(self, v: Tensor) -> Tensor:
        return -torch.expm1(-v)

    def conjugate_of_activation(self, v: Tensor) -> Tensor:
        return torch.expm1(v)


@dataclass(frozen=True)
class Jeffrey(FDivergence):
    """f(u) = (u - 1) log u, D_f = KL(P || Q) + KL(Q || P); f*(t) = W(e^(1-t)) + 1 / W(e^(1-t)) + t - 2 on R
    (W = Lambert W0), g_f(v) = v. (From t = f'(u) = log u + 1 - 1/u: w = 1/u solves w e^w = e^(1-t).)"""

    name: ClassVar[str] = "jeffrey"
    f_prime_at_one: ClassVar[float] = 0.0

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, math.inf)

    def f(self, u: Tensor) -> Tensor:
        return (u - 1) * torch.log(u)

    def f_prime(self, u: Tensor) -> Tensor:
        return torch.log(u) + 1 - 1 / u

    def conjugate(self, t: Tensor) -> Tensor:
        w = lambertw_exp(1 - t)  # W(e^(1-t)) without forming e^(1-t)
        return w + 1 / w + t - 2

    def activation(self, v: Tensor) -> Tensor:
        return v


@dataclass(frozen=True)
class JensenShannon(FDivergence):
    """f(u) = u log u - (u + 1) log((1 + u) / 2), D_f = 2 JSD(P, Q); f*(t) = -log(2 - exp(t)) on t < log 2,
    g_f(v) = log 2 - log(1 + exp(-v)), so f*(g_f(v)) = softplus(v) - log 2."""

    name: ClassVar[str] = "js"
    f_prime_at_one: ClassVar[float] = 0.0

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, LOG2)

    def f(self, u: Tensor) -> Tensor:
        return torch.xlogy(u, u) - (u + 1) * (torch.log1p(u) - LOG2)

    def f_prime(self, u: Tensor) -> Tensor:
        return torch.log(2 * u) - torch.log1p(u)

    def conjugate(self, t: Tensor) -> Tensor:
        return -torch.log(2 - torch.exp(t))

    def activation(self, v: Tensor) -> Tensor:
        return LOG2 - F.softplus(-v)

    def conjugate_of_activation(self, v: Tensor) -> Tensor:
        return F.softplus(v) - LOG2


def _log_softplus_neg(v: Tensor) -> Tensor:
    """log(softplus(-v)) = log(log(1 + e^-v)), finite for large v (where it is -v - e^-v / 2 + ...)."""
    large = v > 30
    # Each branch sees only inputs where it is finite, so the unused one cannot put NaN into the gradient.
    v_large, v_small = torch.where(large, v, 30.0), torch.where(large, 0.0, v)
    return torch.where(large, -v_large - 0.5 * torch.exp(-v_large), torch.log(F.softplus(-v_small)))


def _log1mexp(a: Tensor) -> Tensor:
    """log(1 - exp(-a)) for a > 0 (Maechler, 2012): expm1 for small a, log1p for large a."""
    small = a < LOG2
    a_small = torch.where(small, a, torch.ones_like(a))
    a_large = torch.where(small, torch.ones_like(a), a)
    return torch.where(small, torch.log(-torch.expm1(-a_small)), torch.log1p(-torch.exp(-a_large)))


@dataclass(frozen=True)
class WeightedJensenShannon(FDivergence):
    """f(u) = pi u log u - (1 - pi + pi u) log(1 - pi + pi u) (Table 6),
    D_f = pi KL(P || M) + (1 - pi) KL(Q || M) with M = pi P + (1 - pi) Q;
    f*(t) = (1 - pi) log((1 - pi) / (1 - pi e^(t / pi))) on t < -pi log pi,
    g_f(v) = -pi log pi - log(1 + e^-v).
    At pi = 1/2 it is JSD (half the ``js`` entry).

    Args:
        pi: the weight of P, in (0, 1).
    """

    name: ClassVar[str] = "weighted_js"
    f_prime_at_one: ClassVar[float] = 0.0
    pi: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.pi < 1.0:
            raise ValueError(f"weighted_js: pi must lie in (0, 1), got {self.pi}")

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, -self.pi * math.log(self.pi))

    def f(self, u: Tensor) -> Tensor:
        m = 1 - self.pi + self.pi * u
        return self.pi * torch.xlogy(u, u) - torch.xlogy(m, m)

    def f_prime(self, u: Tensor) -> Tensor:
        return self.pi * (torch.log(u) - torch.log(1 - self.pi + self.pi * u))

    def conjugate(self, t: Tensor) -> Tensor:
        pi = self.pi
        return (1 - pi) * (math.log(1 - pi) - torch.log(1 - pi * torch.exp(t / pi)))

    def activation(self, v: Tensor) -> Tensor:
        return -self.pi * math.log(self.pi) - F.softplus(-v)

    def conjugate_of_activation(self, v: Tensor) -> Tensor:
        # pi exp(g_f(v) / pi) = sigmoid(v)^(1/pi), so 1 - pi e^(t/pi) = 1 - exp(-a), a = softplus(-v) / pi;
        # log(1 - e^-a) = log a - a / 2 + O(a^2) once a is tiny (log a stays exact where a underflows).
        log_a = _log_softplus_neg(v) - math.log(self.pi)
        a = torch.exp(log_a)
        tiny = log_a < math.log(1e-12)
        log_one_minus = torch.where(tiny, log_a - a / 2, _log1mexp(torch.where(tiny, torch.ones_like(a), a)))
        return (1 - self.pi) * (math.log(1 - self.pi) - log_one_minus)


@dataclass(frozen=True)
class GANDivergence(FDivergence):
    """f(u) = u log u - (u + 1) log(u + 1), D_f = 2 JSD(P, Q) - log 4 (the original GAN's value);
    f*(t) = -log(1 - exp(t)) on t < 0, g_f(v) = -log(1 + exp(-v)) = log sigmoid(v),
    so f*(g_f(v)) = softplus(v)."""

    name: ClassVar[str] = "gan"
    f_prime_at_one: ClassVar[float] = -LOG2

    @property
    def domain(self) -> Interval:
        return Interval(-math.inf, 0.0)

    def f(self, u: Tensor) -> Tensor:
        return torch.xlogy(u, u) - (u + 1) * torch.log1p(u)

    def f_prime(self, u: Tensor) -> Tensor:
        return torch.log(u) - torch.log1p(u)

    def conjugate(self, t: Tensor) -> Tensor:
        return -torch.log(-torch.expm1(t))

    def activation(self, v: Tensor) -> Tensor:
        return -F.softplus(-v)

    def conjugate_of_activation(self, v: Tensor) -> Tensor:
        return F.softplus(v)


#: name -> the divergence with its default parameters (weighted_js: pi = 0.5).
DIVERGENCES: dict[str, FDivergence] = {
    cls.name: cls()
    for cls in (
        TotalVariation,
        KL,
        ReverseKL,
        Pearson,
        Neyman,
        SquaredHellinger,
        Jeffrey,
        JensenShannon,
        WeightedJensenShannon,
        GANDivergence,
    )
}


def get_divergence(name: str, **params: float) -> FDivergence:
    """The divergence called ``name``, with parameters (only ``weighted_js`` has one: ``pi``).

    Raises:
        ValueError: unknown name, or a parameter the divergence does not take.
    """
    if name not in DIVERGENCES:
        raise ValueError(f"divergence must be one of {', '.join(DIVERGENCES)}; got {name!r}")
    divergence = DIVERGENCES[name]
    try:
        return replace(divergence, **params) if params else divergence
    except TypeError:
        raise ValueError(f"divergence {name!r} takes no parameters {sorted(params)}") from None
