"""The run's config where people look for it: next to the run and in every logger."""

from __future__ import annotations

import lightning as L
import yaml
from lightning.pytorch.cli import SaveConfigCallback


class SaveConfigToLoggers(SaveConfigCallback):
    """LightningCLI's ``config.yaml`` in the run folder, and the same config sent to every logger (the W&B
    run's config, TensorBoard's hparams, the CSV logger's hparams.yaml).

    The run folder is the one that holds the checkpoints and samples (:func:`gan_lightning.runs.run_dir`): for
    W&B ``<save_dir>/<project>/<run id>``, where Lightning's own choice (``trainer.log_dir``) would be the
    ``save_dir`` that every W&B run shares, so that the next run overwrote the config and `sample` or `evaluate`
    found none beside the checkpoint.
    """

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        from gan_lightning.paths import join, makedirs
        from gan_lightning.runs import run_dir

        if self.already_saved:
            return
        if self.save_to_log_dir and trainer.is_global_zero:
            folder = run_dir(trainer)  # a URL is written through fsspec (jsonargparse's save takes one)
            makedirs(folder)
            self.parser.save(
                self.config, str(join(folder, self.config_filename)), skip_none=False, overwrite=self.overwrite,
                multifile=self.multifile,
            )  # fmt: skip
        if trainer.is_global_zero:
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True
        # every rank agrees on it, as in LightningCLI's own setup
        self.already_saved = trainer.strategy.broadcast(self.already_saved)

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))  # plain types only
        for logger in trainer.loggers:
            logger.log_hyperparams(config)
