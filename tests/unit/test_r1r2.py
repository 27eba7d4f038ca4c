"""R1 and R2, the zero-centred gradient penalties, against values computed by hand."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gan_lightning.penalties import zero_centered_gradient_penalty
from gan_lightning.techniques import R1R2Penalty


def _quadratic(x):
    """D(x) = sum x^2 per sample: grad = 2x, so E||grad||^2 = 4 E||x||^2."""
    return x.flatten(1).pow(2).sum(1)


def _gan(critic_steps=0, critic=_quadratic, discriminator=None):
    return SimpleNamespace(
        critic=lambda x, labels=None: critic(x),
        critic_steps=critic_steps,
        discriminator=discriminator or nn.Linear(2, 1),
        num_classes=0,
    )


def test_penalty_of_a_linear_critic_is_its_squared_weight_norm():
    w = torch.tensor([3.0, -4.0], requires_grad=True)
    x = torch.randn(5, 2)
    penalty = zero_centered_gradient_penalty(lambda v: v @ w, x)
    assert_close(penalty, torch.tensor(25.0))
    penalty.backward()  # the graph reaches the critic's weights: d/dw ||w||^2 = 2w
    assert_close(w.grad, 2 * w.detach())


def test_r1_and_r2_add_gamma_halves_of_the_penalties_on_real_and_fake():
    real = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # E||2x||^2 = 4 * (1 + 4) / 2 = 10
    fake = torch.tensor([[1.0, 1.0], [3.0, 0.0]])  # 4 * (2 + 9) / 2 = 22
    terms = R1R2Penalty(r1_gamma=2.0, r2_gamma=0.5).discriminator_terms(
        _gan(), real, fake, None, {"loss": torch.tensor(1.0)}
    )
    assert_close(terms["r1"], torch.tensor(10.0))
    assert_close(terms["r2"], torch.tensor(22.0))
    assert_close(terms["loss"], torch.tensor(1.0 + 1.0 * 10.0 + 0.25 * 22.0))


def test_r1_alone_logs_no_r2():
    real = torch.ones(3, 2)
    terms = R1R2Penalty(r1_gamma=1.0).discriminator_terms(
        _gan(), real, real, None, {"loss": torch.tensor(0.0)}
    )
    assert "r2" not in terms
    assert_close(terms["loss"], torch.tensor(0.5 * 8.0))


def test_lazy_penalty_runs_every_k_critic_steps_scaled_by_k():
    real = torch.ones(3, 2)
    penalty = R1R2Penalty(r1_gamma=1.0, every=4)
    on = penalty.discriminator_terms(_gan(critic_steps=8), real, real, None, {"loss": torch.tensor(0.0)})
    assert_close(on["loss"], torch.tensor(4 * 0.5 * 8.0))
    off = penalty.discriminator_terms(_gan(critic_steps=9), real, real, None, {"loss": torch.tensor(0.0)})
    assert off.keys() == {"loss"}
    assert_close(off["loss"], torch.tensor(0.0))


def test_bad_settings_and_batch_norm_are_refused():
    with pytest.raises(ValueError, match="not both 0"):
        R1R2Penalty(r1_gamma=0.0, r2_gamma=0.0)
    with pytest.raises(ValueError, match=">= 0"):
        R1R2Penalty(r1_gamma=-1.0)
    with pytest.raises(ValueError, match="every"):
        R1R2Penalty(every=0)
    with pytest.raises(ValueError, match="batch norm"):
        R1R2Penalty().attach(_gan(discriminator=nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))))
