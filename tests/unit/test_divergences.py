"""The f-GAN table (gan_lightning.divergences): f(1), Fenchel duality, g_f into dom f* (Lambert W, which the
Jeffrey conjugate uses: tests/unit/test_lambert_w.py)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.divergences import DIVERGENCES, get_divergence

NAMES = sorted(DIVERGENCES)
# Every table entry, plus weighted JS away from pi = 1/2 (its formulas only simplify at 1/2).
CASES = [(name, {}) for name in NAMES] + [("weighted_js", {"pi": 0.2}), ("weighted_js", {"pi": 0.9})]
IDS = [name + "".join(f"-{k}{v}" for k, v in params.items()) for name, params in CASES]
F64 = torch.float64
U_GRID = torch.tensor([0.05, 0.2, 0.5, 0.9, 1.0, 1.1, 2.0, 5.0, 20.0], dtype=F64)


def test_registry_names_every_row_of_the_table() -> None:
    assert set(DIVERGENCES) == {
        "total_variation",
        "kl",
        "reverse_kl",
        "pearson",
        "neyman",
        "squared_hellinger",
        "jeffrey",
        "js",
        "weighted_js",
        "gan",
    }


def test_unknown_name_or_parameter_is_a_one_line_value_error() -> None:
    with pytest.raises(ValueError, match=r"divergence must be one of total_variation, kl, .*; got 'chi2'"):
        get_divergence("chi2")
    with pytest.raises(ValueError, match="takes no parameters"):
        get_divergence("kl", pi=0.3)
    with pytest.raises(ValueError, match=r"pi must lie in \(0, 1\)"):
        get_divergence("weighted_js", pi=1.5)


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_f_vanishes_at_one_and_f_prime_at_one_matches_table_2(name: str, params: dict) -> None:
    """f(1) = 0, except the paper's GAN row: its f(1) = -log 4, so D_f(P || P) = -log 4 (the GAN value)."""
    div = get_divergence(name, **params)
    one = torch.ones(1, dtype=F64)
    expected = -math.log(4) if name == "gan" else 0.0
    assert_close(div.f(one), torch.full((1,), expected, dtype=F64), atol=1e-15, rtol=0)
    assert_close(div.f_prime(one), torch.full((1,), div.f_prime_at_one, dtype=F64), atol=1e-15, rtol=0)


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_fenchel_duality_on_a_grid(name: str, params: dict) -> None:
    """f(u) = sup_t [t u - f*(t)]: the sup over a fine grid of t = g_f(v) covering dom f* matches f(u) to
    1e-6, and the known maximiser t = f'(u) attains it to 1e-10 (float64)."""
    div = get_divergence(name, **params)
    v = torch.linspace(-50, 50, 400_001, dtype=F64)
    t, conj = div.activation(v), div.conjugate_of_activation(v)
    sup = (t[None, :] * U_GRID[:, None] - conj[None, :]).max(dim=1).values
    assert_close(sup, div.f(U_GRID), atol=1e-6, rtol=0)
    t_star = div.f_prime(U_GRID)
    if name == "total_variation":  # f*(t) = t only on [-1/2, 1/2]: the subgradient at u = 1 is 0 there too
        t_star = t_star.clamp(-0.5, 0.5)
    assert_close(t_star * U_GRID - div.conjugate(t_star), div.f(U_GRID), atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_activation_maps_the_reals_into_dom_f_star(name: str, params: dict) -> None:
    div = get_divergence(name, **params)
    inner = torch.linspace(-30, 30, 601, dtype=F64)
    assert div.domain.contains(div.activation(inner)).all()
    # At |v| = 100 an open end can be reached by rounding (1 - e^-100 == 1.0): the closure still holds.
    extreme = torch.tensor([-100.0, 100.0], dtype=F64)
    t = div.activation(extreme)
    assert torch.isfinite(t).all() and div.domain.closure_contains(t).all()


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_conjugate_of_activation_is_the_composition_and_finite_at_extremes(name: str, params: dict) -> None:
    div = get_divergence(name, **params)
    v = torch.linspace(-6, 6, 121, dtype=F64)
    assert_close(div.conjugate_of_activation(v), div.conjugate(div.activation(v)), atol=1e-10, rtol=1e-10)
    extreme = torch.tensor([-100.0, 100.0], dtype=F64, requires_grad=True)
    value = div.conjugate_of_activation(extreme)
    (grad,) = torch.autograd.grad(value.sum() + div.activation(extreme).sum(), extreme)
    assert torch.isfinite(value).all() and torch.isfinite(grad).all()


# Closed forms whose values are representable in float32 at |v| = 100 (KL, Jeffrey, reverse KL, Neyman and
# squared Hellinger reach e^99 or e^100 there, beyond float32's 3.4e38: covered in float64 above).
@pytest.mark.parametrize("name", ["total_variation", "pearson", "js", "weighted_js", "gan"])
def test_float32_stays_finite_at_extreme_logits(name: str) -> None:
    div = get_divergence(name)
    v = torch.tensor([-100.0, -30.0, 30.0, 100.0], requires_grad=True)
    value = div.lower_bound(v, v)
    (grad,) = torch.autograd.grad(value, v)
    assert torch.isfinite(value) and torch.isfinite(grad).all()


def test_closed_forms_by_hand() -> None:
    v = torch.tensor([0.0, 2.0], dtype=F64)
    # GAN: g_f(0) = -log 2, f*(g_f(0)) = log 2; JS: g_f(0) = 0, f*(0) = -log(2 - 1) = 0.
    assert_close(get_divergence("gan").activation(v)[0], torch.tensor(-math.log(2), dtype=F64))
    assert_close(get_divergence("gan").conjugate_of_activation(v), torch.log1p(torch.exp(v)))
    assert_close(get_divergence("js").conjugate_of_activation(v)[0], torch.tensor(0.0, dtype=F64))
    # Jeffrey at t = 1: W(e^0) = W(1) = 0.5671432904097838 (the omega constant), f* = w + 1/w - 1.
    omega = 0.5671432904097838
    assert_close(
        get_divergence("jeffrey").conjugate(torch.ones(1, dtype=F64)),
        torch.tensor([omega + 1 / omega - 1], dtype=F64),
    )
    # weighted JS at pi = 1/2 is half of js: f*_w(t) = f*_js(2 t) / 2.
    t = torch.tensor([-3.0, 0.1, 0.3], dtype=F64)
    assert_close(
        get_divergence("weighted_js", pi=0.5).conjugate(t), 0.5 * get_divergence("js").conjugate(2 * t)
    )


def test_divergence_of_discrete_distributions_by_hand() -> None:
    p = torch.tensor([0.5, 0.5], dtype=F64)
    q = torch.tensor([0.25, 0.75], dtype=F64)
    kl = 0.5 * math.log(2) + 0.5 * math.log(2 / 3)
    assert_close(get_divergence("kl").divergence(p, q), torch.tensor(kl, dtype=F64))
    assert_close(get_divergence("reverse_kl").divergence(p, q), get_divergence("kl").divergence(q, p))
    assert_close(get_divergence("total_variation").divergence(p, q), torch.tensor(0.25, dtype=F64))
    assert_close(
        get_divergence("pearson").divergence(p, q), torch.tensor(0.25**2 / 0.25 + 0.25**2 / 0.75, dtype=F64)
    )
    m = (p + q) / 2
    jsd = 0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()
    assert_close(get_divergence("js").divergence(p, q), 2 * jsd)
    assert_close(get_divergence("weighted_js", pi=0.5).divergence(p, q), jsd)
    assert_close(get_divergence("gan").divergence(p, q), 2 * jsd - math.log(4))


def test_lower_bound_is_tight_at_the_optimal_critic() -> None:
    """With T* = f'(p/q) the bound E_P[T*] - E_Q[f*(T*)] equals D_f exactly (discrete P, Q)."""
    p = torch.tensor([0.1, 0.6, 0.3], dtype=F64)
    q = torch.tensor([0.3, 0.3, 0.4], dtype=F64)
    for name in ("kl", "reverse_kl", "pearson", "squared_hellinger", "jeffrey", "js", "gan"):
        div = get_divergence(name)
        t_star = div.f_prime(p / q)
        bound = (p * t_star).sum() - (q * div.conjugate(t_star)).sum()
        assert_close(bound, div.divergence(p, q), atol=1e-12, rtol=1e-12)
