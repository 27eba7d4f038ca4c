"""The gradient penalty under bf16 autocast on CPU, without a Trainer (mixed-precision training:
tests/integration/test_precision.py)."""

from __future__ import annotations

import torch
from torch.testing import assert_close

from gan_lightning.networks import MLPDiscriminator
from gan_lightning.penalties import gradient_penalty


def test_gradient_penalty_under_bf16_autocast_matches_float32() -> None:
    """Under autocast the critic runs in bf16, but the input gradient (taken w.r.t. the float32 input) and the
    penalty stay float32 and agree with the float32 computation to bf16 precision."""
    torch.manual_seed(0)
    critic = MLPDiscriminator(hidden_dim=32, depth=2)
    real, fake, eps = torch.randn(16, 2), torch.randn(16, 2), torch.rand(16)
    exact = gradient_penalty(critic, real, fake, eps)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = gradient_penalty(critic, real, fake, eps)
    assert mixed.dtype == torch.float32
    assert_close(mixed, exact, rtol=3e-2, atol=1e-3)
    (grad_exact,) = torch.autograd.grad(exact, critic.net[0].weight)
    (grad_mixed,) = torch.autograd.grad(mixed, critic.net[0].weight)
    assert_close(grad_mixed, grad_exact, rtol=5e-2, atol=5e-3)
