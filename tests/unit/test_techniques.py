"""Improved-GAN techniques: hand-computed values, checkpointed state (composition with any variant in
training: tests/integration/test_techniques.py)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gan_lightning import variants as V
from gan_lightning.losses import feature_matching_loss
from gan_lightning.networks import (
    DCGANDiscriminator,
    MinibatchDiscrimination,
    MinibatchDiscriminator,
    MLPDiscriminator,
)
from gan_lightning.techniques import FeatureMatching, HistoricalAveraging
from tests.helpers import mlp_nets


def test_minibatch_layer_by_hand() -> None:
    layer = MinibatchDiscrimination(in_features=1, num_kernels=1, kernel_dim=1)
    with torch.no_grad():
        layer.T.fill_(1.0)
    features = torch.tensor([[0.0], [1.0], [3.0]])  # L1 distances 1, 3 (from 0) and 2 (between 1 and 3)
    e = math.exp
    expected = torch.tensor([[e(-1) + e(-3)], [e(-1) + e(-2)], [e(-3) + e(-2)]])
    assert_close(layer(features), expected)


def test_minibatch_discriminator_scores_depend_on_the_rest_of_the_batch() -> None:
    torch.manual_seed(0)
    for inner, x in (
        (MLPDiscriminator(hidden_dim=16), torch.randn(6, 2)),
        (DCGANDiscriminator(width=8, norm="none"), torch.randn(6, 1, 28, 28)),
    ):
        d = MinibatchDiscriminator(inner, num_kernels=8, kernel_dim=3)
        scores = d(x)
        assert scores.shape == (6,)
        other = torch.cat([x[:1], torch.randn_like(x[1:]) * 3])
        assert (d(other)[0] - scores[0]).abs() > 1e-6  # same sample, different company
        assert_close(d.features(x), inner.features(x))
    with pytest.raises(ValueError, match="feature_dim"):
        MinibatchDiscriminator(nn.Linear(2, 1))


def test_feature_matching_replaces_or_adds_to_the_generator_loss() -> None:
    g, d = mlp_nets(8, 1, d_depth=2, seed=0)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    expected = feature_matching_loss(d.features(real), d.features(fake))
    for replace in (True, False):
        module = V.LSGAN(g, d, techniques=[FeatureMatching(weight=2.0, replace=replace)])
        base = module.generator_loss(real, fake, None)["loss"]
        terms = module.techniques[0].generator_terms(module, real, fake, None, {"loss": base})
        assert_close(terms["feature_matching"], expected)
        assert_close(terms["adversarial"], base)
        assert_close(terms["loss"], 2.0 * expected + (0 if replace else base))


def test_feature_matching_needs_features() -> None:
    g, _ = mlp_nets(8, 1, d_depth=2, seed=0)
    with pytest.raises(ValueError, match="features"):
        V.NSGAN(g, nn.Sequential(nn.Linear(2, 1)), techniques=[FeatureMatching()])


def test_historical_average_by_hand() -> None:
    g, d = mlp_nets(8, 1, d_depth=2, seed=0)
    module = V.WGAN(g, d, techniques=[HistoricalAveraging(discriminator_weight=0.5, generator_weight=0.0)])
    technique = module.techniques[0]
    n = sum(p.numel() for p in d.parameters())
    zero = torch.tensor(0.0)
    # Step 1: the mean is theta_1 itself.
    terms = technique.discriminator_terms(module, None, None, None, {"loss": zero})
    assert_close(terms["historical_average"], zero)
    with torch.no_grad():
        for p in d.parameters():
            p.add_(1.0)
    # Step 2: mean = theta_1 + 1/2, so every coordinate is 1/2 from it.
    terms = technique.discriminator_terms(module, None, None, None, {"loss": zero})
    assert_close(terms["historical_average"], torch.tensor(0.25 * n))
    assert_close(terms["loss"], torch.tensor(0.5 * 0.25 * n))
    # generator_weight 0 leaves the generator's loss alone.
    assert technique.generator_terms(module, None, None, None, {"loss": zero}) == {"loss": zero}
    # The running mean is state: it goes into checkpoints with the model.
    state = module.state_dict()
    assert int(state["techniques.0.d_count"]) == 2
    assert sum(k.startswith("techniques.0.d_mean_") for k in state) == len(list(d.parameters()))
