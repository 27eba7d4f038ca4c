"""Exact resume: a run stopped at a checkpoint and resumed ends bit-identical to the uninterrupted run.

The checkpoint must bring back, besides Lightning's own weights / optimisers / schedulers / loop progress: the
critic/generator counters, the EMA generator, every RNG stream, and the data loader's permutation and position
inside the epoch (a mid-epoch checkpoint). Runs are CPU-only with ``deterministic=True``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.testing import assert_close

from gan_lightning.callbacks import GeneratorEMA
from gan_lightning.cli import GANCLI
from gan_lightning.variants import NSGAN, WGANGP
from tests.helpers import RING_CONFIG, ROOT, cpu_trainer, mlp_nets, ring_data

N_CRITIC = 2
# 5 batches per epoch; global_step moves by 1 after a critic-only batch and by 2 after a batch with a
# generator step, so it reaches 3 k after 2 k batches. Stop at step 6 (batch 4 of epoch 0: mid-epoch), end at
# step 21 (batch 14).
STOP, END = 6, 21


def wgan_gp() -> WGANGP:
    L.seed_everything(0)
    step_lr = lambda optimizer: torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.9)  # noqa: E731
    return WGANGP(
        *mlp_nets(),
        n_critic=N_CRITIC,
        g_scheduler=step_lr,
        d_scheduler=step_lr,
        scheduler_interval="step",
    )


def fit(folder: Path, max_steps: int, ckpt_path: Path | None = None) -> L.Trainer:
    """One run; checkpoints every 6 steps (a multiple of n_critic + 1, the values global_step takes)."""
    checkpoint = ModelCheckpoint(dirpath=folder, every_n_train_steps=STOP, save_top_k=-1, save_last=True)
    trainer = cpu_trainer(
        max_epochs=None,
        max_steps=max_steps,
        deterministic=True,
        enable_checkpointing=True,
        callbacks=[GeneratorEMA(0.9), checkpoint],
    )
    trainer.fit(wgan_gp(), datamodule=ring_data(num_samples=160, batch_size=32), ckpt_path=ckpt_path)
    return trainer


def assert_same_training_state(a: L.Trainer, b: L.Trainer) -> None:
    assert (a.global_step, a.current_epoch) == (b.global_step, b.current_epoch)
    ma, mb = a.lightning_module, b.lightning_module
    assert (ma.critic_steps, ma.generator_steps) == (mb.critic_steps, mb.generator_steps)
    state_a, state_b = ma.state_dict(), mb.state_dict()
    assert state_a.keys() == state_b.keys() and any(k.startswith("ema_generator.") for k in state_a)
    for key in state_a:
        assert_close(state_a[key], state_b[key], rtol=0, atol=0, msg=key)
    for opt_a, opt_b in zip(a.optimizers, b.optimizers, strict=True):
        assert_close(opt_a.state_dict()["state"], opt_b.state_dict()["state"], rtol=0, atol=0)
    assert [s.scheduler.state_dict() for s in a.lr_scheduler_configs] == [
        s.scheduler.state_dict() for s in b.lr_scheduler_configs
    ]


def test_mid_epoch_resume_ends_bit_identical_to_the_uninterrupted_run(tmp_path: Path) -> None:
    whole = fit(tmp_path / "whole", END)
    first = fit(tmp_path / "parts", STOP)
    assert first.global_step == STOP and first.lightning_module.critic_steps == 4  # batch 4 of 5: mid-epoch
    resumed = fit(tmp_path / "parts", END, ckpt_path=tmp_path / "parts" / f"epoch=0-step={STOP}.ckpt")
    assert resumed.global_step == END and resumed.lightning_module.critic_steps == 14
    assert_same_training_state(whole, resumed)
    # A later mid-epoch checkpoint (step 18 = batch 12, epoch 2) of both runs holds the same weights.
    a, b = (torch.load(tmp_path / d / "epoch=2-step=18.ckpt", weights_only=True) for d in ("whole", "parts"))
    for key in a["state_dict"]:
        assert_close(a["state_dict"][key], b["state_dict"][key], rtol=0, atol=0)


def test_checkpoint_holds_everything_resume_needs_and_loads_weights_only(tmp_path: Path) -> None:
    fit(tmp_path, STOP)
    checkpoint = torch.load(tmp_path / f"epoch=0-step={STOP}.ckpt", weights_only=True)  # no pickled code
    assert len(checkpoint["optimizer_states"]) == 2 and len(checkpoint["lr_schedulers"]) == 2
    assert checkpoint["gan_steps"] == {"critic": 4, "generator": 2}
    assert checkpoint["gan_variant"] == "WGANGP"
    assert any(k.startswith("ema_generator.") for k in checkpoint["state_dict"])
    (rng,) = checkpoint["rng_states"]  # one entry per rank
    assert set(rng) >= {"torch", "numpy", "python"}
    (loader_state,) = checkpoint["loops"]["fit_loop"]["state_dict"]["combined_loader"]  # torchdata's, + ours
    assert (loader_state["_num_yielded"], loader_state["seed"], loader_state["epoch"]) == (4, 0, 0)
    assert checkpoint["loops"]["fit_loop"]["epoch_loop.batch_progress"]["current"]["processed"] == 4


class KillAtStep(L.Callback):
    """SIGKILL this process at the first batch that starts at or after ``step`` (a step boundary)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step >= self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def cli_args(folder: Path, max_steps: int) -> list[str]:
    return [
        "fit",
        "--config",
        str(RING_CONFIG),
        "--seed_everything",
        "0",
        "--model.generator.init_args.hidden_dim",
        "16",
        "--model.discriminator.init_args.hidden_dim",
        "16",
        "--model.n_critic",
        str(N_CRITIC),
        "--data.num_samples",
        "160",
        "--data.batch_size",
        "32",
        "--trainer.max_steps",
        str(max_steps),
        "--trainer.max_epochs",
        "-1",
        "--trainer.deterministic",
        "true",
        "--trainer.logger",
        "false",
        "--trainer.default_root_dir",
        str(folder),
        "--trainer.callbacks+=ModelCheckpoint",
        f"--trainer.callbacks.dirpath={folder / 'ckpt'}",
        f"--trainer.callbacks.every_n_train_steps={STOP}",
        "--trainer.callbacks.save_top_k=-1",
    ]


@pytest.mark.slow
def test_cli_run_killed_with_sigkill_resumes_bit_identical(tmp_path: Path) -> None:
    # The child imports KillAtStep from this module (tests.integration.test_resume) in the repository.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    killed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_lightning",
            *cli_args(tmp_path / "killed", END),
            f"--trainer.callbacks+={KillAtStep.__module__}.KillAtStep",
            f"--trainer.callbacks.step={STOP + 1}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    checkpoint = tmp_path / "killed" / "ckpt" / f"epoch=0-step={STOP}.ckpt"
    assert checkpoint.is_file()

    resumed = GANCLI(args=[*cli_args(tmp_path / "killed", END), "--ckpt_path", str(checkpoint)])
    whole = GANCLI(args=cli_args(tmp_path / "whole", END))
    assert resumed.trainer.global_step == whole.trainer.global_step == END
    for key, value in whole.model.state_dict().items():
        assert_close(resumed.model.state_dict()[key], value, rtol=0, atol=0, msg=key)


# ------------------------------------------------------------------------------------------ non-finite steps
class FaultyNSGAN(NSGAN):
    """NSGAN whose critic loss is NaN, or finite with infinite gradients, at chosen critic steps."""

    def __init__(
        self, nan_loss_at: tuple[int, ...] = (), inf_grad_at: tuple[int, ...] = (), **kwargs
    ) -> None:
        super().__init__(*mlp_nets(), **kwargs)
        self.nan_loss_at, self.inf_grad_at = nan_loss_at, inf_grad_at

    def discriminator_loss(self, real, fake, labels):
        terms = super().discriminator_loss(real, fake, labels)
        if self.critic_steps in self.nan_loss_at:
            terms["loss"] = terms["loss"] * float("nan")
        if self.critic_steps in self.inf_grad_at:  # sqrt at 0: the value is 0, its derivative infinite
            w = self.discriminator.net[0].weight.sum()
            terms["loss"] = terms["loss"] + torch.sqrt(w - w.detach())
        return terms


def faulty_fit(folder: Path, model: FaultyNSGAN, max_steps: int = 8) -> L.Trainer:
    checkpoint = ModelCheckpoint(
        dirpath=folder, every_n_train_steps=1, save_last=True, save_on_exception=True
    )
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[checkpoint],
    )
    trainer.fit(model, datamodule=ring_data(num_samples=320, batch_size=32))
    return trainer


def all_finite(state: dict[str, torch.Tensor]) -> bool:
    return all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


@pytest.mark.parametrize("fault", ["nan_loss_at", "inf_grad_at"])
def test_nonfinite_step_raises_and_leaves_the_last_checkpoint_finite(tmp_path: Path, fault: str) -> None:
    L.seed_everything(0)
    model = FaultyNSGAN(**{fault: (2,)})
    with pytest.raises(FloatingPointError, match="non-finite discriminator (loss|gradient) at global step 4"):
        faulty_fit(tmp_path, model)
    assert all_finite(model.state_dict())  # the faulty update never happened
    last = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert last["global_step"] == 4 and all_finite(last["state_dict"])


@pytest.mark.parametrize("fault", ["nan_loss_at", "inf_grad_at"])
def test_nonfinite_step_is_skipped_and_counted(tmp_path: Path, fault: str) -> None:
    L.seed_everything(0)
    model = FaultyNSGAN(**{fault: (2,)}, on_nonfinite="skip")
    trainer = faulty_fit(tmp_path, model, max_steps=8)
    assert model.nonfinite_skipped == 1 and trainer.callback_metrics["train/nonfinite_skipped"] == 1
    assert model.critic_steps == 5  # 5 batches for 8 steps: the skipped critic step did not count as a step
    assert all_finite(model.state_dict())
    assert all_finite(torch.load(tmp_path / "last.ckpt", weights_only=True)["state_dict"])


def test_skip_gives_up_after_max_nonfinite_steps_in_a_row(tmp_path: Path) -> None:
    L.seed_everything(0)
    model = FaultyNSGAN(nan_loss_at=tuple(range(1, 100)), on_nonfinite="skip", max_nonfinite_steps=3)
    with pytest.raises(
        FloatingPointError, match=r"3 non-finite steps in a row \(model.max_nonfinite_steps=3\)"
    ):
        faulty_fit(tmp_path, model)
    assert all_finite(torch.load(tmp_path / "last.ckpt", weights_only=True)["state_dict"])


def test_nonfinite_check_is_per_step_on_the_cpu_by_default(tmp_path: Path) -> None:
    model = FaultyNSGAN()
    faulty_fit(tmp_path, model, max_steps=2)
    assert model.nonfinite_guard.nonfinite_check == "auto" and not model.nonfinite_guard.deferred


@pytest.mark.parametrize("fault", ["nan_loss_at", "inf_grad_at"])
def test_deferred_nonfinite_check_names_the_step_and_keeps_checkpoints_finite(
    tmp_path: Path, fault: str
) -> None:
    # What a GPU run does by default: the flag stays on the device and is read before every checkpoint.
    L.seed_everything(0)
    model = FaultyNSGAN(**{fault: (2,)}, nonfinite_check="deferred")
    with pytest.raises(
        FloatingPointError,
        match=r"non-finite discriminator loss or gradient at global step 4 \(found before saving a checkpoint",
    ):
        faulty_fit(tmp_path, model)
    last = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert last["global_step"] == 4 and all_finite(last["state_dict"])


def test_deferred_nonfinite_check_reads_its_flag_without_checkpoints() -> None:
    L.seed_everything(0)
    model = FaultyNSGAN(nan_loss_at=(2,), nonfinite_check="deferred")
    trainer = L.Trainer(
        accelerator="cpu", max_steps=8, logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    with pytest.raises(
        FloatingPointError, match=r"at global step 4 \(found at the end of (an epoch|training)"
    ):
        trainer.fit(model, datamodule=ring_data(num_samples=320, batch_size=32))


def test_deferred_check_cannot_skip() -> None:
    with pytest.raises(ValueError, match="nonfinite_check='deferred' cannot skip"):
        FaultyNSGAN(nonfinite_check="deferred", on_nonfinite="skip")
