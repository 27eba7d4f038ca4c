"""Where a run goes: ``--trainer.default_root_dir`` moves the whole run unless the logger has a save_dir of its
own, and runs started together with the same root each claim their own ``version_N`` folder."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
import yaml
from torch.testing import assert_close

from gan_lightning.cli import claim_version, main
from tests.helpers import ROOT, tiny_ring_config

TRAINER = {"max_steps": 2, "accelerator": "cpu", "devices": 1, "log_every_n_steps": 1}


def write_config(folder: Path, **trainer: object) -> Path:
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_ring_config(64, 32, **{**TRAINER, **trainer})))
    return path


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def assert_whole_run(run: Path) -> None:
    """A run folder holding the config, the metrics, a checkpoint and the sample grids."""
    assert (run / "config.yaml").is_file(), files_under(run)
    assert (run / "metrics.csv").is_file(), files_under(run)
    assert list((run / "checkpoints").glob("*.ckpt")), files_under(run)
    assert list((run / "samples").glob("*.png")), files_under(run)


def test_default_root_dir_moves_the_whole_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    config = write_config(tmp_path)
    monkeypatch.chdir(work)
    main(["fit", "--config", str(config), "--trainer.default_root_dir", "tmp/elsewhere"])
    elsewhere = work / "tmp" / "elsewhere"
    assert [p.name for p in elsewhere.iterdir()] == ["tiny"], files_under(work)
    (run,) = (elsewhere / "tiny").iterdir()
    assert run.name == "version_0"
    assert_whole_run(run)
    assert not (work / "runs").exists(), files_under(work)
    assert set(files_under(work)) == {f"tmp/elsewhere/tiny/version_0/{f}" for f in files_under(run)}


def test_resume_in_the_same_folder_spelled_another_way_keeps_writing_last_ckpt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lightning compares the checkpoint folder as a string: resumed as /abs/runs after runs/, it would write
    # last-v1.ckpt and leave last.ckpt at the first segment's step.
    config = write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    pinned = ["--trainer.logger.init_args.name", "run", "--trainer.logger.init_args.version", "0"]
    main(["fit", "--config", str(config), "--trainer.default_root_dir", "runs", *pinned])
    folder = tmp_path / "runs" / "run" / "version_0" / "checkpoints"
    main([
        "fit", "--config", str(config), "--trainer.default_root_dir", str(tmp_path / "runs"), *pinned,
        "--trainer.max_steps", "6", "--ckpt_path", "runs/run/version_0/checkpoints/last.ckpt",
    ])  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == ["epoch=1-step=6.ckpt", "last.ckpt"]
    assert torch.load(folder / "last.ckpt", weights_only=True)["global_step"] == 6


def test_logger_save_dir_wins_over_default_root_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    config = write_config(tmp_path)
    monkeypatch.chdir(work)
    main(
        [
            "fit",
            "--config",
            str(config),
            "--trainer.default_root_dir",
            "tmp/elsewhere",
            "--trainer.logger.init_args.save_dir",
            "mine",
        ]
    )
    assert_whole_run(work / "mine" / "tiny" / "version_0")
    assert not (work / "runs").exists(), files_under(work)
    assert not (work / "tmp").exists() or not files_under(work / "tmp"), files_under(work)


def test_claim_version_is_atomic(tmp_path: Path) -> None:
    (tmp_path / "version_3").mkdir()
    (tmp_path / "other").mkdir()
    versions: list[int] = []
    start = threading.Barrier(8)

    def claim() -> None:
        start.wait()
        versions.append(claim_version(tmp_path))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == list(range(4, 12))
    assert claim_version(tmp_path / "new" / "root") == 0


@pytest.mark.slow
def test_runs_started_together_get_distinct_folders(tmp_path: Path) -> None:
    config = write_config(tmp_path, max_steps=4)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "gan_lightning", "fit", "--config", str(config)]
    command += ["--trainer.default_root_dir", str(tmp_path / "shared")]
    runs = [
        subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(5)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), "\n\n".join(outputs)
    folders = sorted((tmp_path / "shared" / "tiny").iterdir())
    assert [f.name for f in folders] == [f"version_{n}" for n in range(5)]
    for folder in folders:
        assert_whole_run(folder)
        # one run: its one final checkpoint, and last.ckpt holding the same weights
        (checkpoint,) = (folder / "checkpoints").glob("epoch=*.ckpt")
        assert checkpoint.name.endswith("step=4.ckpt"), checkpoint
        final, last = (
            torch.load(p, weights_only=True) for p in (checkpoint, folder / "checkpoints" / "last.ckpt")
        )
        assert_close(last["state_dict"], final["state_dict"])
        rows = (folder / "metrics.csv").read_text().splitlines()
        assert rows.count(rows[0]) == 1 and len(rows) == len(set(rows)), rows  # one header, no row twice
        saved = yaml.safe_load((folder / "config.yaml").read_text())
        assert saved["trainer"]["default_root_dir"] == str(tmp_path / "shared")
    # Each run printed its own folder, and no two printed the same.
    printed = [line for out in outputs for line in out.splitlines() if line.startswith("Run folder:")]
    assert len(set(printed)) == 5, printed
