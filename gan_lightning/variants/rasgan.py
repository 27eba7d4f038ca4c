"""Relativistic average standard GAN (Jolicoeur-Martineau, "The relativistic discriminator: a key element
missing from standard GAN", ICLR 2019)."""

from __future__ import annotations

from gan_lightning.losses import relativistic_average_discriminator_loss, relativistic_average_generator_loss
from gan_lightning.variants.rsgan import RSGAN


class RaSGAN(RSGAN):
    """D minimises E_x[softplus(-(C(x) - E C(G(z))))] + E_z[softplus(C(G(z)) - E C(x))]: every sample is
    compared with the batch average of the other kind, not with one partner; G minimises the same with real
    and fake swapped. Paper defaults: Adam 2e-4, betas (0.5, 0.999), n_critic 1.
    """

    relativistic_d_loss = staticmethod(relativistic_average_discriminator_loss)
    relativistic_g_loss = staticmethod(relativistic_average_generator_loss)
