"""A generator on the Hugging Face Hub: ``save_pretrained`` / ``from_pretrained`` / ``push_to_hub``.

::

    from gan_lightning.hub import HubGenerator
    G = HubGenerator.from_checkpoint("runs/x/version_0/checkpoints/last.ckpt")  # EMA weights if kept
    G.save_pretrained("my-gan")                    # my-gan/config.json, model.safetensors, README.md
    G.push_to_hub("user/my-gan")                   # needs `hf auth login` (or token=...)
    G = HubGenerator.from_pretrained("user/my-gan")  # or a local folder
    x = G(torch.randn(16, G.latent_dim))           # a conditional generator: G(z, labels)

``config.json`` holds the generator's ``class_path`` and ``init_args``; ``model.safetensors`` is the file
``gan-lightning export --format safetensors`` writes (``gan_lightning.load_generator`` reads it too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from huggingface_hub import ModelHubMixin, hf_hub_download
from huggingface_hub.constants import SAFETENSORS_SINGLE_FILE
from torch import Tensor, nn

from gan_lightning.loading import (
    build_generator,
    generator_config,
    load_generator,
    load_safetensors_generator,
    save_safetensors_generator,
)


class HubGenerator(
    nn.Module,
    ModelHubMixin,
    library_name="gan-lightning",
    tags=["gan", "gan-lightning"],
):
    """A gan-lightning generator (``self.generator``) that the Hub mixin saves, loads and pushes.

    Args:
        class_path: the generator's class, e.g. ``gan_lightning.networks.DCGANGenerator``.
        init_args: its constructor's arguments (plain data: they go to ``config.json``).
    """

    def __init__(self, class_path: str, init_args: dict[str, Any]) -> None:
        super().__init__()
        self.class_path, self.init_args = class_path, dict(init_args)
        self.generator = build_generator(class_path, init_args)
        self.latent_dim = self.generator.latent_dim
        self.num_classes = int(getattr(self.generator, "num_classes", 0) or 0)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.generator(z, labels) if self.num_classes else self.generator(z)

    @classmethod
    def from_checkpoint(
        cls, ckpt_path: str | Path, config: str | Path | None = None, weights_only: bool = True
    ) -> HubGenerator:
        """The sampling generator of a checkpoint (EMA weights if kept), ready to save or push."""
        hub = cls(**generator_config(ckpt_path, config, weights_only))
        hub.generator.load_state_dict(load_generator(ckpt_path, config, "cpu", weights_only).state_dict())
        return hub.eval().requires_grad_(False)

    def _save_pretrained(self, save_directory: Path) -> None:
        config = {"class_path": self.class_path, "init_args": self.init_args}
        save_safetensors_generator(self.generator, config, save_directory / SAFETENSORS_SINGLE_FILE)

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        map_location: str | torch.device = "cpu",
        **model_kwargs: Any,
    ) -> HubGenerator:
        folder = Path(model_id)
        if folder.is_dir():
            weights = folder / SAFETENSORS_SINGLE_FILE
        else:
            weights = hf_hub_download(
                model_id,
                SAFETENSORS_SINGLE_FILE,
                revision=revision,
                cache_dir=cache_dir,
                force_download=force_download,
                local_files_only=local_files_only,
                token=token,
            )
        hub = cls(**model_kwargs)  # class_path and init_args from config.json
        # The weights (strictly: every key, every shape) through the same reader as `load_generator`.
        hub.generator.load_state_dict(load_safetensors_generator(weights).state_dict())
        return hub.to(map_location).eval().requires_grad_(False)
