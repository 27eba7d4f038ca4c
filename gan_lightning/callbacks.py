"""Callbacks that show what the generator learned: sample grids, 2D scatter plots, a loss plot."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.cli import SaveConfigCallback
from torch import Tensor
from torchvision.io import ImageReadMode, read_image
from torchvision.utils import make_grid, save_image

from gan_lightning.callbacks_ema import GeneratorEMA  # noqa: F401 - re-exported for configs


def run_dir(trainer: L.Trainer) -> Path:
    """The folder of this run: the first logger's folder, else the Trainer's root folder."""
    for logger in trainer.loggers:
        if getattr(logger, "log_dir", None):
            return Path(logger.log_dir)
        # W&B has no log_dir: its checkpoints go to save_dir/project/run id, and so do the samples.
        if getattr(logger, "save_dir", None) and getattr(logger, "version", None):
            return Path(logger.save_dir) / str(logger.name) / str(logger.version)
    return Path(trainer.default_root_dir)


def log_image(trainer: L.Trainer, key: str, path: Path, image: Tensor | None = None) -> None:
    """Send a saved PNG to every configured logger that takes images (W&B, TensorBoard)."""
    for logger in trainer.loggers:
        if hasattr(logger, "log_image"):  # WandbLogger
            logger.log_image(key=key, images=[str(path)], step=trainer.global_step)
        elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
            if image is None:  # a 2D scatter plot: read back its PNG
                image = read_image(str(path), ImageReadMode.RGB)
            logger.experiment.add_image(key, image, trainer.global_step)


def _matplotlib():  # noqa: ANN202 - headless backend, imported only when plotting
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter_2d(module: L.LightningModule, real: Tensor, fake: Tensor, path: Path, title: str = "") -> None:
    """Real vs generated points over the critic's contour."""
    plt = _matplotlib()
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


class SampleGrid(Callback):
    """Saves samples from the fixed latents every ``every_n_epochs`` epochs under ``<run>/samples/``.

    Images become one PNG grid (a conditional model gets one row per class); 2D data becomes a scatter plot of
    real vs generated points over the critic's contour. Samples are drawn in eval mode without gradients, from
    the EMA generator when one exists, and the file is also sent to the configured loggers. Rank zero only.

    Args:
        every_n_epochs: how often to save.
        num_points: generated points in a 2D scatter plot.
    """

    def __init__(self, every_n_epochs: int = 1, num_points: int = 1000) -> None:
        self.every_n_epochs = every_n_epochs
        self.num_points = num_points

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        self.save(trainer, pl_module, f"epoch_{trainer.current_epoch:04d}")

    def save(self, trainer: L.Trainer, pl_module: L.LightningModule, name: str) -> Path:
        folder = run_dir(trainer) / "samples"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        if len(getattr(pl_module.generator, "out_shape", (0, 0))) == 1:
            z = torch.randn(
                self.num_points, pl_module.generator.latent_dim, generator=torch.Generator().manual_seed(0)
            )
            fake = pl_module.generate(self.num_points, z=z)
            real = (
                trainer.datamodule.sample(self.num_points)
                if hasattr(trainer.datamodule, "sample")
                else fake[:0]
            )
            scatter_2d(pl_module, real, fake, path, f"{name} (step {trainer.global_step})")
            log_image(trainer, "samples", path)
            return path
        labels = pl_module.fixed_labels if pl_module.num_classes else None
        images = pl_module.generate(len(pl_module.fixed_z), labels=labels, z=pl_module.fixed_z).float().cpu()
        grid = make_grid(images, nrow=pl_module.grid_width(len(images)), normalize=True, value_range=(-1, 1))
        save_image(grid, path)
        log_image(trainer, "samples", path, grid)
        return path


class RunSummary(Callback):
    """At the end of fit: a plot of the losses and final samples in the run folder, whose path is printed."""

    def __init__(self, every_n_steps: int = 10) -> None:
        self.every_n_steps = every_n_steps
        self.history: dict[str, list[tuple[int, float]]] = {}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if trainer.global_step % self.every_n_steps > 1:  # global_step moves by 1 or 2 per batch
            return
        terms = getattr(pl_module, "latest_terms", {})  # every step's values (the logger gets fewer)
        for key in ("train/d_loss", "train/g_loss"):
            if key in terms:
                self.history.setdefault(key, []).append((trainer.global_step, float(terms[key])))

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        folder = run_dir(trainer)
        folder.mkdir(parents=True, exist_ok=True)
        SampleGrid().save(trainer, pl_module, "final")
        if self.history:
            plt = _matplotlib()
            fig, ax = plt.subplots(figsize=(6, 3.5))
            for key, points in self.history.items():
                ax.plot(*zip(*points), label=key.split("/")[-1])
            ax.set_xlabel("global step (critic + generator updates)")
            ax.set_ylabel("loss")
            ax.legend()
            fig.tight_layout()
            fig.savefig(folder / "losses.png", dpi=100)
            plt.close(fig)
        print(f"Run folder: {folder}  (samples/final.png, losses.png)")


class SaveConfigToLoggers(SaveConfigCallback):
    """LightningCLI's ``config.yaml`` in the run folder, and the same config sent to every logger (the W&B
    run's config, TensorBoard's hparams, the CSV logger's hparams.yaml)."""

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))  # plain types only
        for logger in trainer.loggers:
            logger.log_hyperparams(config)
