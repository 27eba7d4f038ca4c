"""gan-lightning: GAN variants as PyTorch Lightning modules, configured from one YAML file."""

from gan_lightning.loading import load_generator, load_module
from gan_lightning.module import GANModule

__all__ = ["GANModule", "load_generator", "load_module"]
__version__ = "0.1.0"
