"""What the theory checks share: the densities of claims 1, 2, 5 and 6, the library's critic in float64, a
training loop on fresh samples, and figures saved without matplotlib's global state."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_lightning.networks.mlp import MLPDiscriminator
from gan_lightning.theory.densities import DTYPE, Density, Mixture, Normal

LOG4 = math.log(4.0)

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


def _normal_density(x: Tensor, theta: Tensor) -> Tensor:
    """N(theta[0], exp(theta[1])^2) at x, differentiable in theta."""
    sigma = theta[1].exp()
    return torch.exp(-0.5 * ((x - theta[0]) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
