"""The GAN theory checks (gan_lightning.theory): every fast check passes, plus direct numeric pins (the
`theory` command: tests/cli/test_theory.py).

The pins include the slips of the seed notes (see gan_lightning/theory/__init__.py's docstring): each test
that pins one says which formula is right and which the note wrote.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.divergences import DIVERGENCES
from gan_lightning.losses import (
    least_squares_generator_loss,
    maximum_likelihood_generator_loss,
    nonsaturating_discriminator_loss,
)
from gan_lightning.theory import CHECKS, CheckResult, _training, games, generator, lsgan
from gan_lightning.theory.densities import (
    DTYPE,
    Bump,
    Normal,
    Shifted,
    grid,
    integrate,
    interpolate_density,
    jsd,
    kl,
    sorted_sample_w1,
    union_grid,
    wasserstein1,
)
from gan_lightning.theory.registry import REGISTRY, CheckRegistry, claim_order, register_check

FAST = list(CHECKS)
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def fast_results(tmp_path_factory) -> dict[str, CheckResult]:
    """Each fast check run once per module (with its figure), shared by the tests below."""
    out = tmp_path_factory.mktemp("theory")
    cache: dict[str, CheckResult] = {}

    def run(name: str) -> CheckResult:
        if name not in cache:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            cache[name] = CHECKS[name](full=False, out=out)
            torch.set_num_threads(threads)
        return cache[name]

    return run


# ---------------------------------------------------------------------------------------------- every check
@pytest.mark.parametrize("name", FAST)
def test_fast_check_passes(name, fast_results):
    result = fast_results(name)
    assert result.passed, f"{name}: {result.measured} (tolerance {result.tolerance}); {result.details}"
    (figure,) = result.figures
    assert figure.endswith(f"{name}.png")
    with open(figure, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.parametrize("name", FAST)
def test_full_check_passes(name):
    result = CHECKS[name](full=True, out=None)
    assert result.passed, f"{name}: {result.measured} (tolerance {result.tolerance}); {result.details}"


# ---------------------------------------------------------------------------------------------- registry
def test_registry_orders_the_table_by_claim_number(fast_results):
    assert FAST == [
        "optimal_discriminator",
        "value_at_optimum",
        "jsd_vs_w1",
        "gradient_vanishing",
        "generator_objectives",
        "lsgan_optimum",
        "fgan_bounds",
        "mode_covering",
        "wgan_gp_critic",
        "bilinear_game",
        "dirac_gan",
    ]
    # Each row starts with the claim number its check registered.
    assert [fast_results(name).claim.split(".")[0] for name in FAST] == list(REGISTRY.claims.values())
    # A fresh registry: registration order does not matter, 7a < 7b < 9 < 10 (numbers, not strings).
    registry = CheckRegistry()
    for key, claim in [("ten", 10), ("seven_b", "7b"), ("two", "2"), ("nine", 9), ("seven_a", "7a")]:
        registry.register(key, claim)(lambda full=False, out=None: None)
    assert list(registry.checks) == ["two", "seven_a", "seven_b", "nine", "ten"]
    assert list(registry.claims.values()) == ["2", "7a", "7b", "9", "10"]
    assert claim_order("7b") == (7, "b") and claim_order(12) == (12, "")
    with pytest.raises(ValueError, match="claim number"):
        claim_order("7.b")


def test_registering_a_duplicate_key_or_claim_raises():
    before = dict(CHECKS)
    with pytest.raises(ValueError, match="'bilinear_game' is already registered"):
        register_check("bilinear_game", claim=99)(lambda full=False, out=None: None)
    with pytest.raises(ValueError, match="claim 9 is already registered, by 'bilinear_game'"):
        register_check("another_game", claim=9)(lambda full=False, out=None: None)
    assert CHECKS == before


# ---------------------------------------------------------------------------------------------- densities
def test_densities_integrate_to_one_and_quantiles_invert_the_cdf():
    for density in (Normal(0.5, 1.2), _training.DATA, Bump(-0.5, 2.0), Shifted(_training.DATA, 1.0)):
        x = grid(*density.span)
        assert_close(integrate(density.prob(x), x), 1.0, atol=1e-6, rtol=0)
        u = torch.tensor([0.01, 0.3, 0.5, 0.9], dtype=DTYPE)
        assert_close(density.cdf(density.quantile(u)), u, atol=1e-10, rtol=0)
    # Bump on [0, 1]: mean 1/2, variance 1/20 (Beta(2, 2)); the mixture: sd sqrt(0.6^2 + 1.5^2).
    assert_close(Bump(0.0, 1.0).std(), math.sqrt(0.05), atol=1e-7, rtol=0)
    assert_close(_training.DATA.std(), math.sqrt(0.36 + 2.25), atol=1e-7, rtol=0)


def test_quantile_samples_average_like_expectations():
    xs = Normal(1.0, 2.0).quantile_samples()
    assert_close(float(xs.mean()), 1.0, atol=1e-12, rtol=0)
    assert_close(float(xs.var(unbiased=False)), 4.0, atol=2e-3, rtol=0)  # the tails' midpoint error


def test_closed_forms_of_divergences():
    p, q = Normal(0.0, 1.0), Normal(1.0, 2.0)
    # KL(N(0, 1) || N(1, 4)) = log 2 + (1 + 1) / 8 - 1/2.
    assert_close(kl(p, q), math.log(2) + 2 / 8 - 0.5, atol=1e-9, rtol=0)
    assert_close(jsd(p, p), 0.0, atol=1e-12, rtol=0)
    assert_close(jsd(Bump(0, 1), Bump(2, 1), grid(0, 3, 30001)), math.log(2), atol=1e-7, rtol=0)
    assert_close(wasserstein1(Normal(0.0, 1.0), Normal(3.0, 1.0)), 3.0, atol=1e-9, rtol=0)


def test_interpolate_density_is_a_density_with_the_right_mean():
    p, q = _training.DATA, Normal(2.0, 0.5)
    x = union_grid(p, q, n=4001)
    h = interpolate_density(p, q, x)
    assert_close(integrate(h, x), 1.0, atol=1e-6, rtol=0)
    assert_close(
        integrate(x * h, x), (0.0 + 2.0) / 2, atol=1e-6, rtol=0
    )  # E[eps X + (1 - eps) Y], E eps = 1/2


# ------------------------------------------------------------------------------------------ claims, directly
def test_optimal_discriminator_maximises_the_pointwise_value_and_seed_000s_slip_has_none():
    """a log D + b log(1 - D) peaks at a / (a + b). Seed 000 writes b (1 - log D) for the second term: that is
    a log D - b log D + b, monotone in D, with no interior maximum (it runs to D = 1 whenever a > b)."""
    d = torch.linspace(1e-4, 1 - 1e-4, 99999, dtype=DTYPE)
    a, b = 0.7, 0.2
    right = a * torch.log(d) + b * torch.log1p(-d)
    assert_close(float(d[right.argmax()]), a / (a + b), atol=1e-4, rtol=0)
    slip = a * torch.log(d) + b * (1 - torch.log(d))
    assert float(d[slip.argmax()]) == pytest.approx(1 - 1e-4)


def test_value_at_equal_distributions_is_minus_log_4(fast_results):
    logits = torch.zeros(8, dtype=DTYPE)  # D* = 1/2
    assert_close(-float(nonsaturating_discriminator_loss(logits, logits)), -math.log(4), atol=1e-15, rtol=0)
    result = fast_results("value_at_optimum")
    assert_close(result.values["at_zero"], -math.log(4), atol=1e-12, rtol=0)
    assert_close(result.values["at_optimum"], result.values["closed"], atol=1e-3, rtol=0)
    assert result.values["trained"] <= result.values["at_optimum"] + 1e-3


def test_kantorovich_dual_is_w1_not_w2():
    """Seed 000 names sup_{||f||_L <= 1} E_p f - E_q f "W_2". For N(0, 1) and N(0, 2^2) W2 = |2 - 1| = 1,
    while the dual (optimal critic f' = sign(F_q - F_p)) gives int |F_p - F_q| = E|Z| = sqrt(2 / pi) = W1."""
    p, q = Normal(0.0, 1.0), Normal(0.0, 2.0)
    x = grid(-30, 30, 60001)
    slope = torch.sign(q.cdf(x) - p.cdf(x))
    dual = integrate(slope * (q.cdf(x) - p.cdf(x)), x)
    assert_close(dual, math.sqrt(2 / math.pi), atol=1e-6, rtol=0)  # the kink at 0: O(h^2)
    assert_close(wasserstein1(p, q), math.sqrt(2 / math.pi), atol=1e-6, rtol=0)
    w2 = math.sqrt(float(((q.quantile_samples() - p.quantile_samples()) ** 2).mean()))
    assert w2 == pytest.approx(1.0, abs=2e-3) and abs(w2 - dual) > 0.2


def test_sorted_sample_w1_of_a_translation():
    x = torch.tensor([0.0, 1.0, 5.0], dtype=DTYPE)
    assert sorted_sample_w1(x, x.flip(0) + 2.5) == pytest.approx(2.5)


def test_maximum_likelihood_loss_has_the_gradient_of_forward_kl_without_the_tutorials_half(fast_results):
    """Seed 004 (and the library) use -E[exp(logit D)]; the tutorial's J(G) = -1/2 E[exp(...)] would halve it.
    Seed 003 calls maximum likelihood argmax KL(p_g || p_data): it is argmin KL(p_data || p_g), and the two
    gradients differ."""
    result = fast_results("generator_objectives")
    assert result.values["ml_grad"] < 1e-4 and result.values["ns_grad"] < 1e-3
    # Hand check at one point: d/dl of -exp(l) at l = log 3 is -3.
    logit = torch.tensor([math.log(3.0)], dtype=DTYPE, requires_grad=True)
    (grad,) = torch.autograd.grad(maximum_likelihood_generator_loss(logit), logit)
    assert_close(grad, torch.tensor([-3.0], dtype=DTYPE))
    x = union_grid(_training.DATA, _training.MODEL)
    p_data = _training.DATA.prob(x)
    theta = torch.tensor([0.5, math.log(1.2)], dtype=DTYPE, requires_grad=True)
    p_g = _training._normal_density(x, theta)
    (forward,) = torch.autograd.grad(generator._kl_t(p_data, p_g, x), theta, retain_graph=True)
    (reverse,) = torch.autograd.grad(generator._kl_t(p_g, p_data, x), theta)
    assert float((forward - reverse).norm()) > 0.3


def test_lsgan_value_is_maos_chi2_integral_not_the_standard_pearson():
    """Mao et al. write int (2 p_g - (p_d + p_g))^2 / (p_d + p_g) and call it Pearson chi^2(p_d + p_g || 2
    p_g); with D_f(P || Q) = int q f(p / q), f(u) = (u - 1)^2, that name gives int (p_d - p_g)^2 / (2 p_g)
    instead."""
    p, q = _training.DATA, _training.MODEL
    x = union_grid(p, q)
    pp, qq = p.prob(x), q.prob(x)
    mao = integrate((2 * qq - (pp + qq)) ** 2 / (pp + qq), x)
    standard = integrate(((pp + qq) - 2 * qq) ** 2 / (2 * qq), x)
    value = lsgan._lsgan_generator_value(p, q, p.quantile_samples(), q.quantile_samples(), -1.0, 1.0, 0.0)
    assert_close(value, mao / 2, atol=1e-3, rtol=0)
    assert abs(value - standard / 2) > 0.05
    # Hand check of the loss: 1/2 mean((D - c)^2) for D = (0, 2), c = 1 is 1/2.
    assert_close(float(least_squares_generator_loss(torch.tensor([0.0, 2.0]), c=1.0)), 0.5)


def test_fenchel_bound_is_tight_at_the_optimal_critic_for_every_divergence(fast_results):
    result = fast_results("fgan_bounds")
    assert result.values["table_error"] < 1e-6
    assert len([d for d in result.details if d.split(":")[0] in DIVERGENCES]) == len(DIVERGENCES)


def test_mode_covering_and_seeking_sigmas(fast_results):
    result = fast_results("mode_covering")
    assert_close(result.values["sigma_kl"], math.sqrt(0.5**2 + 2.0**2), atol=1e-3, rtol=0)
    assert_close(result.values["sigma_rkl"], 0.5, atol=1e-2, rtol=0)


def test_bilinear_steps_by_hand():
    # From (1, 1), lr 0.1: simultaneous (1 + 0.1, 1 - 0.1); alternating x first, then y - 0.1 * 1.1.
    simultaneous = games._play_bilinear(0.1, 1, alternating=False)
    alternating = games._play_bilinear(0.1, 1, alternating=True)
    assert_close(simultaneous[1], torch.tensor([1.1, 0.9], dtype=DTYPE))
    assert_close(alternating[1], torch.tensor([1.1, 0.89], dtype=DTYPE))
    path = games._play_bilinear(0.3, 50, alternating=False)
    assert_close(float(path[-1].norm() / path[0].norm()), (1 + 0.09) ** 25, atol=0, rtol=1e-12)


def test_gradient_vanishing_values(fast_results):
    result = fast_results("gradient_vanishing")
    assert result.values["d_fake"] < 1e-3
    assert result.values["sat_fraction"] < 0.01 and result.values["ratio"] > 100
