"""Issue 4 variants without a Trainer: the papers' defaults, spectral norm, label smoothing, mean matching,
the batch-norm refusals (training runs: tests/integration/test_variants.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gan_lightning import variants as V
from gan_lightning.losses import label_smoothed_discriminator_loss
from gan_lightning.networks import DCGANDiscriminator, MLPDiscriminator
from tests.helpers import mlp_nets


def test_wgan_defaults_are_the_papers() -> None:
    module = V.WGAN(*mlp_nets(64, 2))
    module.trainer = None  # configure_optimizers needs no trainer
    g_opt, d_opt = module.configure_optimizers()[0]
    assert isinstance(d_opt, torch.optim.RMSprop) and d_opt.defaults["lr"] == 5e-5
    assert module.n_critic == 5 and module.clip_value == 0.01


def singular_values(network: nn.Module) -> list[float]:
    """Largest singular value of every weight, reshaped to (out, -1), as the forward pass uses it."""
    network.eval()  # read the normalised weight without another power iteration
    values = [
        torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item()
        for m in network.modules()
        if isinstance(m, (nn.Linear, nn.Conv2d))
    ]
    network.train()
    return values


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLPDiscriminator(hidden_dim=32, spectral_norm=True),
        lambda: DCGANDiscriminator(image_size=28, width=8, norm="none", spectral_norm=True),
    ],
    ids=["mlp", "dcgan"],
)
def test_spectral_norm_keeps_the_largest_singular_value_near_one(make: Callable[[], nn.Module]) -> None:
    torch.manual_seed(0)
    net = make()
    shape = (16, 2) if isinstance(net, MLPDiscriminator) else (16, 1, 28, 28)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(10):  # training steps move the weights; each forward runs one power iteration per layer
        optimizer.zero_grad()
        net(torch.randn(shape)).mean().backward()
        optimizer.step()
    with torch.no_grad():  # a few more power iterations on the final weights
        for _ in range(30):
            net(torch.randn(shape))
    values = singular_values(net)
    assert len(values) >= 3
    assert_close(torch.tensor(values), torch.ones(len(values)), atol=0.02, rtol=0)


def test_without_spectral_norm_the_singular_values_are_free() -> None:
    torch.manual_seed(0)
    values = singular_values(MLPDiscriminator(hidden_dim=32))
    assert max(abs(v - 1) for v in values) > 0.2


def test_label_smoothing_is_an_option_of_the_nsgan_family() -> None:
    torch.manual_seed(0)
    g, d = mlp_nets(64, 2)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    for cls in (V.NSGAN, V.MinimaxGAN, V.MaximumLikelihoodGAN, V.DRAGAN):
        module = cls(g, d, real_label=0.9)
        terms = module.discriminator_loss(real, fake, None)
        expected = label_smoothed_discriminator_loss(d(real), d(fake), 0.9)
        if cls is V.DRAGAN:
            expected = expected + module.dragan_weight * terms["dragan_penalty"]
        assert_close(terms["loss"], expected)
    with pytest.raises(ValueError, match="model.real_label"):
        V.NSGAN(g, d, real_label=1.5)


def test_lsgan_mean_matching_term() -> None:
    torch.manual_seed(0)
    g, d = mlp_nets(64, 2)
    module = V.LSGAN(g, d, a=0.0, b=1.0, c=1.0, mean_matching_weight=2.0)
    real = torch.randn(8, 2, requires_grad=True)
    fake = torch.randn(8, 2, requires_grad=True)
    terms = module.generator_loss(real, fake, None)
    fake_scores, real_scores = d(fake), d(real)
    expected_ls = 0.5 * (fake_scores - 1).pow(2).mean()
    expected_mm = (fake_scores.mean() - real_scores.mean()).pow(2)
    assert_close(terms["least_squares"], expected_ls)
    assert_close(terms["mean_matching"], expected_mm)
    assert_close(terms["loss"], expected_ls + 2.0 * expected_mm)
    terms["loss"].backward()
    assert real.grad is None and fake.grad is not None  # E[D(x)] is a constant for G


def test_penalised_variants_refuse_batch_norm() -> None:
    from gan_lightning.networks import DCGANGenerator

    g, d = DCGANGenerator(latent_dim=8, width=8), DCGANDiscriminator(width=8, norm="batch")
    for cls in (V.WGANOneSided, V.DRAGAN):
        with pytest.raises(ValueError, match="batch norm"):
            cls(g, d)
    V.WGAN(g, d)  # weight clipping allows it, as the paper
