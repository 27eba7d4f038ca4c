"""A trained generator in two lines, from any checkpoint ``gan-lightning fit`` wrote::

    from gan_lightning import load_generator
    G = load_generator("runs/nsgan_ring/version_0/checkpoints/epoch=29-step=6000.ckpt")  # eval mode, EMA if kept
    x = G(torch.randn(16, G.latent_dim))  # a conditional generator: G(z, labels)

The checkpoint holds the model's config (``hparams``: the networks as ``class_path`` dicts, see
``GANModule._save_init_arguments``), so nothing else is needed; ``<Variant>.load_from_checkpoint(path)``
rebuilds the whole module the same way. A checkpoint without it (written before, or by a module built in
Python) is rebuilt from the run's ``config.yaml`` (:func:`gan_lightning.runs.load_run`). Either way the file
is read with ``torch.load(weights_only=True)``.

``gan-lightning export --format safetensors`` writes the generator alone: its weights and, in the file's
metadata, its ``class_path`` and ``init_args`` (:func:`generator_config`); ``load_generator("G.safetensors")``
rebuilds it from that file only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_lightning.checkpoints import load_checkpoint
from gan_lightning.module import GANModule
from gan_lightning.paths import as_path, is_file, read_text, reading, writing


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
    (``ema_generator.*``), as samples and evaluation use it. Arguments as :func:`load_module`; a
    ``.safetensors`` file of ``gan-lightning export`` is read by :func:`load_safetensors_generator`."""
    if str(ckpt_path).endswith(".safetensors"):
        return load_safetensors_generator(ckpt_path, device)
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


# ------------------------------------------------------------------------------------ the generator alone
SAFETENSORS_KEY = "gan_lightning.generator"  # metadata key: JSON {"class_path": ..., "init_args": {...}}


def generator_config(
    ckpt_path: str | Path, config: str | Path | None = None, weights_only: bool = True
) -> dict[str, Any]:
    """``{"class_path": ..., "init_args": {...}}`` of a checkpoint's generator, what :func:`build_generator`
    rebuilds it from: the checkpoint's hyper-parameters, else (as :func:`load_module`) the run's config."""
    hparams = load_checkpoint(ckpt_path, weights_only=weights_only).get("hyper_parameters") or {}
    if config is None and isinstance(hparams.get("generator"), Mapping) and "_class_path" in hparams:
        given = hparams["generator"]
    else:
        given = _config_generator(ckpt_path, config)
    return {"class_path": str(given["class_path"]), "init_args": dict(given.get("init_args") or {})}


def _config_generator(ckpt_path: str | Path, config: str | Path | None) -> dict[str, Any]:
    """``model.init_args.generator`` of a run's config, parsed as :func:`load_run` parses it (full class path,
    defaults filled in)."""
    import yaml
    from lightning.pytorch.cli import LightningArgumentParser

    from gan_lightning.runs import default_config

    path = as_path(config) if config is not None else default_config(ckpt_path)
    if not is_file(path):
        raise FileNotFoundError(f"config {path} does not exist: pass the run's config with --config")
    settings = yaml.safe_load(read_text(path)) or {}
    parser = LightningArgumentParser(exit_on_error=False)
    parser.add_lightning_class_args(GANModule, "model", subclass_mode=True)
    generator = parser.parse_object({"model": settings.get("model")}).model.init_args.generator
    return {"class_path": generator.class_path, "init_args": generator.init_args.as_dict()}


def build_generator(class_path: str, init_args: Mapping[str, Any], source: str | Path = "") -> nn.Module:
    """A new ``class_path(**init_args)``, the class looked up among imported modules only (a file from
    elsewhere cannot make this import code); ``source`` names the file in the error."""
    import gan_lightning.registry  # noqa: F401 - the library's networks

    module_name, _, name = str(class_path).rpartition(".")
    found = getattr(sys.modules.get(module_name), name, None)
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise ValueError(
            f"{str(source)!r}: generator class {class_path!r} is not an nn.Module of an imported module: "
            "import the module that defines it first"
        )
    return found(**init_args)


def save_safetensors_generator(
    generator: nn.Module, config: Mapping[str, Any], path: str | Path
) -> str | Path:
    """``generator``'s weights in a safetensors file (a path or an fsspec URL), with ``config``
    (:func:`generator_config`) as JSON in its metadata, so that :func:`load_safetensors_generator` needs
    nothing else."""
    from safetensors.torch import save_file

    weights = {key: value.detach().cpu().contiguous() for key, value in generator.state_dict().items()}
    with writing(path) as local:
        save_file(weights, str(local), metadata={SAFETENSORS_KEY: json.dumps(dict(config))})
    return as_path(path)


def load_safetensors_generator(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """The generator of a :func:`save_safetensors_generator` file, in eval mode, without gradients.

    Raises:
        ValueError: a missing or unreadable file, one without the generator's config, or weights that do not
            fit the generator it names (one line naming the file).
    """
    from safetensors import safe_open

    try:
        with reading(path) as local, safe_open(str(local), framework="pt") as file:
            config = json.loads((file.metadata() or {}).get(SAFETENSORS_KEY, "null"))
            weights = {key: file.get_tensor(key) for key in file.keys()}
    except Exception as error:  # safetensors raises its own types (and OSError) for a bad file
        raise ValueError(f"{str(path)!r} is not a readable safetensors file: {error}") from None
    if not isinstance(config, dict) or "class_path" not in config:
        raise ValueError(
            f"{str(path)!r} has no {SAFETENSORS_KEY} metadata: write it with gan-lightning export"
        )
    generator = build_generator(config["class_path"], config.get("init_args") or {}, path)
    try:
        generator.load_state_dict(weights)
    except RuntimeError as error:
        reason = " ".join(str(error).split())  # torch's message spans lines
        raise ValueError(f"{str(path)!r} does not fit {config['class_path']}: {reason}") from None
    return generator.to(device).eval().requires_grad_(False)
