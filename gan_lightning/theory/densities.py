"""1D distributions with known densities, CDFs and quantiles, and the quadrature the checks integrate with.

Everything is float64. Two ways to take an expectation E_p[h(x)]:

* :func:`integrate` on a grid (trapezoid rule): the closed forms (JSD, KL, D_f, chi^2) are integrals of
  smooth, fast-decaying integrands, for which the trapezoid rule on a fine grid is accurate to ~1e-10.
* ``p.quantile_samples(n)``: the points x_i = F^{-1}((i + 1/2) / n). The plain mean of h(x_i) is the midpoint
  rule in u = F(x), so the library's losses, which average over a batch, compute E_p[h] without sampling
  noise. Its error comes from the tails (F^{-1} diverges at u = 0 and 1): about 1e-4 relative for n = 2**15
  and the polynomial-growth integrands used here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

DTYPE = torch.float64


def grid(lo: float, hi: float, n: int = 20001) -> Tensor:
    """n equally spaced points on [lo, hi] (float64)."""
    return torch.linspace(lo, hi, n, dtype=DTYPE)


def integrate(values: Tensor, x: Tensor) -> float:
    """Trapezoid rule of `values` sampled on the grid `x`."""
    return float(torch.trapezoid(values, x))


def xlogy(x: Tensor, y: Tensor) -> Tensor:
    """x log y with 0 log 0 = 0 (the convention of every divergence integral)."""
    return torch.special.xlogy(x, y)


class Density:
    """A 1D distribution: density, CDF, quantile, sampling; subclasses give `log_prob`, `cdf` and `span`."""

    span: tuple[
        float, float
    ]  # an interval holding all but ~1e-12 of the mass (quadrature and bisection range)

    def log_prob(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def prob(self, x: Tensor) -> Tensor:
        return self.log_prob(x).exp()

    def cdf(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.quantile(torch.rand(n, dtype=DTYPE, generator=generator))

    def quantile(self, u: Tensor) -> Tensor:
        """F^{-1}(u) by bisection on `span` (60 halvings: exact to float64 resolution)."""
        lo = torch.full_like(u, self.span[0])
        hi = torch.full_like(u, self.span[1])
        for _ in range(60):
            mid = (lo + hi) / 2
            below = self.cdf(mid) < u
            lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
        return (lo + hi) / 2

    def quantile_samples(self, n: int = 2**15) -> Tensor:
        """x_i = F^{-1}((i + 1/2) / n): a batch whose plain mean of h is the midpoint rule for E[h]."""
        return self.quantile((torch.arange(n, dtype=DTYPE) + 0.5) / n)

    def mean(self) -> float:
        x = grid(*self.span)
        return integrate(x * self.prob(x), x)

    def std(self) -> float:
        x = grid(*self.span)
        return math.sqrt(integrate((x - self.mean()) ** 2 * self.prob(x), x))


@dataclass
class Normal(Density):
    """N(loc, scale^2)."""

    loc: float = 0.0
    scale: float = 1.0

    @property
    def span(self) -> tuple[float, float]:  # type: ignore[override]
        return (self.loc - 12 * self.scale, self.loc + 12 * self.scale)

    def log_prob(self, x: Tensor) -> Tensor:
        z = (x - self.loc) / self.scale
        return -0.5 * z**2 - math.log(self.scale) - 0.5 * math.log(2 * math.pi)

    def cdf(self, x: Tensor) -> Tensor:
        return torch.special.ndtr((x - self.loc) / self.scale)

    def quantile(self, u: Tensor) -> Tensor:
        return self.loc + self.scale * torch.special.ndtri(u)


@dataclass
class Mixture(Density):
    """sum_k weights[k] * components[k]."""

    components: list[Density]
    weights: list[float]

    @property
    def span(self) -> tuple[float, float]:  # type: ignore[override]
        return (min(c.span[0] for c in self.components), max(c.span[1] for c in self.components))

    def log_prob(self, x: Tensor) -> Tensor:
        logs = [math.log(w) + c.log_prob(x) for c, w in zip(self.components, self.weights, strict=True)]
        return torch.logsumexp(torch.stack(logs), 0)

    def cdf(self, x: Tensor) -> Tensor:
        return sum(w * c.cdf(x) for c, w in zip(self.components, self.weights, strict=True))

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        which = torch.multinomial(torch.tensor(self.weights, dtype=DTYPE), n, True, generator=generator)
        draws = torch.stack([c.sample(n, generator) for c in self.components])
        return draws[which, torch.arange(n)]


@dataclass
class Bump(Density):
    """The density 6 t (1 - t), t = (x - loc) / width, on [loc, loc + width] and 0 elsewhere (a scaled Beta(2,
    2)).

    Compact support, so two bumps can be disjoint; continuous at its edges, so quadrature stays accurate.
    """

    loc: float = 0.0
    width: float = 1.0

    @property
    def span(self) -> tuple[float, float]:  # type: ignore[override]
        return (self.loc, self.loc + self.width)

    def prob(self, x: Tensor) -> Tensor:
        t = ((x - self.loc) / self.width).clamp(0, 1)
        return 6 * t * (1 - t) / self.width

    def log_prob(self, x: Tensor) -> Tensor:
        return self.prob(x).log()

    def cdf(self, x: Tensor) -> Tensor:
        t = ((x - self.loc) / self.width).clamp(0, 1)
        return t**2 * (3 - 2 * t)

    def quantile(self, u: Tensor) -> Tensor:
        # The root in [0, 1] of 3 t^2 - 2 t^3 = u (the trigonometric solution of the cubic).
        return self.loc + self.width * (0.5 + torch.sin(torch.asin(2 * u - 1) / 3))


def union_grid(*densities: Density, n: int = 20001) -> Tensor:
    """A quadrature grid covering the spans of all `densities`."""
    return grid(min(d.span[0] for d in densities), max(d.span[1] for d in densities), n)


def kl(p: Density, q: Density, x: Tensor | None = None) -> float:
    """KL(p || q) = int p log(p / q) by quadrature."""
    x = union_grid(p, q) if x is None else x
    pp = p.prob(x)
    return integrate(xlogy(pp, pp) - xlogy(pp, q.prob(x)), x)


def jsd(p: Density, q: Density, x: Tensor | None = None) -> float:
    """JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q) / 2, by quadrature (in [0, log 2])."""
    x = union_grid(p, q) if x is None else x
    pp, qq = p.prob(x), q.prob(x)
    m = (pp + qq) / 2
    values = 0.5 * (xlogy(pp, pp) - xlogy(pp, m)) + 0.5 * (xlogy(qq, qq) - xlogy(qq, m))
    return integrate(values, x)


def wasserstein1(p: Density, q: Density, x: Tensor | None = None) -> float:
    """W1(p, q) = int |F_p(x) - F_q(x)| dx, exact in 1D (Vallender, 1974), by quadrature."""
    x = union_grid(p, q) if x is None else x
    return integrate((p.cdf(x) - q.cdf(x)).abs(), x)


def sorted_sample_w1(real: Tensor, fake: Tensor) -> float:
    """W1 between two empirical distributions of equal size: the mean gap between their sorted samples."""
    return float((real.sort().values - fake.sort().values).abs().mean())


@dataclass
class Shifted(Density):
    """`base` translated by `shift`: x ~ base + shift."""

    base: Density
    shift: float

    @property
    def span(self) -> tuple[float, float]:  # type: ignore[override]
        return (self.base.span[0] + self.shift, self.base.span[1] + self.shift)

    def log_prob(self, x: Tensor) -> Tensor:
        return self.base.log_prob(x - self.shift)

    def prob(self, x: Tensor) -> Tensor:
        return self.base.prob(x - self.shift)

    def cdf(self, x: Tensor) -> Tensor:
        return self.base.cdf(x - self.shift)

    def quantile(self, u: Tensor) -> Tensor:
        return self.base.quantile(u) + self.shift

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.base.sample(n, generator) + self.shift


def gaussian_components(d: Density) -> list[tuple[float, float, float]]:
    """(weight, loc, scale) of every Gaussian in `d` (a Normal or a Mixture of them)."""
    if isinstance(d, Normal):
        return [(1.0, d.loc, d.scale)]
    if isinstance(d, Mixture):
        return [
            (w * v, m, s)
            for c, w in zip(d.components, d.weights, strict=True)
            for v, m, s in gaussian_components(c)
        ]
    raise ValueError(
        f"gaussian_components: expected a Normal or a Mixture of Normals, got {type(d).__name__}"
    )


def interpolate_density(p: Density, q: Density, x: Tensor, n_eps: int = 400) -> Tensor:
    """Density at x of eps X + (1 - eps) Y, X ~ p, Y ~ q independent, eps ~ U[0, 1] (WGAN-GP's interpolates).

    For Gaussian components eps X + (1 - eps) Y is Gaussian with mean eps m_x + (1 - eps) m_y and variance
    eps^2 s_x^2 + (1 - eps)^2 s_y^2 (never 0), so the density is a smooth 1D integral over eps (midpoint
    rule).
    """
    eps = (torch.arange(n_eps, dtype=DTYPE) + 0.5) / n_eps
    density = torch.zeros_like(x)
    for wp, mp, sp in gaussian_components(p):
        for wq, mq, sq in gaussian_components(q):
            loc = eps * mp + (1 - eps) * mq
            scale = torch.sqrt(eps**2 * sp**2 + (1 - eps) ** 2 * sq**2)
            z = (x[:, None] - loc) / scale
            density += wp * wq * (torch.exp(-0.5 * z**2) / (scale * math.sqrt(2 * math.pi))).mean(1)
    return density
