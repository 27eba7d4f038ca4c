"""Improved-GAN techniques in training: they compose with any variant."""

from __future__ import annotations

import torch

from gan_lightning import variants as V
from gan_lightning.techniques import FeatureMatching, HistoricalAveraging
from tests.helpers import mlp_nets, quiet_trainer, ring_data


def test_techniques_compose_with_any_variant_in_a_training_step() -> None:
    for cls in (V.NSGAN, V.WGANGP, V.HingeGAN, V.LSGAN):
        g, d = mlp_nets(8, 1, d_depth=2, seed=0)
        module = cls(
            g, d, techniques=[FeatureMatching(), HistoricalAveraging(generator_weight=0.1)], n_critic=1
        )
        fit = quiet_trainer(max_steps=4)
        fit.fit(module, ring_data(num_samples=64, batch_size=32))
        logged = fit.callback_metrics
        for key in ("train/g_feature_matching", "train/g_historical_average", "train/d_historical_average"):
            assert torch.isfinite(logged[key]), (cls.__name__, key)


def test_top_k_trains_with_unpaired_paired_and_conditional_losses() -> None:
    from gan_lightning.networks import ConditionalMLPDiscriminator, ConditionalMLPGenerator
    from gan_lightning.techniques import TopKGenerator

    for cls in (V.NSGAN, V.RpGAN, V.LSGAN, "conditional"):
        if cls == "conditional":
            cls = V.NSGAN
            g, d = ConditionalMLPGenerator(num_classes=8), ConditionalMLPDiscriminator(num_classes=8)
        else:
            g, d = mlp_nets(8, 1, d_depth=2, seed=0)
        module = cls(g, d, techniques=[TopKGenerator(min_fraction=0.5, decay=0.5)])
        fit = quiet_trainer(max_epochs=2)  # epoch 1 keeps 16 of each 32 fakes
        fit.fit(module, ring_data(num_samples=64, batch_size=32))
        assert module.generator_steps == 4 and torch.isfinite(fit.callback_metrics["train/g_loss"])
