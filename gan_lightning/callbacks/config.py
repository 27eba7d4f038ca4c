"""The run's config where people look for it: next to the run and in every logger."""

from __future__ import annotations

import lightning as L
import yaml
from lightning.pytorch.cli import SaveConfigCallback


class SaveConfigToLoggers(SaveConfigCallback):
    """LightningCLI's ``config.yaml`` in the run folder, and the same config sent to every logger (the W&B
    run's config, TensorBoard's hparams, the CSV logger's hparams.yaml)."""

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))  # plain types only
        for logger in trainer.loggers:
            logger.log_hyperparams(config)
