"""Conditional GANs in training: a conditional run puts each class on its own mode."""

from __future__ import annotations

from functools import partial

import lightning as L
import torch

from gan_lightning.data.toy import toy_modes
from gan_lightning.networks import ConditionalMLPDiscriminator, ConditionalMLPGenerator
from gan_lightning.variants import HingeGAN
from tests.helpers import quiet_trainer, ring_data


def test_conditional_ring_run_puts_each_class_on_its_own_mode() -> None:
    """The ring's labels are the mode indices: G(z, k) must learn to land on mode k."""
    L.seed_everything(0, verbose=False)
    adam = partial(torch.optim.Adam, lr=5e-3, betas=(0.0, 0.9))
    module = HingeGAN(
        ConditionalMLPGenerator(num_classes=8, latent_dim=2, hidden_dim=64, depth=2),
        ConditionalMLPDiscriminator(num_classes=8, hidden_dim=64, depth=2, projection=True),
        g_optimizer=adam,
        d_optimizer=adam,
        n_critic=1,
    )
    centres, _ = toy_modes("ring")
    labels = torch.arange(800) % 8
    z = torch.randn(800, 2, generator=torch.Generator().manual_seed(1))

    def own_mode_distance() -> float:
        return (module.generate(800, labels=labels, z=z) - centres[labels]).norm(dim=1).mean().item()

    before = own_mode_distance()
    quiet_trainer(max_steps=600).fit(module, ring_data(num_samples=64 * 50, batch_size=64))
    after = own_mode_distance()
    assert after < 0.5 * before, f"distance to the label's own mode {before:.3f} -> {after:.3f}"
