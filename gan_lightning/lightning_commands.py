"""LightningCLI's `validate`, `test` and `predict` for a GAN: metrics of the generator and its samples.

A GAN has no per-batch validation loss worth a loop over the data: what `validate` and `test` measure is the
generator against the data module's real set, as the :class:`~gan_lightning.callbacks.Evaluation` callback does
during training (FID/KID/IS/precision-recall/classes for images, mode coverage for 2D mixtures). The GANModule
deliberately defines no ``validation_step``: with one, every `fit` would also iterate the validation loader,
which draws from the global random generator and so changes the training of every seed.

    gan-lightning validate --config runs/x/version_0/config.yaml --ckpt_path runs/x/version_0/checkpoints/last.ckpt
    gan-lightning test     --config ... --ckpt_path ... --evaluation.image_metrics [fid,kid]
    gan-lightning predict  --config ... --ckpt_path ...      # <run>/predictions.npz and predictions.png

Metrics are printed, logged as ``validate/<metric>`` or ``test/<metric>`` to the run's loggers and returned;
the checkpoint is read weights-only (:func:`gan_lightning.checkpoints.load_checkpoint`).
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from gan_lightning.callbacks.evaluation import Evaluation
from gan_lightning.checkpoints import check_checkpoint_fits, load_checkpoint
from gan_lightning.evaluator import Evaluator, format_table, is_image_model
from gan_lightning.latents import seeded_latents
from gan_lightning.paths import PathOrURL, join, with_suffix, writing
from gan_lightning.runs import run_dir

PREDICT_SAMPLES = 64  # predict's default number of samples (the grid's 8 x 8)


def load_weights(module: L.LightningModule, ckpt_path: str | Path | None) -> None:
    """The checkpoint's weights (and EMA generator) into ``module``; nothing when no checkpoint is given."""
    if ckpt_path is None:
        return
    checkpoint = load_checkpoint(ckpt_path, weights_only=True)
    module.on_load_checkpoint(checkpoint)  # gives an EMA generator a home before the weights load
    check_checkpoint_fits(module, checkpoint, ckpt_path)
    module.load_state_dict(checkpoint["state_dict"])


def _evaluation_settings(trainer: L.Trainer) -> Evaluator:
    """The Evaluation callback's evaluator; when it lists no image metrics, FID, KID and precision-recall."""
    found = next((c.evaluator for c in trainer.callbacks if isinstance(c, Evaluation)), None) or Evaluator(())
    if found.image_metrics:
        return found
    return Evaluator(
        ("fid", "kid", "pr"), found.num_generated, found.num_real, found.feature_extractor,
        found.feature_extractor_weights, found.batch_size, found.seed,
    )  # fmt: skip


@torch.no_grad()
def evaluate_phase(
    phase: str,
    trainer: L.Trainer,
    module: L.LightningModule,
    datamodule: L.LightningDataModule,
    ckpt_path: str | Path | None,
) -> list[dict[str, float]]:
    """`validate` / `test`: the generator's metrics, printed, logged as ``<phase>/<metric>`` and returned."""
    load_weights(module, ckpt_path)
    module.to(trainer.strategy.root_device).eval()
    datamodule.prepare_data()
    datamodule.setup("fit")
    results = _evaluation_settings(trainer).evaluate(module, datamodule)
    values = {f"{phase}/{name}": float(value) for name, value in results.items()}
    for logger in trainer.loggers:
        logger.log_metrics(values, step=getattr(module, "generator_steps", 0) or 0)
        logger.save()
    print(format_table(results, f"{phase}: {Path(ckpt_path).name if ckpt_path else 'untrained weights'}"))
    return [values]


@torch.no_grad()
def predict_phase(
    trainer: L.Trainer,
    module: L.LightningModule,
    ckpt_path: str | Path | None,
    n: int = PREDICT_SAMPLES,
    seed: int = 0,
) -> PathOrURL:
    """`predict`: ``n`` samples from seeded latents as ``<run>/predictions.npz`` (+ a PNG grid for images)."""
    import numpy as np

    load_weights(module, ckpt_path)
    module.to(trainer.strategy.root_device).eval()
    z = seeded_latents(n, module.generator.latent_dim, seed)
    labels = module.grid_labels(n).to(module.device) if module.num_classes else None
    samples = module.generate(n, labels=labels, z=z).float().cpu()
    out = join(run_dir(trainer), "predictions.npz")  # a remote run folder: written through fsspec
    arrays = {"samples": samples.numpy(), "latents": z.numpy()}
    if labels is not None:
        arrays["labels"] = labels.cpu().numpy()
    with writing(out) as local:
        np.savez_compressed(local, **arrays)
    if is_image_model(module):
        from torchvision.utils import save_image

        with writing(with_suffix(out, ".png")) as grid:
            save_image(samples, grid, nrow=module.grid_width(n), normalize=True, value_range=(-1, 1))
    print(f"Saved {n} samples to {out}")
    return out
