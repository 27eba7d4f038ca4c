"""Gradient penalties on critics whose input gradients are known in closed form."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.penalties import dragan_penalty, gradient_penalty, one_sided_gradient_penalty, perturb


def linear_critic(norm: float, shape: tuple[int, ...]):
    """D(x) = w . x with ||w|| = norm: its input gradient is w everywhere."""
    w = torch.randn(math.prod(shape), generator=torch.Generator().manual_seed(0))
    w = w / w.norm() * norm
    return lambda x: x.flatten(1) @ w


SHAPES = [(2,), (1, 4, 4)]


def batches(shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(16, *shape, generator=g), torch.randn(16, *shape, generator=g)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_penalty_is_zero_on_a_linear_one_lipschitz_critic(shape: tuple[int, ...]) -> None:
    critic, (real, fake) = linear_critic(1.0, shape), batches(shape)
    zero = torch.tensor(0.0)
    assert_close(gradient_penalty(critic, real, fake), zero, atol=1e-6, rtol=0)
    assert_close(one_sided_gradient_penalty(critic, real, fake), zero, atol=1e-6, rtol=0)
    assert_close(one_sided_gradient_penalty(critic, real, fake, squared=True), zero, atol=1e-6, rtol=0)
    assert_close(dragan_penalty(critic, real), zero, atol=1e-6, rtol=0)


@pytest.mark.parametrize("shape", SHAPES)
def test_one_sided_spares_slopes_below_one(shape: tuple[int, ...]) -> None:
    critic, (real, fake) = linear_critic(0.5, shape), batches(shape)
    assert_close(one_sided_gradient_penalty(critic, real, fake), torch.tensor(0.0))
    assert_close(one_sided_gradient_penalty(critic, real, fake, squared=True), torch.tensor(0.0))
    assert_close(gradient_penalty(critic, real, fake), torch.tensor(0.25))  # (0.5 - 1)^2
    assert_close(dragan_penalty(critic, real), torch.tensor(0.25))


def test_one_sided_penalises_the_excess_slope() -> None:
    critic, (real, fake) = linear_critic(3.0, (2,)), batches((2,))
    assert_close(one_sided_gradient_penalty(critic, real, fake), torch.tensor(2.0))
    assert_close(one_sided_gradient_penalty(critic, real, fake, squared=True), torch.tensor(4.0))
    assert_close(gradient_penalty(critic, real, fake), torch.tensor(4.0))


def test_perturb_adds_half_the_batch_std_times_uniform_noise() -> None:
    real = torch.tensor([[0.0, 0.0], [2.0, 2.0]])  # unbiased std over all 4 values: sqrt(4/3)
    noise = torch.tensor([[1.0, 0.5], [0.0, 1.0]])
    expected = real + 0.5 * math.sqrt(4 / 3) * noise
    assert_close(perturb(real, 0.5, noise), expected)


def test_dragan_penalty_is_taken_at_x_plus_alpha_delta() -> None:
    # D(x) = ||x||^2 / 2 has gradient x, so the penalty reads off the point where it was taken.
    real = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
    noise = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    eps = torch.tensor([1.0, 0.5])
    delta = 0.5 * real.std() * noise
    points = real + eps[:, None] * delta  # alpha = eps
    expected = (points.norm(dim=1) - 1).pow(2).mean()
    value = dragan_penalty(lambda x: 0.5 * x.pow(2).sum(1), real, 0.5, noise, eps)
    assert_close(value, expected)


def test_penalties_train_the_critic() -> None:
    w = torch.tensor([3.0, 0.0], requires_grad=True)
    real, fake = batches((2,))
    for penalty in (
        one_sided_gradient_penalty(lambda x: x @ w, real, fake),
        dragan_penalty(lambda x: x @ w, real),
    ):
        (grad,) = torch.autograd.grad(penalty, w)
        assert grad[0] > 0  # shrinking |w| lowers the penalty
