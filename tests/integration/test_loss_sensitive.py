"""Loss-Sensitive GAN in training: a short 2D run."""

from __future__ import annotations

from functools import partial

import torch

from gan_lightning.variants import LossSensitiveGAN
from tests.helpers import mlp_nets, train_on_ring


def test_short_ring_run_brings_samples_to_the_modes() -> None:
    """600 optimiser steps of LS-GAN (margin 0.1 * L1 distance) on the ring: the mean distance to the nearest
    mode falls from about 0.85 to about 0.15 (seeds 0-3: 0.81->0.15, 0.85->0.17, 0.87->0.14, 0.91->0.16)."""
    torch.manual_seed(0)
    adam = partial(torch.optim.Adam, lr=1e-3, betas=(0.5, 0.999))
    model = LossSensitiveGAN(
        *mlp_nets(64, 3),
        margin_scale=0.1,
        g_optimizer=adam,
        d_optimizer=adam,
    )
    before, after = train_on_ring(model)
    assert after < 0.5 * before, (before, after)
