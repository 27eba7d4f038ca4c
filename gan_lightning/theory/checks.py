"""The GAN theory as measured checks: one function per claim, each returning a :class:`CheckResult`.

Every check compares a closed form (an exact formula, or a quadrature of one) with a measurement made through
the library itself: its losses (:mod:`gan_lightning.losses`), penalties (:mod:`gan_lightning.penalties`),
f-divergence table (:mod:`gan_lightning.divergences`) and discriminator network. Critics are trained in plain
torch, float64, on fresh samples of 1D densities with a fixed seed. ``full=True`` runs the larger version of a
check (more steps, wider nets, every divergence, tighter tolerances): that is ``gan-lightning theory --all``.

Sources (seeds in shared/seeds, and the papers they cite; where a note and its paper disagree, the paper
wins):

* Goodfellow et al., 2014, "Generative Adversarial Nets" (arXiv:1406.2661): claims 1, 2.
* Arjovsky and Bottou, 2017, "Towards Principled Methods for Training GANs" (arXiv:1701.04862): claims 3, 4,
  5.
* Goodfellow, 2016, "NIPS 2016 Tutorial: GANs" (arXiv:1701.00160), seed 004: claims 5, 9.
* Mao et al., 2017, "Least Squares GANs" (arXiv:1611.04076), seed 001: claim 6.
* Nowozin et al., 2016, "f-GAN" (arXiv:1606.00709), seed 002: claim 7.
* Arjovsky et al., 2017, "Wasserstein GAN"; Gulrajani et al., 2017, "Improved Training of WGANs": claims 3, 8.

Slips found in the seeds (every one that changes a formula a check uses is pinned by tests/test_theory.py):

* 000 writes the discriminator's second term as E_{p_theta}[1 - log D] instead of E[log(1 - D)]; with the slip
  the optimum would not be p_data / (p_data + p_g) (claim 1 measures the right one).
* 000 names the Kantorovich-Rubinstein dual sup_{||f||_L <= 1} E_p f - E_q f "W_2"; it is W_1 (claim 8).
* 000 writes D*(x) = 1/2 - 0.5 at equilibrium; it is 1/2.
* 002 (and f-GAN's Table 1) pair the Pearson and Neyman chi^2 generators f with each other's integrals, and
  print the Jensen-Shannon integral with a factor 1/2 its f does not give (see gan_lightning/divergences.py).
  002's WGAN generator step minimises (1/m) sum log D(x^i) - ...; the log term is a leftover (constant in G).
* 003 writes argmin_theta E_{p_data}[log p_g] and then "argmax KL(p_g || p_data)": maximum likelihood is
  argmax E_{p_data}[log p_g] = argmin KL(p_data || p_g) (claim 5 measures the gradient of that KL).
  003's second derivative of a log y + b log(1 - y) is -a / y^2 - b / (1 - y)^2, not b / (1 - y^2).
* 004 states the maximum-likelihood generator cost without the tutorial's factor 1/2
  (J = -1/2 E exp(sigma^-1(D))); the library's :func:`maximum_likelihood_generator_loss` follows 004 (no 1/2),
  so its gradient is that of KL(p_data || p_g) itself, which claim 5 measures.
* Mao et al. (and 001) call int (2 p_g - (p_d + p_g))^2 / (p_d + p_g) "Pearson chi^2(p_d + p_g || 2 p_g)",
  following f-GAN's swapped Table 1 row; with D_f(P || Q) = int q f(p / q) and f(u) = (u - 1)^2 it is
  chi^2(2 p_g || p_d + p_g). Claim 6 pins the integral Mao et al. write.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_lightning.divergences import DIVERGENCES, FDivergence
from gan_lightning.losses import (
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    maximum_likelihood_generator_loss,
    minimax_generator_loss,
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
    wasserstein_critic_loss,
)
from gan_lightning.networks.mlp import MLPDiscriminator
from gan_lightning.penalties import gradient_penalty, input_gradient_norm, interpolate
from gan_lightning.theory.densities import (
    DTYPE,
    Bump,
    Density,
    Mixture,
    Normal,
    Shifted,
    grid,
    integrate,
    interpolate_density,
    jsd,
    kl,
    sorted_sample_w1,
    union_grid,
    wasserstein1,
    xlogy,
)

LOG4 = math.log(4.0)


@dataclass
class CheckResult:
    """One row of the theory table.

    Args:
        name: the check's name (``--only`` takes it; its figure is ``<out>/<name>.png``).
        claim: the claim, in one line.
        closed_form: the formula and its value.
        measured: what the library's code gave.
        tolerance: the allowed gap (justified in the check's docstring).
        passed: whether every assertion of the check held.
        figures: paths of the figures written.
        details: further measured lines (one per sub-case).
        values: the raw numbers, for tests.
        seconds: wall time of the check.
    """

    name: str
    claim: str
    closed_form: str
    measured: str
    tolerance: str
    passed: bool
    figures: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------- helpers
# p_data and p_g of claims 1, 2 and 6: a bimodal p_data and a Gaussian p_g that overlaps both modes.
DATA = Mixture([Normal(-1.5, 0.6), Normal(1.5, 0.6)], [0.5, 0.5])
MODEL = Normal(0.5, 1.2)


def _critic(hidden: int, seed: int) -> MLPDiscriminator:
    """The library's MLP discriminator (ReLU, 2 hidden layers) on 1D inputs, float64, seeded init."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLPDiscriminator(in_dim=1, hidden_dim=hidden, depth=2).to(DTYPE)


def _column(x: Tensor) -> Tensor:
    return x[:, None]


def _train(
    critic: nn.Module,
    loss: Callable[[nn.Module, Tensor, Tensor], Tensor],
    real: Density,
    fake: Density,
    steps: int,
    batch: int,
    lr: float,
    seed: int,
    betas: tuple[float, float] = (0.9, 0.999),
) -> nn.Module:
    """Minimise ``loss(critic, real_batch, fake_batch)`` with Adam on fresh samples, cosine-decayed lr to 0.

    The decay averages out the minibatch noise at the end, so the critic lands close to its population
    optimum.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        value = loss(critic, _column(real.sample(batch, generator)), _column(fake.sample(batch, generator)))
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        schedule.step()
    return critic


def _scores(critic: nn.Module, x: Tensor) -> Tensor:
    with torch.no_grad():
        return critic(_column(x))


def _optimal_logit(p: Density, q: Density) -> Callable[[Tensor], Tensor]:
    """x -> logit D*(x) = log p(x) - log q(x), the logit of D* = p / (p + q)."""
    return lambda x: p.log_prob(x) - q.log_prob(x)


def _save(out: Path | None, name: str, draw: Callable) -> list[str]:
    """Draw on a fresh matplotlib Figure (Agg canvas, no global state) and save ``<out>/<name>.png``."""
    if out is None:
        return []
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    draw(figure)
    figure.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    figure.savefig(path)
    return [str(path)]


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


def optimal_discriminator(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 1: for fixed G a discriminator trained on samples converges to D* = p_data / (p_data + p_g).

    Goodfellow et al. (2014), Proposition 1 (seed 003's Q2: maximise a log y + b log(1 - y) pointwise). The D
    is the library's MLPDiscriminator trained with ``nonsaturating_discriminator_loss`` on fresh samples of
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

    def draw(figure) -> None:  # noqa: ANN001
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
def value_at_optimum(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 2: V(G, D*) = 2 JSD(p_data || p_g) - log 4, with minimum -log 4 exactly at p_g = p_data.

    Goodfellow et al. (2014), Theorem 1 (seeds 000, 002, 003). V(G, D) = E_data[log D] + E_g[log(1 - D)] =
    -``nonsaturating_discriminator_loss``; expectations are the loss's batch mean over quantile samples
    (midpoint rule in u = F(x), n = 2^15: error ~1e-4), JSD by trapezoid quadrature (error < 1e-8).

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

    def draw(figure) -> None:  # noqa: ANN001
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


# ---------------------------------------------------------------------------------------------- claim 3
def jsd_vs_w1(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 3: JSD = log 2 for disjoint supports whatever their distance, while W1 equals the distance.

    Arjovsky et al. (2017), Example 1 (seed 002: "JS divergence is log 2 if two distributions do not
    overlap"). P = the bump 6 t (1 - t) on [0, 1] and Q_s = P shifted by s in [0, 3]: disjoint for s >= 1.
    W1(P, Q_s) = s for every s (a translation moves every unit of mass by s), and JSD(P, Q_s) = log 2 for
    s >= 1 (m = p / 2 on P's support and q / 2 on Q's: each KL is log 2), so JSD gives no gradient in s.

    Measured: JSD by trapezoid quadrature on a grid of step 2e-4 whose nodes include the bumps' edges (error
    O(h^2) < 1e-6 for the piecewise-quadratic integrands); W1 = int |F_P - F_Q| by the same quadrature (tol
    1e-6), and from sorted samples (two independent sets of n = 4096; the empirical W1 of a translation
    fluctuates by ~sd / sqrt(n) ~ 0.004, tolerance 0.03 = 7 standard errors).
    """
    start = time.perf_counter()
    base = Bump(0.0, 1.0)
    shifts = [0.25 * k for k in range(13)]
    x = grid(0.0, 4.0, 20001)
    generator = torch.Generator().manual_seed(3)
    real = base.sample(4096, generator)
    jsds, w1s, sampled = [], [], []
    for s in shifts:
        q = Shifted(base, s)
        jsds.append(jsd(base, q, x))
        w1s.append(wasserstein1(base, q, x))
        sampled.append(sorted_sample_w1(real, q.sample(4096, generator)))
    disjoint_jsd_error = max(abs(j - math.log(2)) for j, s in zip(jsds, shifts, strict=True) if s >= 1)
    w1_error = max(abs(w - s) for w, s in zip(w1s, shifts, strict=True))
    sample_error = max(abs(w - s) for w, s in zip(sampled, shifts, strict=True))
    overlap_below = all(j < math.log(2) - 1e-3 for j, s in zip(jsds, shifts, strict=True) if s < 1)
    passed = disjoint_jsd_error < 1e-6 and w1_error < 1e-6 and sample_error < 0.03 and overlap_below

    def draw(figure) -> None:  # noqa: ANN001
        ax = figure.add_subplot()
        ax.plot(shifts, w1s, "C0o-", label="W1 (quadrature)")
        ax.plot(shifts, sampled, "C0x", ms=9, label="W1 (sorted samples)")
        ax.plot(shifts, jsds, "C3s-", label="JSD (quadrature)")
        ax.axhline(math.log(2), color="C3", ls=":", label="log 2")
        ax.axvspan(1, 3, color="gray", alpha=0.12, label="disjoint supports")
        ax.set_xlabel("shift s of Q = P(x - s)  (P: bump on [0, 1])")
        ax.set_title("Claim 3: JSD saturates at log 2, W1 = s", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")

    return CheckResult(
        name="jsd_vs_w1",
        claim="3. disjoint supports: JSD = log 2 at any distance, W1 = distance",
        closed_form="JSD = log 2 = 0.6931 (s >= 1); W1 = s",
        measured=(
            f"max|JSD - log 2| = {disjoint_jsd_error:.1e} (s >= 1); max|W1 - s| = {w1_error:.1e}"
            " (quadrature),"
            f" {sample_error:.3f} (sorted samples)"
        ),
        tolerance="1e-6; 1e-6; 0.03",
        passed=passed,
        figures=_save(out, "jsd_vs_w1", draw),
        details=[
            f"s = {s:.2f}: JSD = {j:.4f}, W1 = {w:.4f}" for s, j, w in zip(shifts, jsds, w1s, strict=True)
        ],
        values={"jsd_error": disjoint_jsd_error, "w1_error": w1_error, "sample_error": sample_error},
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------- claim 4
def gradient_vanishing(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 4: as D approaches a perfect discriminator, the saturating generator gradient vanishes; the
    non-saturating one does not.

    Arjovsky and Bottou (2017), Theorem 2.4 and Figure 2; seed 000 eq. (13). With D = sigmoid(d):
    grad E[log(1 - D(G(z)))] = -E[D(G(z)) grad d(G(z))] -> 0 as D(G(z)) -> 0, while
    grad -E[log D(G(z))] = -E[(1 - D(G(z))) grad d(G(z))] keeps the size of grad d.

    Setup: p_data = the bump 6 t (1 - t) on [-1/2, 1/2], G(z) = mu + sigma z with z from the same bump and
    (mu, sigma) = (2, 1): the supports [-1/2, 1/2] and [3/2, 5/2] are disjoint, so D* is 0 on every fake. D
    (the library's MLP, Adam 1e-3) is trained with ``nonsaturating_discriminator_loss``; at checkpoints the
    gradients of the library's ``minimax_generator_loss`` (saturating) and ``nonsaturating_generator_loss``
    with respect to (mu, log sigma) are measured on 4096 quantile latents.

    Pass: the saturating gradient norm at the last checkpoint is below 1% of its largest value, and the
    non-saturating norm there is at least 100x the saturating one and at least half its own largest value (it
    does not vanish). The supports are disjoint, so D can separate them perfectly and E[D(G(z))] keeps falling
    (logistic loss on separable data: the margin grows like log(steps)); 300 steps (fast) take it to ~1e-5,
    where the saturating norm is ~0.2% of its largest value, 5x inside the tolerance; 3000 steps (full) take
    it to ~1e-6 and the tolerance to 0.1%.
    """
    start = time.perf_counter()
    data, noise = Bump(-0.5, 1.0), Bump(-0.5, 1.0)
    latents = noise.quantile_samples(4096)
    mu = torch.tensor(2.0, dtype=DTYPE, requires_grad=True)
    log_sigma = torch.tensor(0.0, dtype=DTYPE, requires_grad=True)
    checkpoints = [0, 3, 10, 30, 100, 300] + ([1000, 3000] if full else [])
    critic = _critic(32, seed=4)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(4)
    rows = []
    step = 0
    for checkpoint in checkpoints:
        while step < checkpoint:
            real = _column(data.sample(256, generator))
            fake = _column(2.0 + noise.sample(256, generator))
            loss = nonsaturating_discriminator_loss(critic(real), critic(fake))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        logits = critic(_column(mu + log_sigma.exp() * latents))
        saturating = torch.autograd.grad(minimax_generator_loss(logits), [mu, log_sigma], retain_graph=True)
        nonsaturating = torch.autograd.grad(nonsaturating_generator_loss(logits), [mu, log_sigma])
        rows.append(
            (
                checkpoint,
                float(torch.sigmoid(logits).mean().detach()),
                float(torch.stack(saturating).norm()),
                float(torch.stack(nonsaturating).norm()),
            )
        )
    steps_done, d_fake, sat, ns = (list(column) for column in zip(*rows, strict=True))
    sat_fraction = sat[-1] / max(sat)
    ratio = ns[-1] / sat[-1]
    limit = 0.001 if full else 0.01
    passed = sat_fraction < limit and ratio > 100 and ns[-1] > 0.5 * max(ns)

    def draw(figure) -> None:  # noqa: ANN001
        ax = figure.add_subplot()
        shown = [max(s, 0.5) for s in steps_done]  # step 0 drawn at 0.5 on the log axis
        ax.loglog(shown, sat, "C3o-", label="saturating: grad E[log(1 - D(G(z)))]")
        ax.loglog(shown, ns, "C0s-", label="non-saturating: grad -E[log D(G(z))]")
        ax.loglog(shown, d_fake, "k:", label="E[D(G(z))]")
        ax.set_xlabel("discriminator steps (0 drawn at 0.5)")
        ax.set_ylabel("generator gradient norm")
        ax.set_title("Claim 4: the saturating gradient vanishes as D improves", fontsize=10)
        ax.legend(fontsize=8)

    return CheckResult(
        name="gradient_vanishing",
        claim="4. near-perfect D: saturating G gradient -> 0, non-saturating does not",
        closed_form="|grad sat| = |E[D grad d]| -> 0; |grad ns| = |E[(1 - D) grad d]|",
        measured=(
            f"after {steps_done[-1]} D steps: E[D(G(z))] = {d_fake[-1]:.1e}, |grad sat| = {sat_fraction:.1e}"
            f" x its max, |grad ns| / |grad sat| = {ratio:.0f}"
        ),
        tolerance=f"sat < {limit:g} x max; ns/sat > 100; ns > 50% of its max",
        passed=passed,
        figures=_save(out, "gradient_vanishing", draw),
        details=[
            f"step {s}: E[D(G(z))] = {d:.2e}, |grad sat| = {a:.3e}, |grad ns| = {b:.3e}"
            for s, d, a, b in rows
        ],
        values={"sat_fraction": sat_fraction, "ratio": ratio, "d_fake": d_fake[-1]},
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------- claim 5
def _normal_density(x: Tensor, theta: Tensor) -> Tensor:
    """N(theta[0], exp(theta[1])^2) at x, differentiable in theta."""
    sigma = theta[1].exp()
    return torch.exp(-0.5 * ((x - theta[0]) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def _kl_t(p: Tensor, q: Tensor, x: Tensor) -> Tensor:
    return torch.trapezoid(xlogy(p, p) - xlogy(p, q), x)


def _jsd_t(p: Tensor, q: Tensor, x: Tensor) -> Tensor:
    m = (p + q) / 2
    return 0.5 * _kl_t(p, m, x) + 0.5 * _kl_t(q, m, x)


def generator_objectives(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 5: under D*, the non-saturating G loss has the gradient of KL(p_g || p_data) - 2 JSD(p_g ||
    p_data), and the maximum-likelihood G loss the gradient of KL(p_data || p_g).

    Arjovsky and Bottou (2017), Theorem 2.5; Goodfellow (2016, tutorial, section 3.2.3); seed 004. With
    D*(x) = p_data / (p_data + p_g_theta0) held fixed (the generator's step does not move D),

    * E_g[-log D*] = KL(p_g || p_data) - 2 JSD(p_g || p_data) + E_data[log D*] + log 4 (value identity; the
      last two terms do not depend on the generator's parameters once D* is fixed), so
      grad_theta E_g[-log D*] = grad_theta [KL(p_g || p_data) - 2 JSD(p_g || p_data)] at theta0;
    * grad_theta E_g[-exp(logit D*)] = grad_theta KL(p_data || p_g_theta) at theta0 (exp(logit D*) = p_data /
      p_g is the importance weight that turns an expectation under p_g into one under p_data);
    * and the saturating loss: grad_theta E_g[log(1 - D*)] = grad_theta 2 JSD(p_g || p_data) = grad V(G, D*).

    Setup: p_data the bimodal DATA, p_g = N(mu, sigma^2) with theta = (mu, log sigma) at (0.5, log 1.2).
    Measured: autograd through the library's ``nonsaturating_generator_loss``,
    ``maximum_likelihood_generator_loss`` and ``minimax_generator_loss`` on G(z) = mu + sigma z over 2^16
    quantile latents. Closed forms: autograd through trapezoid quadratures of KL and JSD on a 20001-point
    grid. Tolerance: 1e-3 relative (the latents' midpoint rule in u errs ~1e-4 from the tails; the quadrature
    <1e-8).
    """
    start = time.perf_counter()
    x = union_grid(DATA, MODEL)
    p_data = DATA.prob(x)
    theta0 = torch.tensor([MODEL.loc, math.log(MODEL.scale)], dtype=DTYPE)
    latents = Normal(0.0, 1.0).quantile_samples(2**16)
    logit = _optimal_logit(DATA, MODEL)  # D* of p_g at theta0, frozen

    def measured_grad(loss: Callable[[Tensor], Tensor]) -> tuple[float, Tensor]:
        theta = theta0.clone().requires_grad_(True)
        value = loss(logit(theta[0] + theta[1].exp() * latents))
        return float(value.detach()), torch.autograd.grad(value, theta)[0]

    def closed_grad(objective: Callable[[Tensor], Tensor]) -> Tensor:
        theta = theta0.clone().requires_grad_(True)
        return torch.autograd.grad(objective(_normal_density(x, theta)), theta)[0]

    ns_value, ns_grad = measured_grad(nonsaturating_generator_loss)
    ml_value, ml_grad = measured_grad(maximum_likelihood_generator_loss)
    mm_value, mm_grad = measured_grad(minimax_generator_loss)
    ns_closed = closed_grad(lambda p_g: _kl_t(p_g, p_data, x) - 2 * _jsd_t(p_g, p_data, x))
    ml_closed = closed_grad(lambda p_g: _kl_t(p_data, p_g, x))
    mm_closed = closed_grad(lambda p_g: 2 * _jsd_t(p_g, p_data, x))

    p_g = MODEL.prob(x)
    log_d_star = torch.log(p_data / (p_data + p_g))
    value_closed = kl(MODEL, DATA, x) - 2 * jsd(MODEL, DATA, x) + integrate(p_data * log_d_star, x) + LOG4

    def rel(a: Tensor, b: Tensor) -> float:
        return float((a - b).norm() / b.norm())

    errors = {
        "ns_grad": rel(ns_grad, ns_closed),
        "ml_grad": rel(ml_grad, ml_closed),
        "minimax_grad": rel(mm_grad, mm_closed),
        "ns_value": abs(ns_value - value_closed) / abs(value_closed),
    }
    passed = max(errors.values()) < 1e-3

    def draw(figure) -> None:  # noqa: ANN001
        # The tutorial's Figure 16: each generator cost as a function of D(G(z)), from the library's losses.
        ax = figure.add_subplot()
        d = torch.linspace(1e-3, 1 - 1e-3, 400, dtype=DTYPE)
        logits = torch.log(d) - torch.log1p(-d)
        for loss, label, style in (
            (minimax_generator_loss, "minimax: E[log(1 - D)]", "C3-"),
            (nonsaturating_generator_loss, "non-saturating: -E[log D]", "C0-"),
            (maximum_likelihood_generator_loss, "maximum likelihood: -E[exp(logit D)]", "C2-"),
        ):
            ax.plot(d, [float(loss(v[None])) for v in logits], style, label=label)
        ax.set_ylim(-20, 7)
        ax.set_xlabel("D(G(z))")
        ax.set_ylabel("generator cost")
        ax.set_title("Claim 5: generator costs vs D(G(z)) (Goodfellow 2016, Fig. 16)", fontsize=10)
        ax.legend(fontsize=8)

    def pair(a: Tensor) -> str:
        return f"({float(a[0]):.4f}, {float(a[1]):.4f})"

    return CheckResult(
        name="generator_objectives",
        claim="5. under D*: grad NS loss = grad[KL(g||d) - 2 JSD]; grad ML loss = grad KL(d||g)",
        closed_form=f"grad[KL(g||d) - 2 JSD] = {pair(ns_closed)}; grad KL(d||g) = {pair(ml_closed)}",
        measured=f"grad NS = {pair(ns_grad)}; grad ML = {pair(ml_grad)}",
        tolerance="1e-3 relative",
        passed=passed,
        figures=_save(out, "generator_objectives", draw),
        details=[
            f"minimax loss: grad = {pair(mm_grad)}, grad 2 JSD(g||d) = {pair(mm_closed)}",
            f"E_g[-log D*] = {ns_value:.5f}; KL - 2 JSD + E_d[log D*] + log 4 = {value_closed:.5f}",
            "relative errors: " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()),
        ],
        values=errors,
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------- claim 6
def _lsgan_generator_value(
    p: Density, q: Density, xr: Tensor, xf: Tensor, a: float, b: float, c: float
) -> float:
    """C(G) = 1/2 E_data[(D* - c)^2] + 1/2 E_g[(D* - c)^2] at D* = (b p + a q) / (p + q), by the library."""

    def optimum(x: Tensor) -> Tensor:
        pp, qq = p.prob(x), q.prob(x)
        return (b * pp + a * qq) / (pp + qq)

    return float(least_squares_generator_loss(optimum(xr), c) + least_squares_generator_loss(optimum(xf), c))


def lsgan_optimum(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 6: LSGAN's D* = (b p_data + a p_g) / (p_data + p_g), and with b - c = 1, b - a = 2 the
    generator's objective is chi^2 / 2 (Mao et al., 2017, eq. (4) and Theorem 1; seed 001).

    The chi^2 is the integral Mao et al. write, int (2 p_g - (p_d + p_g))^2 / (p_d + p_g) = int (p_g - p_d)^2
    / (p_d + p_g), which they call "Pearson chi^2(p_d + p_g || 2 p_g)" (see the module docstring for the
    naming). C(G) = 1/2 E_d[(D* - c)^2] + 1/2 E_g[(D* - c)^2]: the first term is the constant (in G's
    parameters, D fixed) Mao et al. add; with b - c = 1 and a - c = -1, D* - c = (p_d - p_g) / (p_d + p_g) and
    C(G) = chi^2 / 2 exactly.

    Measured: (i) a D trained with the library's ``least_squares_discriminator_loss`` (a, b) = (-1, 1) against
    D*, E_m |D - D*| under m = (p_d + p_g) / 2; tolerance 0.04 fast / 0.02 full (claim 1's, doubled because
    the targets span b - a = 2 instead of 1); (ii) C(G) from ``least_squares_generator_loss`` on quantile
    samples for (a, b, c) = (-1, 1, 0) and (0, 2, 1) against chi^2 / 2 by quadrature, tolerance 1e-3 (midpoint
    rule); (iii) with b = c = 1, a = 0 (the other choice of the paper) C(G) differs from chi^2 / 2 by more
    than 0.01.
    """
    start = time.perf_counter()
    steps, hidden, batch = (3000, 64, 1024) if full else (400, 32, 256)

    def loss(d: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        return least_squares_discriminator_loss(d(real), d(fake), a=-1.0, b=1.0)

    critic = _train(_critic(hidden, seed=6), loss, DATA, MODEL, steps, batch, lr=1e-2, seed=6)
    x = union_grid(DATA, MODEL, n=4001)
    p, q = DATA.prob(x), MODEL.prob(x)
    optimum = (p - q) / (p + q)
    trained = _scores(critic, x)
    mae = integrate((trained - optimum).abs() * (p + q) / 2, x)
    tolerance = 0.02 if full else 0.04

    xq = union_grid(DATA, MODEL)
    pq, qq = DATA.prob(xq), MODEL.prob(xq)
    chi2 = integrate((2 * qq - (pq + qq)) ** 2 / (pq + qq), xq)
    xr, xf = DATA.quantile_samples(), MODEL.quantile_samples()
    values = {
        abc: _lsgan_generator_value(DATA, MODEL, xr, xf, *abc) for abc in [(-1, 1, 0), (0, 2, 1), (0, 1, 1)]
    }
    errors = [abs(values[abc] - chi2 / 2) for abc in [(-1, 1, 0), (0, 2, 1)]]
    off = abs(values[(0, 1, 1)] - chi2 / 2)
    passed = mae < tolerance and max(errors) < 1e-3 and off > 0.01

    def draw(figure) -> None:  # noqa: ANN001
        ax = figure.add_subplot()
        inside = (p + q) / 2 > 1e-3
        ax.plot(x[inside], optimum[inside], "k-", lw=2, label="D* = (b p_d + a p_g) / (p_d + p_g)")
        ax.plot(x[inside], trained[inside], "C3--", lw=2, label="trained D (least-squares loss)")
        ax.set_xlabel("x")
        ax.set_title(f"Claim 6: LSGAN D*, (a, b) = (-1, 1)  (mean |D - D*| = {mae:.4f})", fontsize=10)
        ax.legend(fontsize=8)

    return CheckResult(
        name="lsgan_optimum",
        claim="6. LSGAN: D* = (b p_d + a p_g)/(p_d + p_g); b-c=1, b-a=2: C(G) = chi^2/2",
        closed_form=f"chi^2(p_d + p_g || 2 p_g) / 2 = {chi2 / 2:.5f}",
        measured=(
            f"E_m|D - D*| = {mae:.4f}; C(G) = {values[(-1, 1, 0)]:.5f} (-1, 1, 0),"
            f" {values[(0, 2, 1)]:.5f} (0, 2, 1)"
        ),
        tolerance=f"< {tolerance}; C(G) within 1e-3",
        passed=passed,
        figures=_save(out, "lsgan_optimum", draw),
        details=[f"(a, b, c) = (0, 1, 1) (b = c, not the chi^2 setting): C(G) = {values[(0, 1, 1)]:.5f}"],
        values={"mae": mae, "chi2_error": max(errors), "off": off},
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------- claim 8
def _penalised_optimum(p: Density, q: Density, lam: float, x: Tensor) -> tuple[Tensor, Tensor]:
    """Slope f'(x) of the 1D critic maximising E_P f - E_Q f - lam E_h[(|f'| - 1)^2], and the density h.

    E_P f - E_Q f = int f' G with G = F_Q - F_P, so the objective is int [f' G - lam h (|f'| - 1)^2] dx and is
    maximised pointwise: f' = sign(G) (1 + |G| / (2 lam h)).
    """
    gap = q.cdf(x) - p.cdf(x)
    h = interpolate_density(p, q, x).clamp_min(1e-300)
    return torch.sign(gap) * (1 + gap.abs() / (2 * lam * h)), h


def wgan_gp_critic(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 8: a gradient-penalised critic's E_P[f] - E_Q[f] approaches W1(P, Q), and its gradient norm is 1
    on the interpolates, both as lambda grows, with an O(1 / lambda) excess that has a closed form in 1D.

    Arjovsky et al. (2017): Kantorovich-Rubinstein duality W1 = sup_{||f||_L <= 1} E_P f - E_Q f (seed 000
    calls it W_2; the dual of W_2 is not an IPM over 1-Lipschitz functions: it is W_1). In 1D, W1 = int |F_P -
    F_Q| and the optimal critic has f' = sign(F_Q - F_P), slope 1 (Gulrajani et al., 2017, Proposition 1).

    WGAN-GP (Gulrajani et al., 2017, eq. (3)) replaces the constraint by lam E_h[(||grad f|| - 1)^2] over the
    interpolates' density h. In 1D its maximiser is pointwise (see :func:`_penalised_optimum`):
    f' = sign(G) (1 + |G| / (2 lam h)), G = F_Q - F_P, so at the penalised optimum

    * E_P f - E_Q f = W1 + int G^2 / (2 lam h) dx (overestimates W1 by O(1 / lam));
    * E_h |(|f'|) - 1| = int |G| / (2 lam) dx = W1 / (2 lam) exactly.

    Setup: P = DATA (modes at -1.5, 1.5), Q = N(2, 0.5^2): F_P >= F_Q except ~3 standard deviations out, so
    f* is monotone. (With crossing CDFs, e.g. Q = N(0, 0.5^2) where f* = |x|, the two-sided penalty's double
    well in f' at -1 and +1 traps the critic in a nearly linear f from a random start: on 4 of 4 seeds the
    estimate stayed at 0.07 for a W1 of 1.10. The penalty is not concave in f', so the game has local optima.)
    The library's ``wasserstein_critic_loss`` + lam ``gradient_penalty`` trains the library's MLP (Adam betas
    (0.5, 0.9) as WGAN-GP) for lam = 10 (the paper's) and lam = 100; the estimate is -wasserstein_critic_loss
    on quantile samples (exact expectations); ``input_gradient_norm`` on 8192 random interpolates.

    Tolerances: estimate within 1% of the closed-form penalised optimum (fast: 400 steps of 256 samples; full:
    2000 of 512), so at lam = 100 within 2.3% of W1 itself. A trained critic sits slightly below the optimum
    (~0.4% at lam = 10 after 2000 steps): the optimal slope 1 + |G| / (2 lam h) is steep where the
    interpolates are rare, and few samples land there; E|(|f'|) - 1| within 0.015 (fast) / 0.005 (full) of
    W1 / (2 lam): a Monte Carlo mean over 8192 interpolates has s.e. ~0.002, and the slope of a critic trained
    on minibatches wobbles by ~1% after 400 steps (the full run's 2000 steps bring that under 0.5%). The
    sorted-sample W1 of 4096 + 4096 samples is a third estimate (tolerance 0.03, ~7 standard errors).
    """
    start = time.perf_counter()
    p, q = DATA, Normal(2.0, 0.5)
    steps, batch = (2000, 512) if full else (400, 256)
    limit, norm_limit = 0.01, (0.005 if full else 0.015)
    x = union_grid(p, q, n=4001)
    exact = wasserstein1(p, q, x)
    xr, xf = p.quantile_samples(), q.quantile_samples()
    sampler = torch.Generator().manual_seed(81)
    real, fake = p.sample(8192, sampler), q.sample(8192, sampler)
    interpolates = interpolate(_column(real), _column(fake), torch.rand(8192, dtype=DTYPE, generator=sampler))
    sampled = sorted_sample_w1(real[:4096], fake[:4096])
    rows, critics = [], {}
    for lam in (10.0, 100.0):
        slope, h = _penalised_optimum(p, q, lam, x)
        predicted = integrate(slope * (q.cdf(x) - p.cdf(x)), x)
        eps_generator = torch.Generator().manual_seed(80)

        def loss(
            f: nn.Module,
            real: Tensor,
            fake: Tensor,
            lam: float = lam,
            eps_generator: torch.Generator = eps_generator,
        ) -> Tensor:
            eps = torch.rand(real.shape[0], dtype=DTYPE, generator=eps_generator)
            return wasserstein_critic_loss(f(real), f(fake)) + lam * gradient_penalty(f, real, fake, eps)

        critic = _train(_critic(32, seed=8), loss, p, q, steps, batch, lr=3e-3, seed=8, betas=(0.5, 0.9))
        critics[lam] = (critic, slope, h)
        estimate = -float(wasserstein_critic_loss(_scores(critic, xr), _scores(critic, xf)))
        norm_error = float((input_gradient_norm(critic, interpolates).detach() - 1).abs().mean())
        rows.append((lam, predicted, estimate, norm_error, exact / (2 * lam)))
    passed = (
        all(abs(e - pr) / pr < limit and abs(n - nn_) < norm_limit for _, pr, e, n, nn_ in rows)
        and abs(sampled - exact) < 0.03
    )

    def draw(figure) -> None:  # noqa: ANN001
        left, right = figure.subplots(1, 2)
        inside = (x >= -3.0) & (x <= 4.0)
        for (lam, *_), color in zip(rows, ("C3", "C2"), strict=True):
            critic, slope, _ = critics[lam]
            measured = input_gradient_norm(critic, _column(x[inside])).detach()
            left.plot(x[inside], slope[inside].abs(), "k-", lw=1)
            left.plot(x[inside], measured, f"{color}--", lw=2, label=f"|f'| of the critic, lambda = {lam:g}")
        left.set_ylim(0.9, 1.6)
        left.set_xlabel("x")
        left.set_title("slopes (black: 1 + |G| / (2 lambda h))", fontsize=9)
        left.legend(fontsize=7)
        lams = torch.logspace(0.5, 3, 50, dtype=DTYPE)
        gap, h = q.cdf(x) - p.cdf(x), critics[10.0][2]
        right.semilogx(
            lams,
            [exact + integrate(gap**2 / (2 * lam * h), x) for lam in lams.tolist()],
            "k-",
            label="W1 + int G^2 / (2 lambda h)",
        )
        right.axhline(exact, color="C0", ls=":", label=f"W1 = {exact:.3f}")
        right.semilogx([r[0] for r in rows], [r[2] for r in rows], "C3o", label="trained critic")
        right.set_xlabel("lambda")
        right.set_title("E_P f - E_Q f", fontsize=9)
        right.legend(fontsize=7)
        figure.suptitle("Claim 8: WGAN-GP critic -> W1 as lambda grows", fontsize=10)

    return CheckResult(
        name="wgan_gp_critic",
        claim="8. WGAN-GP critic: E_P f - E_Q f -> W1, |grad f| -> 1 on interpolates",
        closed_form=(
            f"W1 = {exact:.4f}; at lambda = 10, 100: W1 + int G^2/(2 lambda h) = {rows[0][1]:.4f},"
            f" {rows[1][1]:.4f};"
            f" E||grad f| - 1| = W1/(2 lambda) = {rows[0][4]:.3f}, {rows[1][4]:.3f}"
        ),
        measured=(
            f"E_P f - E_Q f = {rows[0][2]:.4f}, {rows[1][2]:.4f}; E||grad f| - 1| = {rows[0][3]:.3f},"
            f" {rows[1][3]:.3f}"
        ),
        tolerance=f"{limit:.1%}; {norm_limit}",
        passed=passed,
        figures=_save(out, "wgan_gp_critic", draw),
        details=[
            f"lambda = {lam:g}: estimate {e:.4f} vs W1 {exact:.4f} ({(e - exact) / exact:+.2%})"
            for lam, _, e, *_ in rows
        ]
        + [f"W1 from 4096 + 4096 sorted samples = {sampled:.4f} (tolerance 0.03)"],
        values={
            "estimate_error": max(abs(e - pr) / pr for _, pr, e, *_ in rows),
            "norm_error": max(abs(n - nn_) for *_, n, nn_ in rows),
            "lambda100_vs_w1": abs(rows[1][2] - exact) / exact,
            "sampled_error": abs(sampled - exact),
        },
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------- claim 9
def _play_bilinear(lr: float, steps: int, alternating: bool) -> Tensor:
    """Gradient play on V(x, y) = x y from (1, 1): x ascends (max), y descends (min), with torch's SGD.

    Simultaneous: both players step on the same gradients. Alternating: x steps, then y answers the new x.
    Returns the (steps + 1, 2) trajectory.
    """
    x = torch.tensor(1.0, dtype=DTYPE, requires_grad=True)
    y = torch.tensor(1.0, dtype=DTYPE, requires_grad=True)
    max_x = torch.optim.SGD([x], lr=lr, maximize=True)
    min_y = torch.optim.SGD([y], lr=lr)
    path = [(1.0, 1.0)]
    for _ in range(steps):
        if alternating:
            max_x.zero_grad()
            (x * y).backward()
            max_x.step()
            min_y.zero_grad()
            (x * y).backward()
            min_y.step()
        else:
            max_x.zero_grad()
            min_y.zero_grad()
            (x * y).backward()
            max_x.step()
            min_y.step()
        path.append((float(x.detach()), float(y.detach())))
    return torch.tensor(path, dtype=DTYPE)


def bilinear_game(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 9: on min_y max_x x y, simultaneous gradient steps spiral away from the equilibrium (0, 0);
    alternating steps cycle around it.

    Goodfellow (2016, tutorial, section 8.2 and exercise 8.2; seed 004). Simultaneous:
    (x, y) <- (x + lr y, y - lr x), so x^2 + y^2 grows by exactly (1 + lr^2) per step: the radius after T
    steps is r0 (1 + lr^2)^(T/2). Alternating: x <- x + lr y, then y <- y - lr x: a map of determinant 1 that
    keeps x^2 + y^2 + lr x y constant (check: substitute), an ellipse around (0, 0) for lr < 2, so the
    iterates stay bounded and circle forever.

    Measured with torch.optim.SGD (maximize=True for x), lr = 0.1, 300 steps, float64: the radius ratio
    against (1 + lr^2)^(T/2) (tolerance 1e-10 relative: only rounding), the drift of the invariant (1e-10
    relative), and that the alternating iterates wind around the origin at least once (the polar angle turns
    by > 2 pi).
    """
    start = time.perf_counter()
    lr, steps = 0.1, 300
    simultaneous = _play_bilinear(lr, steps, alternating=False)
    alternating = _play_bilinear(lr, steps, alternating=True)
    radius = simultaneous.norm(dim=1)
    growth = float(radius[-1] / radius[0])
    expected = (1 + lr**2) ** (steps / 2)
    per_step = (radius[1:] / radius[:-1]) / math.sqrt(1 + lr**2) - 1
    invariant = alternating[:, 0] ** 2 + alternating[:, 1] ** 2 + lr * alternating[:, 0] * alternating[:, 1]
    drift = float((invariant - invariant[0]).abs().max() / invariant[0])
    angle = torch.atan2(alternating[:, 1], alternating[:, 0])
    turned = float((angle.diff() + math.pi).remainder(2 * math.pi).sub(math.pi).abs().sum())
    bound = math.sqrt(float(invariant[0]) / (1 - lr / 2))  # x^2 + y^2 <= Q / (1 - lr / 2) on the ellipse
    max_alternating = float(alternating.norm(dim=1).max())
    passed = (
        abs(growth / expected - 1) < 1e-10
        and float(per_step.abs().max()) < 1e-10
        and drift < 1e-10
        and max_alternating <= bound + 1e-12
        and turned > 2 * math.pi
    )

    def draw(figure) -> None:  # noqa: ANN001
        ax = figure.add_subplot()
        ax.plot(simultaneous[:, 0], simultaneous[:, 1], "C3-", lw=1, label="simultaneous: spirals out")
        ax.plot(alternating[:, 0], alternating[:, 1], "C0-", lw=1.5, label="alternating: cycles")
        ax.plot([0], [0], "k*", ms=10, label="Nash equilibrium (0, 0)")
        ax.plot([1], [1], "ko", ms=4, label="start (1, 1)")
        ax.set_aspect("equal")
        ax.set_xlabel("x (maximises xy)")
        ax.set_ylabel("y (minimises xy)")
        ax.set_title(f"Claim 9: min_y max_x xy, lr = {lr}, {steps} steps", fontsize=10)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))

    return CheckResult(
        name="bilinear_game",
        claim="9. min_y max_x xy: simultaneous steps spiral out, alternating steps cycle",
        closed_form=(
            f"r_T / r_0 = (1 + lr^2)^(T/2) = {expected:.4f}; alternating keeps x^2 + y^2 + lr xy,"
            f" r <= {bound:.4f}"
        ),
        measured=(
            f"r_T / r_0 = {growth:.4f}; invariant drift {drift:.1e}, max r = {max_alternating:.4f},"
            f" turned {turned / (2 * math.pi):.1f} times"
        ),
        tolerance="1e-10 relative",
        passed=passed,
        figures=_save(out, "bilinear_game", draw),
        values={"growth_error": abs(growth / expected - 1), "drift": drift, "turns": turned / (2 * math.pi)},
        seconds=time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------- claim 7
# P and Q of the f-GAN bound: equal variances keep every divergence of the table finite (Pearson and Neyman
# chi^2 both equal exp(0.8^2) - 1) and make log(p / q) linear, so every optimal critic is smooth and monotone.
FGAN_P, FGAN_Q = Normal(0.0, 1.0), Normal(0.8, 1.0)
FAST_DIVERGENCES = ("kl", "reverse_kl", "js")


def _divergence_by_quadrature(divergence: FDivergence, p: Tensor, q: Tensor, x: Tensor) -> float:
    """D_f(P || Q) = int q f(p / q) dx by trapezoid quadrature, with the library's f."""
    return integrate(q * divergence.f(p / q), x)


def fgan_bounds(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 7a: for every divergence of the f-GAN table, a trained critic's bound E_P[T] - E_Q[f*(T)]
    approaches D_f(P || Q) from below.

    Nowozin et al. (2016), eq. (4) (Nguyen et al., 2010): D_f(P || Q) >= sup_T E_P[T] - E_Q[f*(T)] by
    Fenchel's inequality f(u) >= t u - f*(t), with equality at T*(x) = f'(p(x) / q(x)) (seed 002).

    Measured, with :mod:`gan_lightning.divergences` (f, f', f*, g_f and ``lower_bound``):

    * every divergence: E_P[T*] - E_Q[f*(T*)] at T* = f'(p / q) equals int q f(p / q) (quadrature, 1e-6
      relative), and the table's integrals are the right ones: kl = KL(P || Q), reverse_kl = KL(Q || P),
      js = 2 JSD, weighted_js(1/2) = JSD, gan = 2 JSD - log 4, jeffrey = KL + reverse KL, pearson =
      int (p - q)^2 / q, neyman = int (q - p)^2 / p, squared_hellinger = int (sqrt p - sqrt q)^2,
      total_variation = 1/2 int |p - q| (1e-6 relative);
    * a critic V (the library's MLP) trained to maximise ``lower_bound`` on fresh samples of P = N(0, 1) and
      Q = N(0.8, 1): fast for kl, reverse_kl, js (400 steps, 32 units), full for all ten (1000 steps, 64
      units). Its bound int p g_f(V) - q f*(g_f(V)) is integrated on the grid with the library's
      ``activation`` and ``conjugate_of_activation`` (the two means ``lower_bound`` takes), so it is an exact
      expectation: quantile samples are not accurate enough here (for Neyman chi^2, E_P[g_f(V)] weighs
      (q / p)^2, which grows exponentially in P's tail, and 2^15 quantile samples put the bound 0.3% *above*
      D_f); ``lower_bound`` on quantile samples is reported in the details. Pass:
      -1e-6 <= (D_f - bound) / |D_f| <= 3%: the lower end is quadrature error only (the bound can never
      exceed D_f); the upper end the critic's shortfall, ~0.1% for most divergences and up to ~2% for Pearson
      chi^2 (fast settings), whose T* = 2 (p / q - 1) grows exponentially in x where samples are few.
    """
    start = time.perf_counter()
    x = union_grid(FGAN_P, FGAN_Q)
    p, q = FGAN_P.prob(x), FGAN_Q.prob(x)
    m = (p + q) / 2

    def kl_t(a: Tensor, b: Tensor) -> float:
        return integrate(xlogy(a, a) - xlogy(a, b), x)

    jsd_value = 0.5 * kl_t(p, m) + 0.5 * kl_t(q, m)
    independent = {
        "total_variation": 0.5 * integrate((p - q).abs(), x),
        "kl": kl_t(p, q),
        "reverse_kl": kl_t(q, p),
        "pearson": integrate((p - q) ** 2 / q, x),
        "neyman": integrate((q - p) ** 2 / p, x),
        "squared_hellinger": integrate((p.sqrt() - q.sqrt()) ** 2, x),
        "jeffrey": kl_t(p, q) + kl_t(q, p),
        "js": 2 * jsd_value,
        "weighted_js": jsd_value,
        "gan": 2 * jsd_value - LOG4,
    }
    names = list(DIVERGENCES) if full else list(FAST_DIVERGENCES)
    steps, hidden, batch = (1000, 64, 512) if full else (400, 32, 256)
    xr, xf = FGAN_P.quantile_samples(), FGAN_Q.quantile_samples()
    details, table_errors, gaps = [], {}, {}
    for name, divergence in DIVERGENCES.items():
        exact = _divergence_by_quadrature(divergence, p, q, x)
        optimal = divergence.f_prime(p / q)
        fenchel = integrate(p * optimal - q * divergence.conjugate(optimal), x)
        table_errors[name] = max(abs(fenchel - exact), abs(independent[name] - exact)) / abs(exact)
        line = f"{name}: D_f = {exact:.5f}, bound at T* = {fenchel:.5f}"
        if name in names:

            def loss(
                v: nn.Module, real: Tensor, fake: Tensor, divergence: FDivergence = divergence
            ) -> Tensor:
                return -divergence.lower_bound(v(real), v(fake))

            critic = _train(_critic(hidden, seed=7), loss, FGAN_P, FGAN_Q, steps, batch, lr=1e-2, seed=7)
            v = _scores(critic, x)
            bound = integrate(p * divergence.activation(v) - q * divergence.conjugate_of_activation(v), x)
            sampled = float(divergence.lower_bound(_scores(critic, xr), _scores(critic, xf)))
            gaps[name] = (exact - bound) / abs(exact)
            line += f", trained critic's bound = {bound:.5f} ({gaps[name]:+.2%} below)"
            line += f" (lower_bound on quantile samples: {sampled:.5f})"
        details.append(line)
    passed = max(table_errors.values()) < 1e-6 and all(-1e-6 <= g <= 0.03 for g in gaps.values())

    def draw(figure) -> None:  # noqa: ANN001
        ax = figure.add_subplot()
        shown = list(gaps)
        ax.bar(range(len(shown)), [100 * gaps[n] for n in shown], color="C0")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(range(len(shown)), shown, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("(D_f - bound) / |D_f|  [%]")
        ax.set_title("Claim 7: f-GAN critics' bounds sit just below D_f", fontsize=10)

    worst = max(gaps, key=lambda n: gaps[n])
    return CheckResult(
        name="fgan_bounds",
        claim="7a. f-GAN: trained E_P[T] - E_Q[f*(T)] -> D_f(P||Q) from below, every divergence",
        closed_form="D_f = int q f(p/q) = bound at T* = f'(p/q) (all 10 divergences)",
        measured=(
            f"T*: max rel. error {max(table_errors.values()):.1e}; trained ({len(gaps)}): gap in"
            f" [{min(gaps.values()):+.2%}, {max(gaps.values()):+.2%}] (worst {worst})"
        ),
        tolerance="1e-6; gap in [-1e-6, 3%]",
        passed=passed,
        figures=_save(out, "fgan_bounds", draw),
        details=details,
        values={"table_error": max(table_errors.values()), **{f"gap_{n}": g for n, g in gaps.items()}},
        seconds=time.perf_counter() - start,
    )


MODES = Mixture([Normal(-2.0, 0.5), Normal(2.0, 0.5)], [0.5, 0.5])


def _fit_gaussian_exactly(divergence: FDivergence, start: tuple[float, float]) -> tuple[float, float]:
    """(mu, sigma) of the N(mu, sigma^2) minimising D_f(MODES || N) by quadrature (L-BFGS from `start`)."""
    x = grid(-8.0, 8.0, 4001)
    p = MODES.prob(x)
    theta = torch.tensor([start[0], math.log(start[1])], dtype=DTYPE, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [theta], max_iter=200, line_search_fn="strong_wolfe", tolerance_grad=1e-10, tolerance_change=1e-12
    )

    def closure() -> Tensor:
        optimizer.zero_grad()
        q = _normal_density(x, theta).clamp_min(1e-300)  # q underflows far out; q f(p / q) -> its limit there
        value = torch.trapezoid(q * divergence.f(p / q), x)
        value.backward()
        return value

    optimizer.step(closure)
    return float(theta[0].detach()), float(theta[1].detach().exp())


def _fit_gaussian_by_fgan(
    divergence: FDivergence, start: tuple[float, float], steps: int
) -> tuple[float, float]:
    """(mu, sigma) of a Gaussian generator trained in the f-GAN game against a critic on MODES.

    Critic: maximises ``lower_bound`` (300 steps alone first, then 2 per generator step, Adam 3e-3). Generator
    G(z) = mu + sigma z: minimises the same bound, i.e. maximises E_Q[f*(g_f(V(G(z))))] (Adam 3e-3).
    """
    critic = _critic(32, seed=71)
    theta = torch.tensor([start[0], math.log(start[1])], dtype=DTYPE, requires_grad=True)
    critic_optimizer = torch.optim.Adam(critic.parameters(), lr=3e-3, betas=(0.5, 0.999))
    generator_optimizer = torch.optim.Adam([theta], lr=1e-2, betas=(0.5, 0.999))
    generator = torch.Generator().manual_seed(71)
    tail = []

    def fake() -> Tensor:
        return _column(theta[0] + theta[1].exp() * torch.randn(256, dtype=DTYPE, generator=generator))

    for step in range(-300, steps):
        for _ in range(2 if step >= 0 else 1):
            loss = -divergence.lower_bound(
                critic(_column(MODES.sample(256, generator))), critic(fake().detach())
            )
            critic_optimizer.zero_grad()
            loss.backward()
            critic_optimizer.step()
        if step >= 0:
            loss = -divergence.conjugate_of_activation(critic(fake())).mean()
            generator_optimizer.zero_grad()
            loss.backward()
            generator_optimizer.step()
            if step >= steps * 4 // 5:
                tail.append(theta.detach().clone())
    mean = torch.stack(tail).mean(0)  # Polyak average of the last fifth: the game's noise averages out
    return float(mean[0]), float(mean[1].exp())


def mode_covering(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 7b: fitting one Gaussian to a two-mode mixture, KL(P || Q) covers both modes, reverse KL seeks
    one.

    Goodfellow (2016, tutorial, Figure 14; seed 004), Nowozin et al. (2016, section 4 and Table 4; seed 002).
    P = (N(-2, 0.5^2) + N(2, 0.5^2)) / 2; Q = N(mu, sigma^2) from (mu, sigma) = (1.5, 1).

    Closed forms: minimising KL(P || Q) over Gaussians is moment matching, sigma = sd(P) = sqrt(0.5^2 + 2^2) =
    2.0616 and mu = 0, exactly. KL(Q || P) at Q = one component is log 2 (p = q / 2 there, up to the other
    mode's e^-32 overlap), and its minimiser is that component: sigma = 0.5, mu = 2. (KL(Q || P) also has a
    symmetric stationary point, mu = 0 and sigma = 1.74: from mu = 0.5 both the exact descent and the f-GAN
    game end there; the start 1.5 lies in the mode's basin.)

    Measured: (fast) the exact minimiser of D_f(P || Q) by quadrature with the library's f for every
    divergence (L-BFGS), pass if |sigma_KL - 2.0616| < 1e-3 and |sigma_RKL - 0.5| < 0.01 and |mu_RKL - 2| <
    0.01 (the grid and the optimiser's stopping rule: < 1e-3); (full, also) the f-GAN game with the library's
    ``lower_bound`` for kl and reverse_kl, 2000 generator steps (sigma, mu averaged over the last 400): pass
    if sigma is within 5% of the closed form for both and mu_RKL within 0.1 of 2. The game is noisy
    (minibatches of 256, constant Adam 1e-2 moves sigma by ~2% between steps) and slow along mu for KL (its
    gradient in mu is mu / sigma^2 ~ mu / 4, so mu_KL is reported, not asserted: 0.15 after 2000 steps).
    """
    start = time.perf_counter()
    origin = (1.5, 1.0)
    fits = {name: _fit_gaussian_exactly(divergence, origin) for name, divergence in DIVERGENCES.items()}
    covering = math.sqrt(0.25 + 4.0)
    passed = (
        abs(fits["kl"][1] - covering) < 1e-3
        and abs(fits["reverse_kl"][1] - 0.5) < 0.01
        and abs(fits["reverse_kl"][0] - 2.0) < 0.01
    )
    games = {}
    if full:
        games = {
            name: _fit_gaussian_by_fgan(DIVERGENCES[name], origin, 2000) for name in ("kl", "reverse_kl")
        }
        passed = (
            passed
            and abs(games["kl"][1] / covering - 1) < 0.05
            and abs(games["reverse_kl"][1] / 0.5 - 1) < 0.05
            and abs(games["reverse_kl"][0] - 2.0) < 0.1
        )

    def draw(figure) -> None:  # noqa: ANN001
        ax = figure.add_subplot()
        xs = grid(-6.0, 6.0, 1201)
        ax.fill_between(xs, MODES.prob(xs), color="gray", alpha=0.3, label="P (two modes)")
        for name, style in (("kl", "C0-"), ("reverse_kl", "C3-")):
            mu, sigma = fits[name]
            ax.plot(xs, Normal(mu, sigma).prob(xs), style, label=f"min {name}: sigma = {sigma:.3f}")
            if name in games:
                mu, sigma = games[name]
                ax.plot(
                    xs,
                    Normal(mu, sigma).prob(xs),
                    style[:2] + "--",
                    label=f"f-GAN {name}: sigma = {sigma:.3f}",
                )
        ax.set_xlabel("x")
        ax.set_title("Claim 7: KL(P||Q) covers the modes, KL(Q||P) seeks one", fontsize=10)
        ax.legend(fontsize=7)

    mu_rkl, sigma_rkl = fits["reverse_kl"]
    measured = f"sigma_KL = {fits['kl'][1]:.4f}, sigma_RKL = {sigma_rkl:.4f} (mu {mu_rkl:.3f})"
    if games:
        measured += (
            f"; f-GAN: {games['kl'][1]:.3f}, {games['reverse_kl'][1]:.3f} (mu {games['reverse_kl'][0]:.2f})"
        )
    return CheckResult(
        name="mode_covering",
        claim="7b. one Gaussian fitted to two modes: KL covers (wide sigma), reverse KL seeks (one mode)",
        closed_form=f"sigma_KL = sd(P) = {covering:.4f}; sigma_RKL = 0.5, mu = 2",
        measured=measured,
        tolerance="1e-3; 0.01" + ("; f-GAN 5%" if full else ""),
        passed=passed,
        figures=_save(out, "mode_covering", draw),
        details=[f"min {name}: mu = {mu:+.3f}, sigma = {sigma:.3f}" for name, (mu, sigma) in fits.items()]
        + [f"f-GAN {name}: mu = {mu:+.3f}, sigma = {sigma:.3f}" for name, (mu, sigma) in games.items()],
        values={
            "sigma_kl": fits["kl"][1],
            "sigma_rkl": fits["reverse_kl"][1],
            "mu_rkl": fits["reverse_kl"][0],
        },
        seconds=time.perf_counter() - start,
    )


#: name -> check, in the order of the issue's claims.
CHECKS: dict[str, Callable[..., CheckResult]] = {
    "optimal_discriminator": optimal_discriminator,
    "value_at_optimum": value_at_optimum,
    "jsd_vs_w1": jsd_vs_w1,
    "gradient_vanishing": gradient_vanishing,
    "generator_objectives": generator_objectives,
    "lsgan_optimum": lsgan_optimum,
    "fgan_bounds": fgan_bounds,
    "mode_covering": mode_covering,
    "wgan_gp_critic": wgan_gp_critic,
    "bilinear_game": bilinear_game,
}
