"""The training core without a Trainer: losses, the gradient penalty, the modules' arguments and defaults,
sampling, the finiteness check (in training: tests/integration/test_core.py)."""

from __future__ import annotations

import math
import os

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gan_lightning._lightning_compat import skip_nvml_check_without_gpus
from gan_lightning.losses import (
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from gan_lightning.networks import DCGANGenerator, MLPDiscriminator, MLPGenerator
from gan_lightning.nonfinite import all_finite
from gan_lightning.penalties import gradient_penalty, input_gradient_norm
from gan_lightning.variants import LSGAN, NSGAN, WGANGP
from tests.helpers import small_nsgan


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


# ---------------------------------------------------------------------------------------------- losses
REAL, FAKE = torch.tensor([0.0, 2.0]), torch.tensor([-1.0, 1.0])


def test_nonsaturating_losses_match_hand_computed_values() -> None:
    # -log sigmoid(l) = log(1 + e^-l); -log(1 - sigmoid(l)) = log(1 + e^l)
    d = (softplus(-0.0) + softplus(-2.0)) / 2 + (softplus(-1.0) + softplus(1.0)) / 2
    assert_close(nonsaturating_discriminator_loss(REAL, FAKE), torch.tensor(d))
    g = (softplus(1.0) + softplus(-1.0)) / 2
    assert_close(nonsaturating_generator_loss(FAKE), torch.tensor(g))


def test_wasserstein_and_least_squares_losses_match_hand_computed_values() -> None:
    assert_close(wasserstein_critic_loss(REAL, FAKE), torch.tensor(0.0 - 1.0))
    assert_close(wasserstein_generator_loss(FAKE), torch.tensor(-0.0))
    # a=-1, b=1: 1/2 mean((r-1)^2) + 1/2 mean((f+1)^2) = 1/2 (1+1)/2 + 1/2 (0+4)/2
    assert_close(least_squares_discriminator_loss(REAL, FAKE, a=-1.0, b=1.0), torch.tensor(0.5 + 1.0))
    assert_close(least_squares_generator_loss(FAKE, c=0.0), torch.tensor(0.5 * (1 + 1) / 2))


@pytest.mark.parametrize("logit", [-100.0, 100.0])
def test_nonsaturating_losses_are_finite_at_extreme_logits(logit: float) -> None:
    x = torch.full((4,), logit, requires_grad=True)
    loss = nonsaturating_discriminator_loss(x, x) + nonsaturating_generator_loss(x)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    # D: softplus(-l) + softplus(l) = |l| (+ e^-100); G: softplus(-l) = 100 at l = -100, 0 at l = 100
    assert_close(loss, torch.tensor(100.0 + (100.0 if logit < 0 else 0.0)), atol=1e-4, rtol=1e-4)


# ---------------------------------------------------------------------------------------------- gradient penalty
@pytest.mark.parametrize("shape", [(7, 2), (1, 5), (4, 1, 6, 6), (3, 3, 8, 8)])
def test_gradient_penalty_of_linear_critic_is_squared_distance_of_norm_to_one(shape: tuple[int, ...]) -> None:
    """D(x) = w.x has gradient w everywhere, so the penalty is (||w|| - 1)^2 whatever the batch or image size.
    A per-pixel or whole-batch norm (bugs peers have shipped) would give another value."""
    torch.manual_seed(0)
    w = torch.randn(shape[1:])
    critic = lambda x, labels=None: (x * w).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(shape), torch.randn(shape)
    expected = (w.norm() - 1) ** 2
    assert_close(gradient_penalty(critic, real, fake), expected, rtol=1e-5, atol=1e-6)
    model = WGANGP(MLPGenerator(), MLPDiscriminator(), gp_weight=10.0)
    model.critic = critic
    terms = model.discriminator_loss(real, fake, None)
    assert_close(terms["gradient_penalty"], expected, rtol=1e-5, atol=1e-6)
    assert_close(terms["loss"] + terms["wasserstein"], 10 * expected, rtol=1e-5, atol=1e-5)


def test_gradient_penalty_uses_interpolates_between_real_and_fake() -> None:
    # D(x) = ||x||^2 / 2 has gradient x: with eps = 1 the penalty sees the real points only.
    real, fake = torch.tensor([[3.0, 4.0]]), torch.tensor([[0.0, 1.0]])
    critic = lambda x: 0.5 * x.pow(2).sum(1)  # noqa: E731
    assert_close(gradient_penalty(critic, real, fake, eps=torch.ones(1)), torch.tensor((5.0 - 1) ** 2))
    assert_close(
        gradient_penalty(critic, real, fake, eps=torch.zeros(1)), torch.tensor(0.0), atol=1e-6, rtol=0
    )


def test_gradient_penalty_is_finite_where_the_gradient_is_exactly_zero() -> None:
    weight = torch.zeros(2, requires_grad=True)
    critic = lambda x: x @ weight  # noqa: E731
    penalty = gradient_penalty(critic, torch.randn(5, 2), torch.randn(5, 2))
    penalty.backward()
    assert_close(penalty, torch.tensor(1.0), atol=1e-5, rtol=0)
    assert torch.isfinite(weight.grad).all()
    assert_close(input_gradient_norm(critic, torch.randn(3, 2)), torch.zeros(3), atol=1e-5, rtol=0)


# ---------------------------------------------------------------------------------------------- arguments
def test_paper_default_optimisers() -> None:
    model = WGANGP(MLPGenerator(), MLPDiscriminator())
    (g_opt, d_opt), _ = model.configure_optimizers()
    assert isinstance(d_opt, torch.optim.Adam)
    assert (d_opt.defaults["lr"], d_opt.defaults["betas"], model.n_critic, model.gp_weight) == (
        1e-4,
        (0.0, 0.9),
        5,
        10.0,
    )
    model = LSGAN(MLPGenerator(), MLPDiscriminator())
    assert (model.a, model.b, model.c) == (-1.0, 1.0, 0.0)


def test_wgan_gp_refuses_batch_norm_in_the_critic() -> None:
    critic = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="batch norm"):
        WGANGP(MLPGenerator(), critic)


@pytest.mark.parametrize("bad", [{"n_critic": 0}, {"scheduler_interval": "batch"}])
def test_invalid_arguments_name_the_key(bad: dict) -> None:
    with pytest.raises(ValueError, match=f"model.{next(iter(bad))}"):
        small_nsgan(**bad)


# ---------------------------------------------------------------------------------------------- sampling
def test_generate_samples_in_eval_mode_without_gradients_and_restores_mode() -> None:
    generator = DCGANGenerator(latent_dim=8, image_size=28, width=8)
    model = NSGAN(generator, MLPDiscriminator(in_dim=28 * 28))
    model.train()
    seen = []
    generator.register_forward_hook(lambda m, i, o: seen.append(m.training))
    z = torch.randn(4, 8)
    images = model.generate(4, z=z)
    assert seen == [False] and generator.training
    assert not images.requires_grad and images.shape == (4, 1, 28, 28)
    generator.eval()
    assert_close(images, generator(z))  # eval mode: batch norm uses running statistics
    assert images.abs().max() <= 1


def test_fixed_latents_are_a_seeded_buffer_saved_in_the_state_dict() -> None:
    a, b = small_nsgan(num_samples=16), small_nsgan(num_samples=16)
    assert_close(a.fixed_z, b.fixed_z)
    assert "fixed_z" in a.state_dict() and a.fixed_z.shape == (16, 2)


# ---------------------------------------------------------------------------------------------- helpers
@pytest.mark.parametrize("has_gpus", [False, True])
def test_nvml_check_is_dropped_only_without_gpus(monkeypatch: pytest.MonkeyPatch, has_gpus: bool) -> None:
    # Lightning's import sets the flag; without GPUs it only makes Adam's per-step CUDA check load NVML.
    monkeypatch.setenv("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: has_gpus)
    skip_nvml_check_without_gpus()
    assert os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK") == ("1" if has_gpus else None)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_all_finite_finds_inf_and_nan_in_any_tensor_and_never_overflows(dtype: torch.dtype) -> None:
    big = torch.finfo(dtype).max
    tensors = [
        torch.full((3, 4), big, dtype=dtype),
        -torch.full((5,), big, dtype=dtype),
        torch.zeros(0, dtype=dtype),
    ]
    assert all_finite(tensors).item()  # a 2-norm of these would overflow to inf
    for bad in (float("inf"), float("-inf"), float("nan")):
        broken = [t.clone() for t in tensors]
        broken[1][2] = bad
        assert not all_finite(broken).item(), bad
    assert all_finite([]).item()
