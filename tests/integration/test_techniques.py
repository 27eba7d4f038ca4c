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
