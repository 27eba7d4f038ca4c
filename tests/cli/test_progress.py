"""Progress by default: the configs keep Lightning's bar, and where output is not a terminal (a SLURM log, a
pipe, pytest's capture) the CLI prints one line per epoch instead."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import gan_lightning.callbacks.progress as progress
from gan_lightning.callbacks.progress import EpochLines, progress_bar
from gan_lightning.cli import main
from tests.helpers import CONFIGS, cpu_trainer, fit_config, ring_data, small_nsgan, tiny_ring_config

#: Configs that may turn the bar off: the demo overlay (a short run that shows its plots instead).
QUIET_CONFIGS = {"trainer/demo.yaml"}

LINE = re.compile(r"^epoch (\d+)/2  step \d+  d_loss \S+  g_loss \S+  .*\d+\.\d s$")


def _trainer_section(path: Path) -> dict:
    return (yaml.safe_load(path.read_text()) or {}).get("trainer") or {}


@pytest.mark.parametrize(
    "config",
    sorted(p for p in CONFIGS.rglob("*.yaml") if str(p.relative_to(CONFIGS)) not in QUIET_CONFIGS),
    ids=lambda p: str(p.relative_to(CONFIGS)),
)
def test_configs_leave_the_progress_bar_on(config: Path) -> None:
    assert _trainer_section(config).get("enable_progress_bar", True) is not False


def test_the_demo_overlay_still_turns_it_off() -> None:
    assert _trainer_section(CONFIGS / "trainer" / "demo.yaml")["enable_progress_bar"] is False


def test_benchmark_runs_of_the_best_configs_turn_the_bar_off_themselves() -> None:
    source = (CONFIGS.parent / "benchmarks" / "toy_modes.py").read_text()
    assert '"--trainer.enable_progress_bar",\n                "false"' in source


def test_fit_prints_a_line_per_epoch_when_output_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fit_config(tiny_ring_config(64, 32, max_epochs=2), tmp_path)
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [LINE.match(line)[1] for line in lines] == ["1", "2"], out
    assert "it/s" not in out + err  # no progress bar redrawn into the log


def test_no_lines_when_the_bar_is_turned_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fit_config(tiny_ring_config(64, 32, max_epochs=2, enable_progress_bar=False), tmp_path)
    assert "epoch 1" not in capsys.readouterr().out


def test_progress_mode_never_keeps_lightnings_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([
        "fit", "--config", str(CONFIGS / "toy" / "nsgan_ring.yaml"), "--trainer.max_steps", "2",
        "--trainer.logger", "false", "--trainer.default_root_dir", str(tmp_path), "--progress.mode", "never",
    ])  # fmt: skip
    out, err = capsys.readouterr()
    assert "epoch 1" not in out and "Epoch 0" in out + err


def test_in_a_terminal_the_bar_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "stdout_is_terminal", lambda: True)
    lines = EpochLines()
    trainer = cpu_trainer(max_steps=2, enable_progress_bar=True, callbacks=[lines])
    trainer.fit(small_nsgan(), ring_data(num_samples=64, batch_size=32))
    assert not lines.active and trainer.progress_bar_callback.is_enabled


def test_the_line_names_step_budget_losses_and_other_metrics() -> None:
    trainer = cpu_trainer(max_steps=6, max_epochs=-1)
    model = small_nsgan()
    trainer.fit(model, ring_data(num_samples=64, batch_size=32))
    trainer.callback_metrics["eval/modes"] = 7.0
    line = EpochLines.line(trainer, model, 1.25)
    assert re.fullmatch(r"epoch \d+  step 6/6  d_loss \S+  g_loss \S+  eval/modes 7  1\.2 s", line), line


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, always or never"):
        EpochLines("sometimes")


def test_command_bars_write_nothing_outside_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(10, "sample", "sample") as bar:
        bar.update(10)
    assert capsys.readouterr() == ("", "")


@pytest.fixture(scope="module")
def toy_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fit_config(
        tiny_ring_config(64, 32, max_steps=4, enable_progress_bar=False), tmp_path_factory.mktemp("toy")
    )


def test_command_bars_in_a_terminal_leave_the_results_alone(
    toy_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = str(toy_checkpoint)
    quiet = main(["evaluate", "--ckpt_path", ckpt, "--out", str(tmp_path / "quiet"), "--quiet"])
    main(["sample", "--ckpt_path", ckpt, "--n", "50", "--out", str(tmp_path / "one.npz")])
    capsys.readouterr()
    monkeypatch.setattr(progress, "_is_terminal", lambda stream: True)
    shown = main(["evaluate", "--ckpt_path", ckpt, "--out", str(tmp_path / "shown")])
    main(
        [
            "sample",
            "--ckpt_path",
            ckpt,
            "--n",
            "50",
            "--batch_size",
            "16",
            "--out",
            str(tmp_path / "chunks.npz"),
        ]
    )
    err = capsys.readouterr().err
    assert "evaluate: generated:" in err and "/2500" in err and "sample:" in err and "/50" in err
    assert shown == quiet
    one, chunks = (np.load(tmp_path / name)["samples"] for name in ("one.npz", "chunks.npz"))
    np.testing.assert_allclose(chunks, one, rtol=1e-6, atol=1e-6)
