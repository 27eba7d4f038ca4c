"""Claim 10: the Dirac-GAN, where the unregularised GAN, WGAN and WGAN-GP circle the equilibrium and the
zero-centred penalties R1 and R2 converge to it.

Mescheder, Geiger, Nowozin, "Which Training Methods for GANs do actually Converge?" (ICML 2018), section 2:
data delta_0, generator delta_theta, critic D(x) = psi x. Every loss below is the library's own function of
the critic's outputs, and every penalty the library's own, so the check measures the code that trains.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from gan_lightning.losses import (
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from gan_lightning.penalties import gradient_penalty, zero_centered_gradient_penalty
from gan_lightning.theory._training import _save
from gan_lightning.theory.densities import DTYPE
from gan_lightning.theory.registry import CheckResult, register_check

#: f'(0) of the GAN's f(t) = -log(1 + exp(-t)): sigmoid(0).
F_PRIME_0 = 0.5
REAL = torch.zeros(1, 1, dtype=DTYPE)  # the data: delta_0

Losses = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]  # (theta, psi) -> (D's loss, G's loss)


def gan_losses(r1: float = 0.0, r2: float = 0.0) -> Losses:
    """The non-saturating GAN on the Dirac-GAN, with gamma / 2 times R1 and R2 on D's loss."""

    def losses(theta: Tensor, psi: Tensor) -> tuple[Tensor, Tensor]:
        critic = lambda x: (psi * x).flatten()  # noqa: E731 - the Dirac-GAN's linear critic
        fake = theta.reshape(1, 1)
        d_loss = nonsaturating_discriminator_loss(
            critic(REAL), critic(fake)
        )  # not detached: the Jacobian needs d(dL_D/dpsi)/dtheta
        if r1:
            d_loss = d_loss + r1 / 2 * zero_centered_gradient_penalty(critic, REAL)
        if r2:
            d_loss = d_loss + r2 / 2 * zero_centered_gradient_penalty(critic, fake)
        return d_loss, nonsaturating_generator_loss(critic(fake))

    return losses


def wgan_losses(gp_weight: float = 0.0) -> Losses:
    """WGAN on the Dirac-GAN; with ``gp_weight`` WGAN-GP's penalty lambda E[(||grad D(x_hat)|| - 1)^2]."""

    def losses(theta: Tensor, psi: Tensor) -> tuple[Tensor, Tensor]:
        critic = lambda x: (psi * x).flatten()  # noqa: E731
        fake = theta.reshape(1, 1)
        d_loss = wasserstein_critic_loss(
            critic(REAL), critic(fake)
        )  # not detached: the Jacobian needs d(dL_D/dpsi)/dtheta
        if gp_weight:
            d_loss = d_loss + gp_weight * gradient_penalty(
                critic, REAL, fake, eps=torch.full((1,), 0.5, dtype=DTYPE)
            )
        return d_loss, wasserstein_generator_loss(critic(fake))

    return losses


def gradient_field(losses: Losses, point: Tensor) -> Tensor:
    """v(theta, psi) = (-dL_G/dtheta, -dL_D/dpsi): the direction simultaneous gradient descent moves in."""
    theta, psi = point[0], point[1]
    d_loss, g_loss = losses(theta, psi)
    (d_theta,) = torch.autograd.grad(g_loss, theta, create_graph=True)
    (d_psi,) = torch.autograd.grad(d_loss, psi, create_graph=True)
    return -torch.stack([d_theta, d_psi])


def jacobian_at_equilibrium(losses: Losses) -> Tensor:
    """The 2x2 Jacobian of the gradient field at (theta, psi) = (0, 0), by autograd."""
    return torch.autograd.functional.jacobian(
        lambda p: gradient_field(losses, p), torch.zeros(2, dtype=DTYPE), create_graph=False
    )


def play(
    losses: Losses,
    start: tuple[float, float],
    lr: float,
    steps: int,
    alternating: bool,
    clip: float | None = None,
) -> Tensor:
    """Gradient descent of both players (G on theta, D on psi) from ``start``; the (steps + 1, 2) trajectory.

    Alternating: D steps first, G answers the new psi. ``clip``: WGAN's weight clipping of psi after D's step.
    """
    point = torch.tensor(start, dtype=DTYPE)
    path = [point.clone()]
    for _ in range(steps):
        p = point.clone().requires_grad_(True)
        v = gradient_field(losses, p).detach()
        if alternating:
            psi = p[1].detach() + lr * v[1]
            psi = psi.clamp(-clip, clip) if clip is not None else psi
            q = torch.stack([p[0].detach(), psi]).requires_grad_(True)
            theta = q[0].detach() + lr * gradient_field(losses, q).detach()[0]
            point = torch.stack([theta, psi])
        else:
            point = point + lr * v
            if clip is not None:
                point[1] = point[1].clamp(-clip, clip)
        path.append(point.clone())
    return torch.stack(path)


def r_eigenvalues(gamma: float) -> Tensor:
    """-gamma / 2 +- sqrt(gamma^2 / 4 - f'(0)^2): the eigenvalues with R1 (or R2) of weight gamma."""
    root = torch.tensor(gamma**2 / 4 - F_PRIME_0**2, dtype=torch.complex128).sqrt()
    return torch.stack([-gamma / 2 + root, -gamma / 2 - root])


def _sorted(values: Tensor) -> Tensor:
    return values[torch.argsort(values.imag * 1e6 + values.real)]


@register_check("dirac_gan", claim=10)
def dirac_gan(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 10: on the Dirac-GAN the unregularised GAN's gradient field has eigenvalues +-i f'(0) at the
    equilibrium, so simultaneous steps spiral out by (1 + lr^2 f'(0)^2)^(1/2) per step and alternating ones
    circle; WGAN with clipping and WGAN-GP do not converge; with R1 or R2 of weight gamma the eigenvalues are
    -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2) and gradient descent converges.

    Measured, float64, with the library's losses and penalties: the autograd Jacobian's eigenvalues against
    the closed forms (1e-12 absolute: exact up to rounding); the simultaneous spiral's growth per step from
    radius 1e-4 against (1 + lr^2 f'(0)^2)^(1/2), lr 0.1 (1e-6 relative: the field's next terms are cubic in
    the radius, 1e-8 there); alternating steps: radius within [0.5, 2] of the start after 2,000 steps (they
    circle); WGAN (clip 0.1) and WGAN-GP (lambda 1), alternating from (1, 0): still at least 0.05 away from
    the equilibrium over the last 1,000 of 2,000 steps; R1 and R2 (gamma 0.5 and 2), simultaneous from (1, 1):
    within 1e-6 of it after 1,500 steps (the slowest eigenvalue, -0.134 at gamma 2, shrinks the distance
    by e^-20 in that time).
    """
    start = time.perf_counter()
    lr = 0.1
    plain = gan_losses()
    eig_plain = _sorted(torch.linalg.eigvals(jacobian_at_equilibrium(plain)))
    expected_plain = _sorted(torch.tensor([1j * F_PRIME_0, -1j * F_PRIME_0], dtype=torch.complex128))
    errors = [float((eig_plain - expected_plain).abs().max())]
    regularised = {}
    for name, gamma in (("R1", 0.5), ("R1", 2.0), ("R2", 0.5), ("R2", 2.0)):
        losses = gan_losses(r1=gamma) if name == "R1" else gan_losses(r2=gamma)
        eig = _sorted(torch.linalg.eigvals(jacobian_at_equilibrium(losses)))
        errors.append(float((eig - _sorted(r_eigenvalues(gamma))).abs().max()))
        path = play(losses, (1.0, 1.0), lr, 1500, alternating=False)
        regularised[f"{name}, gamma {gamma:g}"] = path
    eigen_error = max(errors)

    spiral = play(plain, (1e-4, 0.0), lr, 200, alternating=False)
    radius = spiral.norm(dim=1)
    growth = float((radius[-1] / radius[0]) ** (1 / 200))
    expected_growth = math.sqrt(1 + lr**2 * F_PRIME_0**2)
    circle = play(plain, (1e-4, 0.0), lr, 2000, alternating=True)
    circle_ratio = circle.norm(dim=1) / circle.norm(dim=1)[0]

    wgan = play(wgan_losses(), (1.0, 0.0), lr, 2000, alternating=True, clip=0.1)
    wgan_gp = play(wgan_losses(gp_weight=1.0), (1.0, 0.0), lr, 2000, alternating=True)
    wgan_gap = float(wgan[-1000:].norm(dim=1).min())
    wgan_gp_gap = float(wgan_gp[-1000:].norm(dim=1).min())
    r_final = max(float(p[-1].norm()) for p in regularised.values())

    passed = (
        eigen_error < 1e-12
        and abs(growth / expected_growth - 1) < 1e-6
        and 0.5 <= float(circle_ratio.min())
        and float(circle_ratio.max()) <= 2.0
        and wgan_gap > 0.05
        and wgan_gp_gap > 0.05
        and r_final < 1e-6
    )

    def draw(figure) -> None:
        panels = [
            ("GAN, simultaneous", plain, play(plain, (0.5, 0.0), lr, 150, alternating=False)),
            ("WGAN (clip 0.1)", wgan_losses(), wgan[:1500]),
            ("WGAN-GP", wgan_losses(gp_weight=1.0), wgan_gp[:1500]),
            ("GAN + R1 (gamma 0.5)", gan_losses(r1=0.5), regularised["R1, gamma 0.5"]),
        ]
        grid = torch.linspace(-2, 2, 13, dtype=DTYPE)
        for i, (title, losses, path) in enumerate(panels):
            ax = figure.add_subplot(1, 4, i + 1)
            field = torch.stack(
                [gradient_field(losses, torch.tensor([t, s], dtype=DTYPE, requires_grad=True)).detach()
                 for s in grid for t in grid]
            )  # fmt: skip
            tt, ss = torch.meshgrid(grid, grid, indexing="xy")
            ax.quiver(
                tt, ss, field[:, 0].reshape(13, 13), field[:, 1].reshape(13, 13), color="0.6", width=0.004
            )
            ax.plot(path[:, 0], path[:, 1], "C3-", lw=1)
            ax.plot([0], [0], "k*", ms=8)
            ax.set_xlim(-2, 2)
            ax.set_ylim(-2, 2)
            ax.set_aspect("equal")
            ax.set_title(title, fontsize=8)
            ax.set_xlabel("theta", fontsize=7)
            ax.tick_params(labelsize=6)
            if i == 0:
                ax.set_ylabel("psi", fontsize=7)

    return CheckResult(
        name="dirac_gan",
        claim="10. Dirac-GAN: GAN, WGAN, WGAN-GP circle the equilibrium; R1 and R2 converge",
        closed_form=(
            f"eigenvalues +-{F_PRIME_0:g}i; -gamma/2 +- sqrt(gamma^2/4 - 1/4); "
            f"spiral {expected_growth:.8f} per step"
        ),
        measured=(
            f"eigenvalue error {eigen_error:.1e}; spiral {growth:.8f}; alternating r/r0 in "
            f"[{float(circle_ratio.min()):.2f}, {float(circle_ratio.max()):.2f}]; WGAN, WGAN-GP stay "
            f">= {wgan_gap:.2f}, {wgan_gp_gap:.2f} away; R1/R2 end {r_final:.0e} away"
        ),
        tolerance="1e-12 eigenvalues, 1e-6 growth",
        passed=passed,
        figures=_save(out, "dirac_gan", draw),
        values={
            "eigen_error": eigen_error,
            "growth_error": abs(growth / expected_growth - 1),
            "wgan_gap": wgan_gap,
            "wgan_gp_gap": wgan_gp_gap,
            "regularised_final": r_final,
        },
        seconds=time.perf_counter() - start,
    )
