"""Samples during training: what the generator makes now, from latents that stay fixed between epochs."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torchvision.utils import make_grid, save_image

from gan_lightning.paths import PathOrURL, join, writing
from gan_lightning.plotting import log_image, scatter_2d
from gan_lightning.runs import run_dir


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

    def save(self, trainer: L.Trainer, pl_module: L.LightningModule, name: str) -> PathOrURL:
        path = join(run_dir(trainer), "samples", f"{name}.png")
        # A remote run folder gets a local file that is uploaded when the block ends.
        with writing(path) as local:
            self.draw(trainer, pl_module, name, local)
        return path

    def draw(self, trainer: L.Trainer, pl_module: L.LightningModule, name: str, path: Path) -> None:
        """Write the samples to the local file ``path`` and send it to the loggers."""
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
            return
        labels = pl_module.fixed_labels if pl_module.num_classes else None
        images = pl_module.generate(len(pl_module.fixed_z), labels=labels, z=pl_module.fixed_z).float().cpu()
        grid = make_grid(images, nrow=pl_module.grid_width(len(images)), normalize=True, value_range=(-1, 1))
        save_image(grid, path)
        log_image(trainer, "samples", path, grid)
