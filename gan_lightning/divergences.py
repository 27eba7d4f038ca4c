"""The f-divergences of f-GAN (Nowozin, Cseke and Tomioka, 2016, arXiv:1606.00709, Tables 1, 2 and 6).

Every entry of the table is a frozen dataclass subclassing :class:`~gan_lightning.divergence_base.FDivergence`
(f, f', the conjugate f*, the output activation g_f, dom f*, f*(g_f(v)) in a stable closed form, the variational
lower bound E_P[g_f(V)] - E_Q[f*(g_f(V))] and the exact D_f of discrete distributions; see that module).

Usage::

    from gan_lightning.divergences import DIVERGENCES, get_divergence
    kl = get_divergence("kl")
    weighted = get_divergence("weighted_js", pi=0.3)
    estimate = kl.lower_bound(critic(real), critic(fake))  # critic outputs V, before g_f

Names: total_variation, kl, reverse_kl, pearson, neyman, squared_hellinger, jeffrey, js, weighted_js
(parameter ``pi``), gan. The Jeffrey conjugate needs the Lambert W function:
:func:`gan_lightning.lambert_w.lambertw_exp` (W0(exp(y)) without overflow).

Slips of Table 1 (also in the lecture "Theory behind GAN"), where the code follows f and f* (which agree with
Table 2):

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

from gan_lightning.divergence_base import FDivergence, Interval
from gan_lightning.lambert_w import lambertw_exp

LOG2 = math.log(2.0)


# ---------------------------------------------------------------------------------------------- the table
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
