"""Lambert W (gan_lightning.lambert_w): the principal branch and W(e^y) against SciPy, and their gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import torch
from torch.testing import assert_close

from gan_lightning.lambert_w import lambertw, lambertw_exp

F64 = torch.float64


def test_lambertw_matches_scipy_on_the_principal_branch() -> None:
    x = np.concatenate(
        [
            -1 / math.e + np.array([1e-12, 1e-9, 1e-6, 1e-3]),
            np.linspace(-0.36, 5.0, 500),
            np.logspace(-300, 300, 200),
        ]
    )
    w = lambertw(torch.tensor(x, dtype=F64))
    expected = torch.tensor(scipy.special.lambertw(x).real, dtype=F64)
    assert_close(w, expected, atol=1e-6, rtol=1e-12)
    assert_close(w[4:], expected[4:], atol=1e-12, rtol=1e-12)  # away from the branch point: full precision
    assert lambertw(torch.tensor(-1 / math.e, dtype=F64)).item() == pytest.approx(-1.0)
    assert math.isnan(lambertw(torch.tensor(-0.5, dtype=F64)).item())


def test_lambertw_exp_matches_scipy_and_does_not_overflow() -> None:
    y = torch.linspace(-600, 600, 2001, dtype=F64)
    expected = torch.tensor(scipy.special.lambertw(np.exp(y.numpy())).real, dtype=F64)
    assert_close(lambertw_exp(y), expected, atol=1e-12, rtol=1e-12)
    big = torch.tensor([1e3, 1e6], dtype=F64)
    w = lambertw_exp(big)
    assert_close(w + w.log(), big, atol=0, rtol=1e-14)  # the defining identity, beyond float64's exp range
    assert torch.isfinite(lambertw_exp(torch.tensor([-100.0, 100.0]))).all()  # float32


def test_lambertw_gradients_against_finite_differences() -> None:
    x = torch.cat([torch.linspace(-0.35, 3.0, 20, dtype=F64), torch.tensor([0.0, 50.0, 1e4], dtype=F64)])
    assert torch.autograd.gradcheck(lambertw, (x.requires_grad_(),))
    assert torch.autograd.gradgradcheck(lambertw, (x,))
    y = torch.linspace(-30, 30, 25, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambertw_exp, (y,))
    assert torch.autograd.gradgradcheck(lambertw_exp, (y,))
