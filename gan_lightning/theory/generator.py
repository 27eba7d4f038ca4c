"""Claims 4 and 5: the generator's gradient near a perfect discriminator, and what each generator loss
minimises under D*.

Arjovsky and Bottou, "Towards Principled Methods for Training Generative Adversarial Networks" (2017);
Goodfellow, "NIPS 2016 Tutorial: Generative Adversarial Networks" (2016).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from gan_lightning.losses import (
    maximum_likelihood_generator_loss,
    minimax_generator_loss,
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
)
from gan_lightning.theory._training import (
    DATA,
    LOG4,
    MODEL,
    _column,
    _critic,
    _normal_density,
    _optimal_logit,
    _save,
)
from gan_lightning.theory.densities import DTYPE, Bump, Normal, integrate, jsd, kl, union_grid, xlogy
from gan_lightning.theory.registry import CheckResult, register_check


# ---------------------------------------------------------------------------------------------- claim 4
@register_check("gradient_vanishing", claim=4)
def gradient_vanishing(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 4: as D approaches a perfect discriminator, the saturating generator gradient vanishes; the
    non-saturating one does not.

    Arjovsky and Bottou (2017), Theorem 2.4 and Figure 2; the notes "GAN", eq. (13). With D = sigmoid(d):
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

    def draw(figure) -> None:
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
def _kl_t(p: Tensor, q: Tensor, x: Tensor) -> Tensor:
    return torch.trapezoid(xlogy(p, p) - xlogy(p, q), x)


def _jsd_t(p: Tensor, q: Tensor, x: Tensor) -> Tensor:
    m = (p + q) / 2
    return 0.5 * _kl_t(p, m, x) + 0.5 * _kl_t(q, m, x)


@register_check("generator_objectives", claim=5)
def generator_objectives(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 5: under D*, the non-saturating G loss has the gradient of KL(p_g || p_data) - 2 JSD(p_g ||
    p_data), and the maximum-likelihood G loss the gradient of KL(p_data || p_g).

    Arjovsky and Bottou (2017), Theorem 2.5; Goodfellow (2016, tutorial, section 3.2.3); "Everything abut
    GANs: Model, Training and Beyond". With D*(x) = p_data / (p_data + p_g_theta0) held fixed (the generator's
    step does not move D),

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

    def draw(figure) -> None:
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
