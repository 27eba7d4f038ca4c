"""Generator EMA's arguments (in training: tests/integration/test_ema.py)."""

from __future__ import annotations

import pytest

from gan_lightning.callbacks import GeneratorEMA


def test_bad_decay() -> None:
    with pytest.raises(ValueError, match="decay"):
        GeneratorEMA(decay=1.0)


def test_bad_batch_norm_settings() -> None:
    with pytest.raises(ValueError, match="batch_norm"):
        GeneratorEMA(batch_norm="average")
    with pytest.raises(ValueError, match="batch_norm_samples"):
        GeneratorEMA(batch_norm_samples=1)


def _module_with_ema():
    import copy

    import torch

    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
    from gan_lightning.variants import NSGAN

    torch.manual_seed(0)
    model = NSGAN(DCGANGenerator(latent_dim=8, width=8), DCGANDiscriminator(width=8))
    model.ema_generator = copy.deepcopy(model.generator).requires_grad_(False)
    with torch.no_grad():  # the generator moves away from its copy, and its statistics too
        for p in model.generator.parameters():
            p.add_(0.1)
        model.generator.train()(torch.randn(16, 8))
    return model


def test_tracked_batch_norm_statistics_are_those_of_the_averaged_weights() -> None:
    import copy

    import torch
    from torch.testing import assert_close

    model = _module_with_ema()
    ema = GeneratorEMA(decay=0.5)
    expected = copy.deepcopy(model.ema_generator)
    ema.update(model.ema_generator, model.generator)
    ema.track_batch_norm(model, step=3)
    # by hand: average the weights, keep the old statistics, one train-mode pass on the step's seeded latents
    with torch.no_grad():
        for average, current in zip(expected.parameters(), model.generator.parameters()):
            average.mul_(0.5).add_(current, alpha=0.5)
        expected.train()(torch.randn(64, 8, generator=torch.Generator().manual_seed(3)))
    for (name, got), want in zip(model.ema_generator.named_buffers(), expected.buffers()):
        assert_close(got, want, rtol=0, atol=0, msg=name)
    assert not torch.equal(
        model.ema_generator.project[1].running_mean, model.generator.project[1].running_mean
    )


def test_copied_batch_norm_statistics_are_the_generators() -> None:
    import torch
    from torch.testing import assert_close

    model = _module_with_ema()
    GeneratorEMA(decay=0.5, batch_norm="copy").update(model.ema_generator, model.generator)
    for got, want in zip(model.ema_generator.buffers(), model.generator.buffers()):
        assert_close(got, want, rtol=0, atol=0)
    assert isinstance(model.ema_generator.project[1], torch.nn.BatchNorm2d)
