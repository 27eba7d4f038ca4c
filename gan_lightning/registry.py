"""The library's configurable classes, imported so that jsonargparse finds them.

jsonargparse resolves a short ``class_path`` (``NSGAN``, ``MLPGenerator``, ``ToyDataModule``) only among the
subclasses that are already imported. The CLI and the commands that rebuild a run from its config import this
module instead of each other, which keeps the import graph of the package free of cycles.
"""

from __future__ import annotations

from types import ModuleType

import torch

import gan_lightning.data as data
import gan_lightning.networks as networks
import gan_lightning.techniques  # noqa: F401 - techniques are configured by class_path
import gan_lightning.variants as variants

#: Config group -> the package whose classes it takes.
PACKAGES: dict[str, ModuleType] = {"model": variants, "data": data}


def known_classes(key: str) -> list[str]:
    """The short class names a ``class_path`` under the config key ``key`` may take (empty if unknown);
    torch's optimizer classes, by their import paths, under ``model.g_optimizer`` and ``model.d_optimizer``."""
    if key.split(".")[-2:-1] in (["g_optimizer"], ["d_optimizer"]) or key in ("g_optimizer", "d_optimizer"):
        return [
            f"torch.optim.{name}"
            for name, cls in vars(torch.optim).items()
            if isinstance(cls, type)
            and issubclass(cls, torch.optim.Optimizer)
            and cls.__name__ != "Optimizer"
        ]
    if "generator" in key or "discriminator" in key:
        package: ModuleType | None = networks
    else:
        package = PACKAGES.get(key.split(".")[0])
    return list(getattr(package, "__all__", None) or [])
