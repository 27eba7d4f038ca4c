"""Where a run lives and how to rebuild it: its folder during training, its model and data afterwards.

A run is what ``gan-lightning fit`` leaves behind: checkpoints under ``<run>/checkpoints/`` and the config
LightningCLI saved as ``<run>/config.yaml``. :func:`load_run` rebuilds the model and the data module from the
config and loads the weights through :func:`gan_lightning.checkpoints.load_checkpoint`, i.e. with
``torch.load(weights_only=True)``: a checkpoint from elsewhere cannot run code while it is read. Nothing the
rebuild needs comes from pickled objects (the hyper-parameters come from the YAML config), so weights-only
loading restores a run completely.

A run may live under an fsspec URL (``--trainer.default_root_dir s3://bucket/runs``): :func:`run_dir` then
returns the URL as a string, and :func:`load_run` reads the checkpoint and ``config.yaml`` from there
(:mod:`gan_lightning.paths`).
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
import yaml
from lightning.pytorch.cli import LightningArgumentParser

import gan_lightning.registry  # noqa: F401 - the library's classes under their short names
from gan_lightning.checkpoints import check_checkpoint_fits, load_checkpoint
from gan_lightning.module import GANModule
from gan_lightning.paths import PathOrURL, as_path, is_file, join, parent, read_text


def run_dir(trainer: L.Trainer) -> PathOrURL:
    """The folder of this run: the first logger's folder, else the Trainer's root folder (a URL as a string)."""
    for logger in trainer.loggers:
        if getattr(logger, "log_dir", None):
            return as_path(logger.log_dir)
        # W&B has no log_dir: its checkpoints go to save_dir/project/run id, and so do the samples.
        if getattr(logger, "save_dir", None) and getattr(logger, "version", None):
            return join(logger.save_dir, str(logger.name), str(logger.version))
    return as_path(trainer.default_root_dir)


def default_config(ckpt_path: str | Path) -> PathOrURL:
    """The config LightningCLI saved with a run: ``<run>/config.yaml`` for ``<run>/checkpoints/x.ckpt``."""
    return join(parent(parent(ckpt_path)), "config.yaml")


def resolve_device(name: str) -> torch.device:
    """``auto``: the GPU when there is one, else the CPU; any other name as torch spells it."""
    return torch.device(("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name)


def load_run(
    ckpt_path: str | Path,
    config: str | Path | None = None,
    device: str | torch.device = "cpu",
    weights_only: bool = True,
) -> tuple[L.LightningModule, L.LightningDataModule]:
    """The model (weights from the checkpoint, eval mode) and the data module of a run, built from its config.

    Args:
        ckpt_path: a Lightning checkpoint of a GANModule (a path or an fsspec URL).
        config: the run's YAML config; ``None`` uses the ``config.yaml`` LightningCLI saved next to the run.
        device: where to put the model.
        weights_only: read the checkpoint with ``torch.load(weights_only=True)``; ``False`` only for a trusted
            file that holds Python objects.

    Raises:
        FileNotFoundError: no checkpoint or no config at the given path.
        ValueError: a checkpoint that is unreadable, not a Lightning checkpoint, refused by weights-only
            loading, or of another variant or other networks than the config's (one line naming the file).
    """
    ckpt_path = as_path(ckpt_path)
    if not is_file(ckpt_path):
        raise FileNotFoundError(f"checkpoint {ckpt_path} does not exist")
    config = as_path(config) if config is not None else default_config(ckpt_path)
    if not is_file(config):
        raise FileNotFoundError(f"config {config} does not exist: pass the run's config with --config")
    settings = yaml.safe_load(read_text(config)) or {}
    # A saved `fit` config also holds keys of the fit subcommand only; keep what builds model and data.
    settings = {k: v for k, v in settings.items() if k in ("model", "data")}
    # LightningCLI's own parser for the two groups: no Trainer is built.
    parser = LightningArgumentParser(exit_on_error=False)
    parser.add_lightning_class_args(GANModule, "model", subclass_mode=True)
    parser.add_lightning_class_args(L.LightningDataModule, "data", subclass_mode=True)
    built = parser.instantiate_classes(parser.parse_object(settings))
    module, datamodule = built.model, built.data
    checkpoint = load_checkpoint(ckpt_path, weights_only=weights_only)
    module.on_load_checkpoint(checkpoint)  # gives an EMA generator a home before the weights load
    # Another variant or other network sizes than the config's: one line naming the first key that differs.
    check_checkpoint_fits(module, checkpoint, ckpt_path)
    module.load_state_dict(checkpoint["state_dict"])
    return module.to(device).eval(), datamodule
