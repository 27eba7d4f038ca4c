"""Loss-Sensitive GAN (gan_lightning.variants.loss_sensitive): margins and losses by hand (a short 2D run:
tests/integration/test_loss_sensitive.py)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn
from torch.testing import assert_close

from gan_lightning.losses import loss_sensitive_critic_loss, loss_sensitive_generator_loss, sample_distance
from gan_lightning.networks import MLPDiscriminator, MLPGenerator
from gan_lightning.variants import LossSensitiveGAN
from tests.helpers import mlp_nets


def test_sample_distance_by_hand() -> None:
    real = torch.tensor([[[1.0, 2.0]], [[0.0, 0.0]]])  # (B, 1, 2): flattened per sample
    fake = torch.tensor([[[4.0, -2.0]], [[0.0, 0.0]]])
    assert_close(sample_distance(real, fake, "l1"), torch.tensor([7.0, 0.0]))
    assert_close(sample_distance(real, fake, "l2"), torch.tensor([5.0, 0.0]))
    with pytest.raises(ValueError, match="model.distance must be 'l1' or 'l2'"):
        sample_distance(real, fake, "linf")


def test_losses_by_hand() -> None:
    real_loss, fake_loss = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 1.0])
    margin = torch.tensor([0.5, 0.5])
    # hinge: (0.5 + 1 - 3)_+ = 0 and (0.5 + 2 - 1)_+ = 1.5 -> 0.75; real term 0.5 * mean(1, 2) = 0.75
    assert_close(loss_sensitive_critic_loss(real_loss, fake_loss, margin, real_weight=0.5), torch.tensor(1.5))
    assert_close(
        loss_sensitive_critic_loss(real_loss, fake_loss, margin, real_weight=0.0), torch.tensor(0.75)
    )
    assert_close(loss_sensitive_generator_loss(fake_loss), torch.tensor(2.0))


class SumCritic(nn.Module):
    """V(x) = x_1 + x_2: a fixed critic for checking the module's loss on known numbers."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sum(1)


def test_module_losses_on_fixed_tensors() -> None:
    model = LossSensitiveGAN(MLPGenerator(hidden_dim=8, depth=1), SumCritic(), margin_scale=0.5)
    real, fake = torch.tensor([[1.0, 1.0]]), torch.tensor([[0.0, 0.0]])
    # L = softplus(V): L(x) = softplus(2), L(G(z)) = softplus(0) = log 2; Delta = 0.5 * |x - G(z)|_1 = 1
    l_real, l_fake = math.log1p(math.exp(2.0)), math.log(2.0)
    terms = model.discriminator_loss(real, fake, None)
    assert_close(terms["loss"], torch.tensor(1.0 + l_real - l_fake))
    assert_close(terms["margin"], torch.tensor(1.0))
    assert_close(model.generator_loss(real, fake, None)["loss"], torch.tensor(l_fake))


def test_gradient_penalty_option_is_added() -> None:
    torch.manual_seed(0)
    model = LossSensitiveGAN(*mlp_nets(8, 1), margin_scale=0.1, gp_weight=10.0)
    terms = model.discriminator_loss(torch.randn(8, 2), torch.randn(8, 2), None)
    assert terms["gradient_penalty"] > 0
    assert torch.isfinite(terms["loss"])


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ValueError, match="model.distance must be 'l1' or 'l2'"):
        LossSensitiveGAN(MLPGenerator(), MLPDiscriminator(), distance="cosine")
    with pytest.raises(ValueError, match="must be >= 0"):
        LossSensitiveGAN(MLPGenerator(), MLPDiscriminator(), margin_scale=-1.0)
