"""Figures of a run (2D samples over the critic, the loss curves) and sending saved images to the loggers.

matplotlib is imported only when a figure is drawn, with its headless backend (training machines have no
display).
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torchvision.io import ImageReadMode, read_image


def pyplot():
    """``matplotlib.pyplot`` on the ``Agg`` backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def log_image(trainer: L.Trainer, key: str, path: Path, image: Tensor | None = None) -> None:
    """Send a saved PNG to every configured logger that takes images (W&B, TensorBoard)."""
    for logger in trainer.loggers:
        if hasattr(logger, "log_image"):  # WandbLogger
            logger.log_image(key=key, images=[str(path)], step=trainer.global_step)
        elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
            if image is None:  # a 2D scatter plot: read back its PNG
                image = read_image(str(path), ImageReadMode.RGB)
            logger.experiment.add_image(key, image, trainer.global_step)


def scatter_2d(module: L.LightningModule, real: Tensor, fake: Tensor, path: Path, title: str = "") -> None:
    """Real vs generated points over the critic's contour."""
    plt = pyplot()
    real, fake = real.detach().float().cpu(), fake.detach().float().cpu()
    both = torch.cat([real, fake])
    low, high = both.min(0).values - 0.5, both.max(0).values + 0.5
    xs, ys = torch.linspace(low[0], high[0], 120), torch.linspace(low[1], high[1], 120)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        grid = torch.stack([gx.flatten(), gy.flatten()], 1).to(module.device)
        # In chunks: a critic that compares samples within a batch (minibatch discrimination) grows as batch^2.
        # A PacGAN critic scores packs: each point is scored as a pack of copies of itself.
        pack = getattr(module.discriminator, "pack", 1)
        scores = (
            torch.cat(
                [
                    module.discriminator(chunk.repeat_interleave(pack, 0)).reshape(-1)
                    for chunk in grid.split(1024)
                ]
            ).reshape(gx.shape)
            if not module.num_classes
            else None
        )
        scores = scores.float().cpu() if scores is not None else None
    fig, ax = plt.subplots(figsize=(5, 5))
    if scores is not None:
        contour = ax.contourf(gx, gy, scores, levels=20, cmap="coolwarm", alpha=0.5)
        fig.colorbar(contour, ax=ax, fraction=0.046, label="critic score")
    ax.scatter(*real.cpu().T, s=2, c="black", label="real")
    ax.scatter(*fake.cpu().T, s=2, c="tab:orange", label="generated")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=4)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_losses(history: dict[str, list[tuple[int, float]]], path: Path) -> None:
    """The loss curves (key -> (global step, value) points) as one PNG."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key, points in history.items():
        ax.plot(*zip(*points), label=key.split("/")[-1])
    ax.set_xlabel("global step (critic + generator updates)")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
