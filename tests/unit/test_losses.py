"""Every loss on fixed logits against numbers worked out by hand, and finite at |logit| = 100."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning import losses

LN2, LN3 = math.log(2), math.log(3)


def t(*values: float) -> torch.Tensor:
    return torch.tensor(values)


def test_nonsaturating_pair() -> None:
    # sigmoid(0) = 1/2: -log(1/2) for each of the real and fake terms.
    assert_close(losses.nonsaturating_discriminator_loss(t(0.0), t(0.0)), t(2 * LN2)[0])
    # -log sigmoid(ln 3) = log(4/3).
    assert_close(losses.nonsaturating_generator_loss(t(LN3)), t(math.log(4 / 3))[0])


def test_minimax_generator_loss_is_log_one_minus_d() -> None:
    # log(1 - sigmoid(0)) = -ln 2, log(1 - sigmoid(ln 3)) = log(1/4) = -2 ln 2: mean -1.5 ln 2.
    assert_close(losses.minimax_generator_loss(t(0.0, LN3)), t(-1.5 * LN2)[0])
    probabilities = torch.sigmoid(t(-2.0, 0.5, 3.0))
    assert_close(losses.minimax_generator_loss(t(-2.0, 0.5, 3.0)), torch.log(1 - probabilities).mean())


def test_maximum_likelihood_generator_loss() -> None:
    # -exp(0) = -1, -exp(ln 2) = -2: mean -1.5.
    assert_close(losses.maximum_likelihood_generator_loss(t(0.0, LN2)), t(-1.5)[0])
    # Above max_logit = 1 the exponential continues by its tangent e (1 + l - 1): at l = 3, 3e.
    assert_close(losses.maximum_likelihood_generator_loss(t(3.0), max_logit=1.0), t(-3 * math.e)[0])
    # Value and slope are continuous at max_logit.
    logits = t(1.0 - 1e-4, 1.0 + 1e-4).requires_grad_(True)
    values = [losses.maximum_likelihood_generator_loss(logits[i : i + 1], max_logit=1.0) for i in range(2)]
    assert_close(values[0], values[1], atol=1e-3, rtol=0)
    grads = [torch.autograd.grad(v, logits)[0].sum() for v in values]
    assert_close(grads[0], grads[1], atol=1e-3, rtol=0)


def test_label_smoothed_discriminator_loss() -> None:
    # t = 0.9 on a real logit ln 3: 0.9 log(4/3) + 0.1 log 4; the fake logit -ln 3: log(4/3).
    expected = 1.9 * math.log(4 / 3) + 0.1 * math.log(4)
    assert_close(losses.label_smoothed_discriminator_loss(t(LN3), t(-LN3), 0.9), t(expected)[0])
    # real_label = 1 is the plain cross-entropy.
    real, fake = t(-1.0, 2.0, 0.3), t(0.5, -4.0, 1.0)
    assert_close(
        losses.label_smoothed_discriminator_loss(real, fake, 1.0),
        losses.nonsaturating_discriminator_loss(real, fake),
    )


def test_hinge_pair() -> None:
    # real: max(0, 1 - 2), max(0, 1 - 0.5) -> mean 0.25; fake: max(0, 1 - 2), max(0, 1 + 0) -> mean 0.5.
    assert_close(losses.hinge_discriminator_loss(t(2.0, 0.5), t(-2.0, 0.0)), t(0.75)[0])
    assert_close(losses.hinge_generator_loss(t(-2.0, 0.0)), t(1.0)[0])


def test_wasserstein_and_least_squares() -> None:
    assert_close(losses.wasserstein_critic_loss(t(1.0, 3.0), t(0.0, 2.0)), t(-1.0)[0])
    assert_close(losses.wasserstein_generator_loss(t(0.0, 2.0)), t(-1.0)[0])
    # 1/2 mean((1 - 1)^2, (0 - 1)^2) + 1/2 mean((-1 + 1)^2, (1 + 1)^2) = 0.25 + 1.
    assert_close(losses.least_squares_discriminator_loss(t(1.0, 0.0), t(-1.0, 1.0), a=-1, b=1), t(1.25)[0])
    assert_close(losses.least_squares_generator_loss(t(-1.0, 1.0), c=0), t(0.5)[0])


def test_mean_matching_holds_real_scores_constant() -> None:
    real, fake = t(1.0, 3.0).requires_grad_(True), t(0.0, 1.0).requires_grad_(True)
    value = losses.mean_matching_loss(real, fake)
    assert_close(value, t(2.25)[0])  # (0.5 - 2)^2
    value.backward()
    assert_close(fake.grad, t(-1.5, -1.5))  # 2 (0.5 - 2) / 2
    assert real.grad is None


def test_feature_matching_loss() -> None:
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]], requires_grad=True)  # mean (1, 1)
    value = losses.feature_matching_loss(real, fake)
    assert_close(value, t(5.0)[0])  # 1^2 + 2^2
    value.backward()
    assert_close(fake.grad, torch.tensor([[-1.0, -2.0], [-1.0, -2.0]]))  # 2 (1 - 2, 1 - 3) / 2


ONE_SIDED = {
    "minimax_generator": losses.minimax_generator_loss,
    "maximum_likelihood_generator": losses.maximum_likelihood_generator_loss,
    "nonsaturating_generator": losses.nonsaturating_generator_loss,
    "hinge_generator": losses.hinge_generator_loss,
    "wasserstein_generator": losses.wasserstein_generator_loss,
    "least_squares_generator": lambda x: losses.least_squares_generator_loss(x, 0.0),
}
TWO_SIDED = {
    "nonsaturating_discriminator": losses.nonsaturating_discriminator_loss,
    "label_smoothed_discriminator": losses.label_smoothed_discriminator_loss,
    "hinge_discriminator": losses.hinge_discriminator_loss,
    "wasserstein_critic": losses.wasserstein_critic_loss,
    "least_squares_discriminator": lambda r, f: losses.least_squares_discriminator_loss(r, f, -1.0, 1.0),
    "mean_matching": losses.mean_matching_loss,
    "feature_matching": lambda r, f: losses.feature_matching_loss(r[:, None], f[:, None]),
}


@pytest.mark.parametrize("name", [*ONE_SIDED, *TWO_SIDED])
def test_finite_values_and_gradients_at_extreme_logits(name: str) -> None:
    extreme = torch.tensor([-100.0, 100.0, 0.0])
    inputs = [extreme.clone().requires_grad_(True)]
    if name in TWO_SIDED:
        inputs.append(extreme.flip(0).clone().requires_grad_(True))
    fn = ONE_SIDED.get(name) or TWO_SIDED[name]
    value = fn(*inputs)
    assert torch.isfinite(value), f"{name} = {value}"
    for grad in torch.autograd.grad(value, inputs, allow_unused=True):
        assert grad is None or torch.isfinite(grad).all(), f"{name} gradient {grad}"
