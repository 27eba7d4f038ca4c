"""f-GAN (gan_lightning.variants.fgan): losses by hand, stability at extreme logits (a short 2D run:
tests/integration/test_fgan.py)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.divergences import DIVERGENCES, get_divergence
from gan_lightning.losses import (
    fgan_critic_loss,
    fgan_generator_loss,
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
)
from gan_lightning.networks import MLPDiscriminator, MLPGenerator
from gan_lightning.variants import FGAN
from tests.helpers import mlp_nets

REAL = torch.tensor([0.0, 2.0])
FAKE = torch.tensor([-1.0, 1.0])


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_losses_by_hand_gan_divergence_is_the_original_gan() -> None:
    gan = get_divergence("gan")
    # -E[log sigmoid(real)] - E[log(1 - sigmoid(fake))] = mean softplus(-real) + mean softplus(fake)
    critic = (softplus(0) + softplus(-2)) / 2 + (softplus(-1) + softplus(1)) / 2
    assert_close(fgan_critic_loss(gan, REAL, FAKE), torch.tensor(critic))
    assert_close(fgan_critic_loss(gan, REAL, FAKE), nonsaturating_discriminator_loss(REAL, FAKE))
    assert_close(fgan_generator_loss(gan, FAKE), nonsaturating_generator_loss(FAKE))
    assert_close(
        fgan_generator_loss(gan, FAKE, saturating=True), torch.tensor(-(softplus(-1) + softplus(1)) / 2)
    )


def test_losses_by_hand_kl() -> None:
    kl = get_divergence("kl")
    # T = V; bound = mean(real) - mean(exp(fake - 1)) = 1 - (e^-2 + 1) / 2
    assert_close(fgan_critic_loss(kl, REAL, FAKE), torch.tensor(-(1 - (math.exp(-2) + 1) / 2)))
    assert_close(fgan_generator_loss(kl, FAKE), torch.tensor(0.0))
    assert_close(fgan_generator_loss(kl, FAKE, saturating=True), torch.tensor(-(math.exp(-2) + 1) / 2))


def test_losses_by_hand_js() -> None:
    js = get_divergence("js")
    # T = log 2 - softplus(-V), f*(T) = softplus(V) - log 2
    real_t = [math.log(2) - softplus(-0.0), math.log(2) - softplus(-2.0)]
    fake_conj = [softplus(-1.0) - math.log(2), softplus(1.0) - math.log(2)]
    assert_close(fgan_critic_loss(js, REAL, FAKE), torch.tensor(-(sum(real_t) / 2 - sum(fake_conj) / 2)))
    fake_t = [math.log(2) - softplus(1.0), math.log(2) - softplus(-1.0)]
    assert_close(fgan_generator_loss(js, FAKE), torch.tensor(-sum(fake_t) / 2))


def test_losses_by_hand_reverse_kl() -> None:
    rkl = get_divergence("reverse_kl")
    # T = -exp(-V), f*(T) = V - 1
    bound = -(math.exp(0) + math.exp(-2)) / 2 - ((-1 - 1) + (1 - 1)) / 2
    assert_close(fgan_critic_loss(rkl, REAL, FAKE), torch.tensor(-bound))
    assert_close(fgan_generator_loss(rkl, FAKE), torch.tensor((math.exp(1) + math.exp(-1)) / 2))


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
@pytest.mark.parametrize("saturating", [False, True])
def test_losses_and_gradients_are_finite_at_logit_100(name: str, saturating: bool) -> None:
    """float64 for all (KL's f* is e^99 there, beyond float32); float32 where the values fit (see
    tests/unit/test_divergences.py)."""
    div = get_divergence(name)
    logits = torch.tensor([-100.0, -1.0, 0.0, 1.0, 100.0], dtype=torch.float64, requires_grad=True)
    for loss in (fgan_critic_loss(div, logits, logits), fgan_generator_loss(div, logits, saturating)):
        (grad,) = torch.autograd.grad(loss, logits)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()


def test_unknown_divergence_is_a_config_error() -> None:
    with pytest.raises(ValueError, match=r"model.divergence must be one of total_variation, .*; got 'chi'"):
        FGAN(MLPGenerator(), MLPDiscriminator(), divergence="chi")
    with pytest.raises(ValueError, match=r"model.pi must lie in \(0, 1\)"):
        FGAN(MLPGenerator(), MLPDiscriminator(), divergence="weighted_js", pi=0.0)


def test_discriminator_terms_report_the_lower_bound() -> None:
    model = FGAN(*mlp_nets(8, 1), divergence="kl")
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    terms = model.discriminator_loss(real, fake, None)
    expected = get_divergence("kl").lower_bound(model.critic(real), model.critic(fake))
    assert_close(terms["divergence_estimate"], expected)
    assert_close(terms["loss"], -expected)
