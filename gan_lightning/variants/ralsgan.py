"""Relativistic average least-squares GAN (Jolicoeur-Martineau, "The relativistic discriminator: a key
element missing from standard GAN", ICLR 2019)."""

from __future__ import annotations

from gan_lightning.losses import (
    relativistic_average_least_squares_discriminator_loss,
    relativistic_average_least_squares_generator_loss,
)
from gan_lightning.variants.rsgan import RSGAN


class RaLSGAN(RSGAN):
    """D minimises E_x[(C(x) - E C(G(z)) - 1)^2] + E_z[(C(G(z)) - E C(x) + 1)^2]; G minimises
    E_z[(C(G(z)) - E C(x) - 1)^2] + E_x[(C(x) - E C(G(z)) + 1)^2]. Paper defaults: Adam 2e-4,
    betas (0.5, 0.999), n_critic 1.
    """

    relativistic_d_loss = staticmethod(relativistic_average_least_squares_discriminator_loss)
    relativistic_g_loss = staticmethod(relativistic_average_least_squares_generator_loss)
