"""The end of a fit: what a person looks at first (a loss plot, final samples, the run folder's path)."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import Callback

from gan_lightning.callbacks.samples import SampleGrid
from gan_lightning.paths import join, makedirs, writing
from gan_lightning.plotting import plot_losses
from gan_lightning.runs import run_dir


class RunSummary(Callback):
    """At the end of fit: a plot of the losses and final samples in the run folder, whose path is printed.

    Args:
        every_n_steps: how often (in global steps) the losses of the latest step are recorded for the plot.
    """

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
        makedirs(folder)
        SampleGrid().save(trainer, pl_module, "final")
        if self.history:
            with writing(join(folder, "losses.png")) as local:  # a remote run folder: uploaded after
                plot_losses(self.history, local)
        print(f"Run folder: {folder}  (samples/final.png, losses.png)")
