"""The training core: losses, the gradient penalty, phase hygiene, step counting, schedulers, sampling."""

from __future__ import annotations

import math
import os

import lightning as L
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gan_lightning._lightning_compat import skip_nvml_check_without_gpus
from gan_lightning.data import ToyDataModule
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


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def trainer(**kwargs) -> L.Trainer:
    defaults = dict(
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        max_epochs=1,
        accelerator="cpu",
        devices=1,
    )
    return L.Trainer(**{**defaults, **kwargs})


def small_nsgan(**kwargs) -> NSGAN:
    return NSGAN(MLPGenerator(hidden_dim=16, depth=2), MLPDiscriminator(hidden_dim=16, depth=2), **kwargs)


def toy(batch_size: int = 32, num_samples: int = 320) -> ToyDataModule:
    return ToyDataModule("ring", num_samples=num_samples, batch_size=batch_size)


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


# ---------------------------------------------------------------------------------------------- phases
class PhaseProbe(NSGAN):
    """Records the state of both networks at each phase boundary."""

    def on_train_batch_start(self, batch, batch_idx) -> None:
        self.before = {n: p.detach().clone() for n, p in self.named_parameters()}

    def discriminator_loss(self, real, fake, labels):
        assert not fake.requires_grad, "fakes must carry no graph into the critic step"
        assert all(not p.requires_grad for p in self.generator.parameters())
        assert all(p.requires_grad for p in self.discriminator.parameters())
        return super().discriminator_loss(real, fake, labels)

    def generator_loss(self, real, fake, labels):
        assert all(not p.requires_grad for p in self.discriminator.parameters())
        assert all(p.requires_grad for p in self.generator.parameters())
        return super().generator_loss(real, fake, labels)

    def after_discriminator_step(self) -> None:
        now = dict(self.named_parameters())
        changed = {n for n, p in now.items() if not torch.equal(p, self.before[n])}
        assert changed and all(n.startswith("discriminator.") for n in changed), changed
        assert all(p.grad is None for p in self.generator.parameters())
        self.after_critic = {n: p.detach().clone() for n, p in now.items()}

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        now = dict(self.named_parameters())
        changed = {n for n, p in now.items() if not torch.equal(p, self.after_critic[n])}
        stepped_generator = self.critic_steps % self.n_critic == 0
        assert changed == ({n for n in now if n.startswith("generator.")} if stepped_generator else set())
        assert all(p.requires_grad for p in self.parameters()), "requires_grad flags must be restored"
        self.batches_seen = getattr(self, "batches_seen", 0) + 1


def test_each_phase_changes_only_its_own_network_and_restores_requires_grad() -> None:
    model = PhaseProbe(
        MLPGenerator(hidden_dim=16, depth=2), MLPDiscriminator(hidden_dim=16, depth=2), n_critic=2
    )
    trainer(limit_train_batches=5).fit(model, toy())
    assert model.batches_seen == 5


def test_requires_grad_is_restored_when_a_phase_raises() -> None:
    class Failing(NSGAN):
        def discriminator_loss(self, real, fake, labels):
            raise KeyError("boom")

    model = Failing(MLPGenerator(hidden_dim=8, depth=1), MLPDiscriminator(hidden_dim=8, depth=1))
    with pytest.raises(KeyError):
        trainer(limit_train_batches=1).fit(model, toy())
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("n_critic,batches", [(1, 4), (3, 7), (5, 10)])
def test_n_critic_and_global_step_follow_the_documented_schedule(n_critic: int, batches: int) -> None:
    model = small_nsgan(n_critic=n_critic)
    fit = trainer(limit_train_batches=batches)
    fit.fit(model, toy())
    assert (model.critic_steps, model.generator_steps) == (batches, batches // n_critic)
    assert fit.global_step == batches + batches // n_critic


def test_max_steps_counts_updates_of_both_networks() -> None:
    model = small_nsgan(n_critic=5)
    fit = trainer(max_steps=12, max_epochs=-1)  # 12 = 2 generator steps * (n_critic + 1)
    fit.fit(model, toy())
    assert (model.critic_steps, model.generator_steps, fit.global_step) == (10, 2, 12)


@pytest.mark.parametrize("interval,expected", [("epoch", 0.25), ("step", 0.5**6)])
def test_schedulers_are_stepped_by_the_module(interval: str, expected: float) -> None:
    step_lr = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)  # noqa: E731
    model = small_nsgan(
        g_scheduler=step_lr,
        d_scheduler=step_lr,
        scheduler_interval=interval,
        g_optimizer=lambda p: torch.optim.SGD(p, lr=1.0),
        d_optimizer=lambda p: torch.optim.SGD(p, lr=1.0),
    )
    trainer(limit_train_batches=3, max_epochs=2).fit(model, toy())
    g_opt, d_opt = model.optimizers()
    assert_close(d_opt.param_groups[0]["lr"], expected)  # 6 critic steps, 2 epochs
    assert_close(g_opt.param_groups[0]["lr"], expected)


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


def test_setup_rejects_a_generator_whose_samples_do_not_fit_the_data() -> None:
    model = NSGAN(MLPGenerator(out_dim=3), MLPDiscriminator(in_dim=3))
    with pytest.raises(ValueError, match=r"shape \(3,\) but the data has shape \(2,\)"):
        trainer(limit_train_batches=1).fit(model, toy())


def test_nonfinite_loss_stops_with_a_clear_message() -> None:
    class Exploding(NSGAN):
        def discriminator_loss(self, real, fake, labels):
            return {"loss": torch.tensor(float("nan"), requires_grad=True)}

    model = Exploding(MLPGenerator(hidden_dim=8, depth=1), MLPDiscriminator(hidden_dim=8, depth=1))
    with pytest.raises(FloatingPointError, match="non-finite discriminator loss"):
        trainer(limit_train_batches=2).fit(model, toy())


# ---------------------------------------------------------------------------------------------- learning
def distances_to_ring(points: torch.Tensor) -> tuple[float, float]:
    """(mean distance to the nearest of the 8 modes, mean distance to the unit circle)."""
    centres = ToyDataModule("ring").mode_centers
    return torch.cdist(points, centres).min(1).values.mean().item(), (
        points.norm(dim=1) - 1
    ).abs().mean().item()


def test_wgan_gp_moves_samples_onto_the_ring() -> None:
    torch.manual_seed(0)
    adam = lambda p: torch.optim.Adam(p, lr=2e-3, betas=(0.0, 0.9))  # noqa: E731
    model = WGANGP(
        MLPGenerator(hidden_dim=64),
        MLPDiscriminator(hidden_dim=64),
        g_optimizer=adam,
        d_optimizer=adam,
        gp_weight=1.0,
    )
    z = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    mode_before, circle_before = distances_to_ring(model.generate(2000, z=z))
    trainer(max_steps=600, max_epochs=-1).fit(model, toy(batch_size=128, num_samples=25_600))
    mode_after, circle_after = distances_to_ring(model.generate(2000, z=z))
    # Measured: modes 0.81 -> 0.24, circle 0.81 -> 0.13 (500 critic + 100 generator steps).
    assert mode_after < mode_before / 3 and circle_after < circle_before / 5, (mode_after, circle_after)


def test_loss_terms_reach_the_logger_on_its_cadence_and_latest_terms_every_step() -> None:
    # self.log costs ~1 ms per key: the module hands its terms over only on the batches the logger writes.
    from lightning.pytorch.loggers.logger import Logger

    class Recorder(Logger):
        name, version = "recorder", 0
        writes: list[tuple[int, dict[str, float]]] = []

        def log_hyperparams(self, params, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
            pass

        def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
            self.writes.append((step, dict(metrics)))

    class Watched(NSGAN):
        def on_train_batch_end(self, outputs, batch, batch_idx) -> None:  # noqa: ANN001
            super().on_train_batch_end(outputs, batch, batch_idx)
            self.seen.append(float(self.latest_terms["train/d_loss"]))

    model = Watched(MLPGenerator(hidden_dim=8, depth=1), MLPDiscriminator(hidden_dim=8, depth=1))
    model.seen = []
    logger = Recorder()
    fit = trainer(max_steps=20, log_every_n_steps=4, logger=logger)
    fit.fit(model, toy())
    written = [step for step, metrics in logger.writes if "train/d_loss" in metrics]
    assert written == [3, 7]  # batches 4 and 8 of 10 (Lightning counts the step before incrementing)
    assert len(set(model.seen)) == 10  # a fresh value every batch
    # After the run, callback_metrics hold the last batch's terms (the final batch is always handed over).
    assert_close(fit.callback_metrics["train/d_loss"], model.latest_terms["train/d_loss"])
    assert {"train/d_loss", "train/g_loss"} <= model.latest_terms.keys()


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
