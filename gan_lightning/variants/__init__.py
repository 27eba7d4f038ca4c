"""GAN variants: each a GANModule subclass holding its two losses."""

from gan_lightning.variants.dragan import DRAGAN
from gan_lightning.variants.ebgan import EBGAN
from gan_lightning.variants.fgan import FGAN
from gan_lightning.variants.hinge import HingeGAN
from gan_lightning.variants.loss_sensitive import LossSensitiveGAN
from gan_lightning.variants.lsgan import LSGAN
from gan_lightning.variants.maximum_likelihood import MaximumLikelihoodGAN
from gan_lightning.variants.minimax import MinimaxGAN
from gan_lightning.variants.nsgan import NSGAN
from gan_lightning.variants.ralsgan import RaLSGAN
from gan_lightning.variants.rasgan import RaSGAN
from gan_lightning.variants.rpgan import RpGAN
from gan_lightning.variants.rsgan import RSGAN
from gan_lightning.variants.wgan import WGAN
from gan_lightning.variants.wgan_gp import WGANGP
from gan_lightning.variants.wgan_one_sided import WGANOneSided

__all__ = [
    "DRAGAN",
    "EBGAN",
    "FGAN",
    "HingeGAN",
    "LossSensitiveGAN",
    "LSGAN",
    "MaximumLikelihoodGAN",
    "MinimaxGAN",
    "NSGAN",
    "RaLSGAN",
    "RaSGAN",
    "RpGAN",
    "RSGAN",
    "WGAN",
    "WGANGP",
    "WGANOneSided",
]
