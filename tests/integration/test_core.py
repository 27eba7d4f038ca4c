"""The training core in a Trainer: phase hygiene, step counting, schedulers, setup checks, a short 2D run,
logging cadence (losses, the penalty and the modules' arguments: tests/unit/test_core.py)."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.data import ToyDataModule
from gan_lightning.networks import MLPDiscriminator, MLPGenerator
from gan_lightning.variants import NSGAN, WGANGP
from tests.helpers import cpu_trainer, mlp_nets, ring_data, small_nsgan


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
    model = PhaseProbe(*mlp_nets(), n_critic=2)
    cpu_trainer(limit_train_batches=5).fit(model, ring_data())
    assert model.batches_seen == 5


def test_requires_grad_is_restored_when_a_phase_raises() -> None:
    class Failing(NSGAN):
        def discriminator_loss(self, real, fake, labels):
            raise KeyError("boom")

    model = Failing(*mlp_nets(8, 1))
    with pytest.raises(KeyError):
        cpu_trainer(limit_train_batches=1).fit(model, ring_data())
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("n_critic,batches", [(1, 4), (3, 7), (5, 10)])
def test_n_critic_and_global_step_follow_the_documented_schedule(n_critic: int, batches: int) -> None:
    model = small_nsgan(n_critic=n_critic)
    fit = cpu_trainer(limit_train_batches=batches)
    fit.fit(model, ring_data())
    assert (model.critic_steps, model.generator_steps) == (batches, batches // n_critic)
    assert fit.global_step == batches + batches // n_critic


def test_max_steps_counts_updates_of_both_networks() -> None:
    model = small_nsgan(n_critic=5)
    fit = cpu_trainer(max_steps=12, max_epochs=-1)  # 12 = 2 generator steps * (n_critic + 1)
    fit.fit(model, ring_data())
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
    cpu_trainer(limit_train_batches=3, max_epochs=2).fit(model, ring_data())
    g_opt, d_opt = model.optimizers()
    assert_close(d_opt.param_groups[0]["lr"], expected)  # 6 critic steps, 2 epochs
    assert_close(g_opt.param_groups[0]["lr"], expected)


# ---------------------------------------------------------------------------------------------- setup and failures
def test_setup_rejects_a_generator_whose_samples_do_not_fit_the_data() -> None:
    model = NSGAN(MLPGenerator(out_dim=3), MLPDiscriminator(in_dim=3))
    with pytest.raises(ValueError, match=r"shape \(3,\) but the data has shape \(2,\)"):
        cpu_trainer(limit_train_batches=1).fit(model, ring_data())


def test_nonfinite_loss_stops_with_a_clear_message() -> None:
    class Exploding(NSGAN):
        def discriminator_loss(self, real, fake, labels):
            return {"loss": torch.tensor(float("nan"), requires_grad=True)}

    model = Exploding(*mlp_nets(8, 1))
    with pytest.raises(FloatingPointError, match="non-finite discriminator loss"):
        cpu_trainer(limit_train_batches=2).fit(model, ring_data())


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
        *mlp_nets(64, 3),
        g_optimizer=adam,
        d_optimizer=adam,
        gp_weight=1.0,
    )
    z = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    mode_before, circle_before = distances_to_ring(model.generate(2000, z=z))
    cpu_trainer(max_steps=600, max_epochs=-1).fit(model, ring_data(num_samples=25_600, batch_size=128))
    mode_after, circle_after = distances_to_ring(model.generate(2000, z=z))
    # Measured: modes 0.81 -> 0.24, circle 0.81 -> 0.13 (500 critic + 100 generator steps).
    assert mode_after < mode_before / 3 and circle_after < circle_before / 5, (mode_after, circle_after)


def test_loss_terms_reach_the_logger_on_its_cadence_and_latest_terms_every_step() -> None:
    # self.log costs ~1 ms per key: the module hands its terms over only on the batches the logger writes.
    from lightning.pytorch.loggers.logger import Logger

    class Recorder(Logger):
        name, version = "recorder", 0
        writes: list[tuple[int, dict[str, float]]] = []

        def log_hyperparams(self, params, *args, **kwargs) -> None:
            pass

        def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
            self.writes.append((step, dict(metrics)))

    class Watched(NSGAN):
        def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
            super().on_train_batch_end(outputs, batch, batch_idx)
            self.seen.append(float(self.latest_terms["train/d_loss"]))

    model = Watched(*mlp_nets(8, 1))
    model.seen = []
    logger = Recorder()
    fit = cpu_trainer(max_steps=20, log_every_n_steps=4, logger=logger)
    fit.fit(model, ring_data())
    written = [step for step, metrics in logger.writes if "train/d_loss" in metrics]
    assert written == [3, 7]  # batches 4 and 8 of 10 (Lightning counts the step before incrementing)
    assert len(set(model.seen)) == 10  # a fresh value every batch
    # After the run, callback_metrics hold the last batch's terms (the final batch is always handed over).
    assert_close(fit.callback_metrics["train/d_loss"], model.latest_terms["train/d_loss"])
    assert {"train/d_loss", "train/g_loss"} <= model.latest_terms.keys()
