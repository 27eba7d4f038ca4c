"""Claim 9: gradient play on a bilinear game, simultaneous against alternating steps.

Goodfellow, "NIPS 2016 Tutorial: Generative Adversarial Networks" (2016), section 8.2.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch
from torch import Tensor

from gan_lightning.theory._training import _save
from gan_lightning.theory.densities import DTYPE
from gan_lightning.theory.registry import CheckResult, register_check


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


@register_check("bilinear_game", claim=9)
def bilinear_game(full: bool = False, out: Path | None = None) -> CheckResult:
    """Claim 9: on min_y max_x x y, simultaneous gradient steps spiral away from the equilibrium (0, 0);
    alternating steps cycle around it.

    Goodfellow (2016, tutorial, section 8.2 and exercise 8.2; also "Everything abut GANs: Model, Training and
    Beyond"). Simultaneous: (x, y) <- (x + lr y, y - lr x), so x^2 + y^2 grows by exactly (1 + lr^2) per step:
    the radius after T steps is r0 (1 + lr^2)^(T/2). Alternating: x <- x + lr y, then y <- y - lr x: a map of
    determinant 1 that keeps x^2 + y^2 + lr x y constant (check: substitute), an ellipse around (0, 0) for
    lr < 2, so the iterates stay bounded and circle forever.

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

    def draw(figure) -> None:
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
