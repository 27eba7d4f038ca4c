"""GAN variants: each a GANModule subclass holding its two losses."""

from gan_lightning.variants.lsgan import LSGAN
from gan_lightning.variants.nsgan import NSGAN
from gan_lightning.variants.wgan_gp import WGANGP

__all__ = ["LSGAN", "NSGAN", "WGANGP"]
