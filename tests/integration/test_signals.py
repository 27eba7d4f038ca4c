"""SIGTERM / SIGUSR1 during fit: a resumable checkpoint, exit status 128 + signal, and an exact resume.

In-process tests send the signal to this process from a callback (the handler must be installed by then, or the
signal would end pytest: each sender checks first). The slow tests stop a ``gan-lightning fit`` subprocess
from outside, as a scheduler does, and resume it to the end: the weights match the uninterrupted run's bit
for bit (CPU, ``deterministic=True``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch.testing import assert_close

import gan_lightning.cli
from gan_lightning.callbacks import GeneratorEMA, SignalCheckpoint
from gan_lightning.cli import GANCLI, main
from gan_lightning.signals import StopSignal
from tests.helpers import ROOT, cpu_trainer, ring_data, tiny_ring_config
from tests.integration.test_resume import assert_same_training_state, wgan_gp

# WGAN-GP with n_critic = 2 (tests.integration.test_resume): 5 batches per epoch, global_step 3 k after 2 k
# batches. The signal comes after batch 4 (step 6, mid-epoch); the runs end at step 21 (batch 14).
END = 21


def send_signal(name: str) -> None:
    signum = getattr(signal, name)
    if signal.getsignal(signum) in (signal.SIG_DFL, signal.SIG_IGN, None):
        pytest.fail(f"no handler for {name}: sending it would end the test process")
    os.kill(os.getpid(), signum)


class SignalAfter(L.Callback):
    """Sends ``name`` to this process at the end of training batch ``batches`` (counted from 1)."""

    def __init__(self, name: str, batches: int) -> None:
        self.name, self.batches = name, batches

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if pl_module.critic_steps == self.batches:
            send_signal(self.name)


def fit(folder: Path, max_steps: int, *extra: L.Callback, ckpt_path: Path | None = None) -> L.Trainer:
    # SignalCheckpoint first on purpose: it must still run after GeneratorEMA (the EMA update of the batch).
    trainer = cpu_trainer(
        max_epochs=None,
        max_steps=max_steps,
        deterministic=True,
        callbacks=[SignalCheckpoint(dirpath=str(folder)), GeneratorEMA(0.9), *extra],
    )
    trainer.fit(wgan_gp(), datamodule=ring_data(num_samples=160, batch_size=32), ckpt_path=ckpt_path)
    return trainer


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGUSR1", 138)])
def test_a_signal_writes_a_checkpoint_stops_and_resumes_bit_identical(
    tmp_path: Path, name: str, code: int
) -> None:
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGUSR1)}
    with pytest.raises(StopSignal) as stopped:
        fit(tmp_path / "stopped", END, SignalAfter(name, batches=4))
    checkpoint = tmp_path / "stopped" / "last.ckpt"
    assert stopped.value.code == code and stopped.value.signum == getattr(signal, name)
    assert str(stopped.value) == (
        f"stopped by {name} at global step 6 (epoch 0); resume with --ckpt_path {checkpoint}"
    )
    assert {s: signal.getsignal(s) for s in handlers} == handlers  # the handlers are put back
    saved = torch.load(checkpoint, weights_only=True)
    assert saved["global_step"] == 6 and saved["gan_steps"] == {"critic": 4, "generator": 2}
    (loader_state,) = saved["loops"]["fit_loop"]["state_dict"]["combined_loader"]
    assert (loader_state["_num_yielded"], loader_state["seed"], loader_state["epoch"]) == (4, 0, 0)

    resumed = fit(tmp_path / "stopped", END, ckpt_path=checkpoint)
    whole = fit(tmp_path / "whole", END)
    assert resumed.global_step == END and str(resumed.ckpt_path) == str(checkpoint)  # it did resume
    assert_same_training_state(whole, resumed)
    assert {s: signal.getsignal(s) for s in handlers} == handlers


class SigtermAtTrainStart(L.Callback):
    """SIGTERM while Lightning's own handler is the one installed (before SignalCheckpoint takes over)."""

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        send_signal("SIGTERM")
        assert trainer.received_sigterm  # Lightning's record: it would stop with status 0 and no checkpoint


def test_a_sigterm_that_lightning_received_first_is_taken_over(tmp_path: Path) -> None:
    with pytest.raises(StopSignal) as stopped:
        fit(tmp_path, END, SigtermAtTrainStart())
    assert stopped.value.code == 143
    assert torch.load(tmp_path / "last.ckpt", weights_only=True)["global_step"] == 1  # after the first batch


class HandlersAtFirstBatch(L.Callback):
    def __init__(self) -> None:
        self.seen: dict[str, object] = {}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        self.seen = self.seen or {
            name: signal.getsignal(getattr(signal, name)) for name in ("SIGTERM", "SIGUSR1")
        }


def test_under_slurm_auto_requeue_lightning_keeps_sigusr1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slurm = {"SLURM_NTASKS": "1", "SLURM_JOB_NAME": "train", "SLURM_JOB_ID": "42", "SLURM_PROCID": "0"}
    for key, value in {**slurm, "SLURM_LOCALID": "0", "SLURM_NODEID": "0"}.items():
        monkeypatch.setenv(key, value)
    probe = HandlersAtFirstBatch()
    trainer = fit(tmp_path, 2, probe)
    (ours,) = [c for c in trainer.callbacks if isinstance(c, SignalCheckpoint)]
    assert probe.seen["SIGTERM"] == ours.recorder._record
    assert probe.seen["SIGUSR1"] not in (ours.recorder._record, signal.SIG_DFL)  # Lightning's requeue handler


def test_unknown_or_uncatchable_signals_fail_in_one_line() -> None:
    with pytest.raises(
        ValueError, match="signal_checkpoint.signals: 'SIGKILL' is not a signal a handler can"
    ):
        SignalCheckpoint(signals=["SIGKILL"])
    with pytest.raises(ValueError, match="'SIGNOPE'"):
        SignalCheckpoint(signals=["SIGNOPE"])


def test_no_signals_installs_nothing(tmp_path: Path) -> None:
    probe = HandlersAtFirstBatch()
    trainer = cpu_trainer(max_epochs=None, max_steps=1, callbacks=[SignalCheckpoint(signals=[]), probe])
    trainer.fit(wgan_gp(), datamodule=ring_data(num_samples=160, batch_size=32))
    assert probe.seen["SIGUSR1"] == signal.SIG_DFL


def test_lightnings_sigterm_exception_exits_143(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def stopped_by_lightning(args: list[str]) -> None:
        raise SIGTERMException

    monkeypatch.setattr(gan_lightning.cli, "GANCLI", stopped_by_lightning)
    with pytest.raises(SystemExit) as exited:
        main(["fit"])
    assert exited.value.code == 143
    assert capsys.readouterr().err.strip() == (
        "gan-lightning: stopped by SIGTERM before training began; nothing new to save"
    )


# ------------------------------------------------------------------------------------------ a real process
class WaitForSignal(L.Callback):
    """In the ``gan-lightning fit`` child: after training batch ``batches``, write ``<folder>/ready`` and wait
    (at most a minute) for ``<folder>/sent``, which the test writes once it has sent the signal."""

    def __init__(self, folder: str, batches: int) -> None:
        self.folder, self.batches = Path(folder), batches

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if pl_module.critic_steps != self.batches:
            return
        (self.folder / "ready").touch()
        deadline = time.monotonic() + 60
        while not (self.folder / "sent").exists() and time.monotonic() < deadline:
            time.sleep(0.02)


def cli_config(folder: Path) -> Path:
    """The tiny ring config with test_resume's schedule (n_critic = 2) and an EMA generator; checkpoints only
    on a signal."""
    config = tiny_ring_config(
        160,
        32,
        max_steps=END,
        max_epochs=-1,
        deterministic=True,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=str(folder),
        callbacks=[{"class_path": "gan_lightning.callbacks.GeneratorEMA", "init_args": {"decay": 0.9}}],
    )
    config["model"]["init_args"]["n_critic"] = 2
    config["seed_everything"] = 0
    config["sample_grid"] = {"every_n_epochs": 1000}
    config["signal_checkpoint"] = {"dirpath": str(folder / "ckpt")}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("name", "code", "batches"), [("SIGTERM", 143, 4), ("SIGUSR1", 138, 7)])
def test_cli_fit_stopped_by_a_signal_resumes_bit_identical(
    tmp_path: Path, name: str, code: int, batches: int
) -> None:
    folder = tmp_path / "stopped"
    config = cli_config(folder)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for key in [k for k in env if k.startswith("SLURM_")]:
        del env[key]  # under SLURM, SIGUSR1 would be Lightning's
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gan_lightning",
            "fit",
            "--config",
            str(config),
            f"--trainer.callbacks+={WaitForSignal.__module__}.WaitForSignal",
            f"--trainer.callbacks.folder={folder}",
            f"--trainer.callbacks.batches={batches}",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not (folder / "ready").exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (folder / "ready").exists(), child.communicate(timeout=60)[1][-3000:]
        child.send_signal(getattr(signal, name))
        (folder / "sent").touch()
        _, stderr = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            child.kill()
    checkpoint = folder / "ckpt" / "last.ckpt"
    step = batches + batches // 2
    assert child.returncode == code, stderr[-3000:]
    assert stderr.strip().splitlines()[-1] == (
        f"gan-lightning: stopped by {name} at global step {step} (epoch {(batches - 1) // 5}); "
        f"resume with --ckpt_path {checkpoint}"
    )
    assert torch.load(checkpoint, weights_only=True)["global_step"] == step

    resumed = GANCLI(args=["fit", "--config", str(config), "--ckpt_path", str(checkpoint)])
    whole = GANCLI(args=["fit", "--config", str(cli_config(tmp_path / "whole"))])
    assert resumed.trainer.global_step == whole.trainer.global_step == END
    assert str(resumed.trainer.ckpt_path) == str(
        checkpoint
    )  # it resumed (a fresh run would end identical too)
    assert_same_training_state(whole.trainer, resumed.trainer)
    for key, value in whole.model.state_dict().items():
        assert_close(resumed.model.state_dict()[key], value, rtol=0, atol=0, msg=key)
