"""Claims 1 and 2: the optimal discriminator and the value of the game at it.

Goodfellow et al., "Generative Adversarial Nets" (2014): Proposition 1 and Theorem 1.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_lightning.losses import nonsaturating_discriminator_loss
from gan_lightning.theory._training import (
    DATA,
    LOG4,
    MODEL,
    _critic,
    _optimal_logit,
    _save,
    _scores,
    _train,
)
from gan_lightning.theory.densities import DTYPE, Shifted, integrate, jsd, union_grid
from gan_lightning.theory.registry import CheckResult, register_check


# ---------------------------------------------------------------------------------------------- claim 1
@lru_cache(maxsize=2)
def _trained_discriminator(full: bool) -> nn.Module:
    """A discriminator trained with the library's non-saturating D loss on DATA (real) vs MODEL (fake).

    Shared by claims 1 and 2 (same seed, same network), so --all trains it once per size.
    """
    steps, hidden, batch = (3000, 64, 1024) if full else (400, 32, 256)
    critic = _critic(hidden, seed=1)

    def loss(d: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        return nonsaturating_discriminator_loss(d(real), d(fake))

    return _train(critic, loss, DATA, MODEL, steps, batch, lr=1e-2, seed=1).eval()


@register_check("optimal_discriminator", claim=1)
def optimal_discriminator(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 1: for fixed G a discriminator trained on samples converges to D* = p_data / (p_data + p_g).

    Goodfellow et al. (2014), Proposition 1 ("GAN 的数学推导", Q2: maximise a log y + b log(1 - y) pointwise). The
    D is the library's MLPDiscriminator trained with ``nonsaturating_discriminator_loss`` on fresh samples of
    p_data = (N(-1.5, 0.6^2) + N(1.5, 0.6^2)) / 2 and p_g = N(0.5, 1.2^2).

    Measured: the mean absolute error E_m |D(x) - D*(x)| under m = (p_data + p_g) / 2 (the density D is
    trained on), by quadrature on a grid. Tolerance: 0.02 (fast: 400 steps of 256 + 256 samples, 32 units) and
    0.01 (full: 3000 steps of 1024 + 1024, 64 units). A classifier that averages labels over a window of width
    h around x has a standard error sqrt(D (1 - D) / (N m(x) h)); with N ~ 1e5 draws (fast) and h ~ 0.3 that
    is ~0.005 where m is large, so the tolerance leaves 4x room for the network's bias and the last steps'
    noise, and the full run's 3e6 draws leave the same room at half the tolerance.
    """
    start = time.perf_counter()
    critic = _trained_discriminator(full)
    x = union_grid(DATA, MODEL, n=4001)
    p, q = DATA.prob(x), MODEL.prob(x)
    mixture = (p + q) / 2
    optimum = p / (p + q)
    trained = torch.sigmoid(_scores(critic, x))
    mae = integrate((trained - optimum).abs() * mixture, x)
    tolerance = 0.01 if full else 0.02

    def draw(figure) -> None:
        ax = figure.add_subplot()
        inside = mixture > 1e-3
        ax.plot(x[inside], optimum[inside], "k-", lw=2, label="D* = p_data / (p_data + p_g)")
        ax.plot(x[inside], trained[inside], "C3--", lw=2, label="trained D (non-saturating loss)")
        ax.plot(x, p / p.max() * 0.5, "C0:", label="p_data (scaled)")
        ax.plot(x, q / q.max() * 0.5, "C1:", label="p_g (scaled)")
        ax.set_xlim(-4.5, 5.5)
        ax.set_xlabel("x")
        ax.set_title(f"Claim 1: trained D vs D*  (mean |D - D*| = {mae:.4f})", fontsize=10)
        ax.legend(fontsize=7, loc="upper right")

    return CheckResult(
        name="optimal_discriminator",
        claim="1. trained D -> D* = p_data / (p_data + p_g)",
        closed_form="D*(x) = p_data(x) / (p_data(x) + p_g(x))",
        measured=f"E_m|D - D*| = {mae:.4f}",
        tolerance=f"< {tolerance}",
        passed=mae < tolerance,
        figures=_save(out, "optimal_discriminator", draw),
        values={"mae": mae},
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------- claim 2
@register_check("value_at_optimum", claim=2)
def value_at_optimum(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 2: V(G, D*) = 2 JSD(p_data || p_g) - log 4, with minimum -log 4 exactly at p_g = p_data.

    Goodfellow et al. (2014), Theorem 1 (also the notes "GAN", the lecture "Theory behind GAN" and
    "GAN 的数学推导"). V(G, D) = E_data[log D] + E_g[log(1 - D)] = -``nonsaturating_discriminator_loss``;
    expectations are the loss's batch mean over quantile samples (midpoint rule in u = F(x), n = 2^15: error
    ~1e-4), JSD by trapezoid quadrature (error < 1e-8).

    Measured, three ways:

    * V at the analytic D* (logit log p_data - log p_g) vs 2 JSD - log 4: equal within 1e-3 (quadrature).
    * V at claim 1's trained D: V(D) <= V(D*) for every D (D* maximises the integrand pointwise), so the
      gap V(D*) - V(D) must lie in [-1e-3, 0.01] (fast) or [-1e-3, 0.003] (full): the lower end is the
      quadrature error, the upper end the small excess loss of a D within 0.02 (0.01) of D* (the loss is
      quadratic around its optimum: ~E[(D - D*)^2 / (D*(1 - D*))] ~ 1e-3).
    * Over p_g = p_data shifted by t in [-2, 2], V(G_t, D*_t) is smallest at t = 0, where it equals -log 4
      (D* = 1/2: both terms are log 1/2 exactly): |V - (-log 4)| < 1e-12, and V > -log 4 for every t != 0.
    """
    start = time.perf_counter()
    xr, xf = DATA.quantile_samples(), MODEL.quantile_samples()
    logit = _optimal_logit(DATA, MODEL)
    closed = 2 * jsd(DATA, MODEL) - LOG4
    at_optimum = -float(nonsaturating_discriminator_loss(logit(xr), logit(xf)))
    critic = _trained_discriminator(full)
    trained = -float(nonsaturating_discriminator_loss(_scores(critic, xr), _scores(critic, xf)))
    gap = at_optimum - trained
    gap_tolerance = 0.003 if full else 0.01

    shifts = torch.linspace(-2, 2, 41, dtype=DTYPE)
    values = []
    for t in shifts.tolist():
        a = _optimal_logit(DATA, Shifted(DATA, t))
        values.append(-float(nonsaturating_discriminator_loss(a(xr), a(xr + t))))  # quantiles shift with p_g
    values_t = torch.tensor(values, dtype=DTYPE)
    at_zero = float(values_t[20])
    others_above = bool((values_t[torch.arange(41) != 20] > -LOG4).all())
    argmin_is_zero = int(values_t.argmin()) == 20
    passed = (
        abs(at_optimum - closed) < 1e-3
        and -1e-3 <= gap <= gap_tolerance
        and abs(at_zero + LOG4) < 1e-12
        and others_above
        and argmin_is_zero
    )

    def draw(figure) -> None:
        ax = figure.add_subplot()
        closed_t = [2 * jsd(DATA, Shifted(DATA, t)) - LOG4 for t in shifts.tolist()]
        ax.plot(shifts, closed_t, "k-", label="2 JSD - log 4 (quadrature)")
        ax.plot(shifts, values_t, "C3.", label="V(G, D*) (library loss)")
        ax.axhline(-LOG4, color="gray", ls=":", label="-log 4")
        ax.set_xlabel("shift t of p_g = p_data(x - t)")
        ax.set_title("Claim 2: V(G, D*) = 2 JSD - log 4, minimum at p_g = p_data", fontsize=10)
        ax.legend(fontsize=8)

    return CheckResult(
        name="value_at_optimum",
        claim="2. V(G, D*) = 2 JSD - log 4; min -log 4 iff p_g = p_data",
        closed_form=f"2 JSD - log 4 = {closed:.4f}; min -log 4 = {-LOG4:.4f}",
        measured=f"V(D*) = {at_optimum:.4f}, V(trained D) = {trained:.4f}; min {at_zero:.4f} at t = 0",
        tolerance=f"|V(D*) - cf| < 1e-3; 0 <= V(D*) - V(D) < {gap_tolerance}; min exact to 1e-12",
        passed=passed,
        figures=_save(out, "value_at_optimum", draw),
        details=[f"V(D*) - V(trained D) = {gap:.2e} (V(D) <= V(D*) for every D)"],
        values={"closed": closed, "at_optimum": at_optimum, "trained": trained, "at_zero": at_zero},
        seconds=time.perf_counter() - start,
    )
