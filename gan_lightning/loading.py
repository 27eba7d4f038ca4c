"""A trained generator in two lines, from any checkpoint ``gan-lightning fit`` wrote::

    from gan_lightning import load_generator
    G = load_generator("runs/nsgan_ring/version_0/checkpoints/epoch=29-step=6000.ckpt")  # eval mode, EMA if kept
    x = G(torch.randn(16, G.latent_dim))  # a conditional generator: G(z, labels)

The checkpoint holds the model's config (``hparams``: the networks as ``class_path`` dicts, see
``GANModule._save_init_arguments``), so nothing else is needed; ``<Variant>.load_from_checkpoint(path)``
rebuilds the whole module the same way. A checkpoint without it (written before, or by a module built in
Python) is rebuilt from the run's ``config.yaml`` (:func:`gan_lightning.runs.load_run`). Either way the file
is read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_lightning.checkpoints import load_checkpoint
from gan_lightning.module import GANModule


def load_module(
    ckpt_path: str | Path,
    config: str | Path | None = None,
    device: str | torch.device = "cpu",
    weights_only: bool = True,
) -> GANModule:
    """The GANModule of a checkpoint, in eval mode on ``device``, built from the config it holds.

    Args:
        ckpt_path: a checkpoint of ``gan-lightning fit`` (or of any GANModule, given the run's config).
        config: the run's YAML config, used when the checkpoint holds none (default: ``<run>/config.yaml``).
        device: where to put the module.
        weights_only: ``False`` only for a trusted checkpoint that holds Python objects.

    Raises:
        ValueError: an unreadable or foreign checkpoint, or one whose variant is not a GANModule class of an
            imported module (one line naming the file).
        FileNotFoundError: a checkpoint without a config of its own and no run config beside it.
    """
    from lightning.pytorch.cli import instantiate_module

    import gan_lightning.registry  # noqa: F401 - the library's classes, for the config's class paths

    checkpoint = load_checkpoint(ckpt_path, weights_only=weights_only)
    hparams = dict(checkpoint.get("hyper_parameters") or {})
    if config is not None or "generator" not in hparams or "_class_path" not in hparams:
        from gan_lightning.runs import load_run

        return load_run(ckpt_path, config, device, weights_only)[0]
    variant = _variant_class(hparams["_class_path"], ckpt_path)
    hparams.pop("_instantiator", None)
    module = instantiate_module(variant, hparams)
    module.on_load_checkpoint(checkpoint)  # gives an EMA generator a home before the weights load
    module.load_state_dict(checkpoint["state_dict"])
    return module.to(device).eval()


def load_generator(
    ckpt_path: str | Path,
    config: str | Path | None = None,
    device: str | torch.device = "cpu",
    weights_only: bool = True,
) -> nn.Module:
    """The generator of a checkpoint in eval mode, without gradients: its EMA copy when the checkpoint has one
    (``ema_generator.*``), as samples and evaluation use it. Arguments as :func:`load_module`."""
    module = load_module(ckpt_path, config, device, weights_only)
    return module.sampling_generator().eval().requires_grad_(False)


def _variant_class(class_path: Any, ckpt_path: str | Path) -> type[GANModule]:
    """The GANModule subclass ``class_path`` names, looked up among imported modules only (a checkpoint from
    elsewhere cannot make this import code)."""
    module_name, _, name = str(class_path).rpartition(".")
    found = getattr(sys.modules.get(module_name), name, None)
    if not (isinstance(found, type) and issubclass(found, GANModule)):
        raise ValueError(
            f"checkpoint {str(ckpt_path)!r} was written by {class_path!r}, which is not a GANModule of an "
            "imported module: import the module that defines it first"
        )
    return found
