"""Metrics during training: the :class:`Evaluation` callback, a thin scheduler around the Evaluator.

The callback holds the :class:`~gan_lightning.evaluator.Evaluator` (and so the feature extractor), never the
LightningModule, so model checkpoints do not carry the extractor's weights; the real statistics are extracted
at the first evaluation and reused.
"""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from gan_lightning.evaluator import NUM_REAL_IMAGES, Evaluator


class Evaluation(Callback):
    """Evaluates the generator after every ``every_n_epochs``-th training epoch and logs ``eval/<metric>``.

    2D mixtures (data modules with ``mode_centers``): modes captured, % high-quality points and reverse KL of
    2,500 points, every time (cheap). Image data: the ``image_metrics`` listed (none by default, since 10,000
    generated images cost about an epoch of generator passes), e.g.
    ``--evaluation.image_metrics [fid,kid] --evaluation.every_n_epochs 5``. Values are synced over DDP ranks,
    so ``ModelCheckpoint(monitor="eval/fid", mode="min")`` works.

    Args:
        every_n_epochs: how often to evaluate (0: never).
        image_metrics: for image data, which of ``fid``, ``kid``, ``is``, ``pr``, ``classes``, ``label_accuracy``.
        num_generated: generated samples per evaluation (``None``: 10,000 images or 2,500 points).
        num_real: real images in the reference set.
        feature_extractor: ``auto`` (``lenet`` for one-channel images, else ``inception``), ``lenet``,
            ``inception``.
        feature_extractor_weights: a local weights file for the extractor.
        batch_size: images per generation / extraction batch.
        seed: seed of the latents.
    """

    def __init__(
        self,
        every_n_epochs: int = 1,
        image_metrics: list[str] | None = None,
        num_generated: int | None = None,
        num_real: int = NUM_REAL_IMAGES,
        feature_extractor: str = "auto",
        feature_extractor_weights: str | None = None,
        batch_size: int = 500,
        seed: int = 0,
    ) -> None:
        if every_n_epochs < 0:
            raise ValueError(f"evaluation.every_n_epochs must be 0 (never) or positive, got {every_n_epochs}")
        self.every_n_epochs = every_n_epochs
        self.evaluator = Evaluator(
            image_metrics or (), num_generated, num_real, feature_extractor, feature_extractor_weights,
            batch_size, seed,
        )  # fmt: skip

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.every_n_epochs or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        results = self.evaluator.evaluate(pl_module, getattr(trainer, "datamodule", None))
        if results:
            values = {f"eval/{k}": torch.tensor(v, dtype=torch.float32) for k, v in results.items()}
            # Equal on every rank already (torchmetrics synced them); sync_dist spares Lightning's warning.
            pl_module.log_dict(values, on_step=False, on_epoch=True, batch_size=1, sync_dist=True)
