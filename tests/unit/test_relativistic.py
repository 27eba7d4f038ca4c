"""Relativistic losses (RSGAN, RaSGAN, RaLSGAN; RpGAN = RSGAN + R1 + R2) against values computed by hand."""

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.losses import (
    relativistic_average_discriminator_loss,
    relativistic_average_generator_loss,
    relativistic_average_least_squares_discriminator_loss,
    relativistic_average_least_squares_generator_loss,
    relativistic_pairing_discriminator_loss,
    relativistic_pairing_generator_loss,
)
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from gan_lightning.techniques import R1R2Penalty
from gan_lightning.variants import RSGAN, RaLSGAN, RaSGAN, RpGAN

REAL = torch.tensor([2.0, 0.0])
FAKE = torch.tensor([1.0, 1.0])


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def test_pairing_losses_by_hand():
    # pairs (2, 1) and (0, 1): D: softplus(1 - 2), softplus(1 - 0); G: softplus(2 - 1), softplus(0 - 1)
    d = (softplus(-1.0) + softplus(1.0)) / 2
    assert_close(relativistic_pairing_discriminator_loss(REAL, FAKE), torch.tensor(d))
    assert_close(relativistic_pairing_generator_loss(REAL, FAKE), torch.tensor(d))
    # a critic that ranks every real sample far above its fake has a loss near 0 and G's near the gap
    assert_close(
        relativistic_pairing_discriminator_loss(torch.tensor([30.0]), torch.tensor([0.0])), torch.tensor(0.0)
    )
    assert_close(
        relativistic_pairing_generator_loss(torch.tensor([30.0]), torch.tensor([0.0])), torch.tensor(30.0)
    )


def test_average_losses_by_hand():
    # E C(x) = 1, E C(G(z)) = 1: D = mean softplus(1 - C(x)) + mean softplus(C(G(z)) - 1)
    d = (softplus(-1.0) + softplus(1.0)) / 2 + softplus(0.0)
    g = softplus(0.0) + (softplus(-1.0) + softplus(1.0)) / 2  # roles swapped
    assert_close(relativistic_average_discriminator_loss(REAL, FAKE), torch.tensor(d))
    assert_close(relativistic_average_generator_loss(REAL, FAKE), torch.tensor(g))


def test_average_least_squares_losses_by_hand():
    # D: mean (C(x) - 1 - 1)^2 = (0 + 4) / 2 = 2, mean (C(G(z)) - 1 + 1)^2 = 1 -> 3
    assert_close(relativistic_average_least_squares_discriminator_loss(REAL, FAKE), torch.tensor(3.0))
    # G: mean (C(G(z)) - 1 - 1)^2 = 1, mean (C(x) - 1 + 1)^2 = (4 + 0) / 2 = 2 -> 3
    assert_close(relativistic_average_least_squares_generator_loss(REAL, FAKE), torch.tensor(3.0))
    # the optimum the paper states: C(x) - E C(G(z)) = 1 and C(G(z)) - E C(x) = -1 give 0
    assert_close(
        relativistic_average_least_squares_discriminator_loss(torch.tensor([0.5]), torch.tensor([-0.5])),
        torch.tensor(0.0),
    )


@pytest.mark.parametrize("variant", [RSGAN, RaSGAN, RaLSGAN, RpGAN])
def test_variant_losses_use_the_critic_on_both_kinds(variant):
    torch.manual_seed(0)
    model = variant(MLPGenerator(latent_dim=2, hidden_dim=8), MLPDiscriminator(hidden_dim=8))
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    r, f = model.critic(real), model.critic(fake)
    expected = {
        RSGAN: relativistic_pairing_discriminator_loss,
        RaSGAN: relativistic_average_discriminator_loss,
        RaLSGAN: relativistic_average_least_squares_discriminator_loss,
        RpGAN: relativistic_pairing_discriminator_loss,
    }[variant]
    assert_close(model.discriminator_loss(real, fake, None)["loss"], expected(r, f))
    g = model.generator_loss(real, fake, None)["loss"]
    assert g.requires_grad


def test_rpgan_carries_r1_and_r2_with_its_gamma_and_refuses_batch_norm():
    model = RpGAN(MLPGenerator(latent_dim=2), MLPDiscriminator(), gamma=0.5, penalty_every=2)
    (penalty,) = [t for t in model.techniques if isinstance(t, R1R2Penalty)]
    assert (penalty.r1_gamma, penalty.r2_gamma, penalty.every) == (0.5, 0.5, 2)
    with pytest.raises(ValueError, match="batch norm"):
        RpGAN(DCGANGenerator(), DCGANDiscriminator(norm="batch"))
