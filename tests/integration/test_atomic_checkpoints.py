"""Atomic checkpoint writes: a write that fails never damages the checkpoint that was there before.

``gan_lightning.checkpoints.atomic_save`` writes to a temporary file in the target folder, fsyncs it and renames
it into place; the CLI's Trainer writes every checkpoint that way (``AtomicCheckpointIO``). Failures are
injected at every stage (serialisation, half-written bytes, fsync, rename) and, for real, by a 3 MB tmpfs
that fills up during a ``gan-lightning fit``.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch.plugins.io import TorchCheckpointIO
from torch.testing import assert_close

from gan_lightning import checkpoints
from gan_lightning.checkpoints import AtomicCheckpointIO, CheckpointWriteError, atomic_save
from gan_lightning.cli import GANCLI, main
from tests.helpers import tiny_ring_config

NO_SPACE = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def state(step: int) -> dict:
    return {"global_step": step, "state_dict": {"w": torch.full((64, 64), float(step))}}


def leftovers(folder: Path) -> list[str]:
    """Temporary files atomic_save left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_save_writes_a_loadable_file_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "new" / "last.ckpt"  # the folder is created
    atomic_save(state(1), path)
    atomic_save(state(2), path)  # over an existing file
    assert_close(torch.load(path, weights_only=True), state(2), rtol=0, atol=0)
    assert os.listdir(path.parent) == ["last.ckpt"]


def test_the_temporary_file_is_in_the_target_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lightning's own writer (fsspec) puts it in $TMPDIR: on another file system the "rename" is a copy,
    # and a failure during the copy left a 0-byte last.ckpt.
    renames, replace = [], os.replace
    monkeypatch.setattr(
        os, "replace", lambda src, dst: (renames.append((Path(src), Path(dst))), replace(src, dst))
    )
    monkeypatch.setenv("TMPDIR", str(tmp_path / "elsewhere"))
    atomic_save(state(1), tmp_path / "last.ckpt")
    ((source, target),) = renames
    assert source.parent == target.parent == tmp_path and source.name.startswith(".last.ckpt.")


def half_written_then_full(fd: int, data: memoryview) -> None:
    os.write(fd, data[: len(data) // 2])
    raise NO_SPACE


def serialisation_fails_midway(obj: object, file: object, *args: object, **kwargs: object) -> None:
    file.write(b"PK\x03\x04 partial zip")  # type: ignore[attr-defined]
    raise NO_SPACE


def fail(*args: object) -> None:
    raise NO_SPACE


FAULTS = {
    "torch.save": (torch, "save", serialisation_fails_midway),
    "write": (checkpoints, "_write_all", half_written_then_full),
    "fsync": (os, "fsync", fail),
    "rename": (os, "replace", fail),
}


@pytest.mark.parametrize("stage", FAULTS)
def test_a_failed_write_leaves_the_previous_checkpoint_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    path = tmp_path / "last.ckpt"
    atomic_save(state(1), path)
    before = path.read_bytes()
    monkeypatch.setattr(*FAULTS[stage])
    with pytest.raises(CheckpointWriteError) as raised:
        atomic_save(state(2), path)
    monkeypatch.undo()
    assert str(raised.value) == (
        f"could not write checkpoint {str(path)!r}: No space left on device; the previous file there is unchanged"
    )
    assert raised.value.errno == errno.ENOSPC and isinstance(raised.value, OSError)
    assert path.read_bytes() == before
    assert_close(torch.load(path, weights_only=True), state(1), rtol=0, atol=0)
    assert leftovers(tmp_path) == []


def test_a_failed_first_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoints, "_write_all", half_written_then_full)
    with pytest.raises(CheckpointWriteError, match=r"No space left on device$"):
        atomic_save(state(1), tmp_path / "epoch=0-step=1.ckpt")
    assert os.listdir(tmp_path) == []


def test_an_interrupt_during_the_write_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int, data: memoryview) -> None:
        os.write(fd, data[:100])
        raise KeyboardInterrupt

    atomic_save(state(1), tmp_path / "last.ckpt")
    monkeypatch.setattr(checkpoints, "_write_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_save(state(2), tmp_path / "last.ckpt")
    assert os.listdir(tmp_path) == ["last.ckpt"]


def test_the_cli_trainer_writes_through_atomic_checkpoint_io() -> None:
    cli = GANCLI(args=["--config", str(write_config(Path.cwd(), 2)), "--trainer.max_steps", "1"], run=False)
    assert type(cli.trainer.strategy.checkpoint_io) is AtomicCheckpointIO
    assert type(AtomicCheckpointIO()).__mro__[1] is TorchCheckpointIO


# ------------------------------------------------------------------------------------------ through the CLI
def write_config(
    folder: Path, every_n_steps: int, ckpt_dir: Path | None = None, hidden_dim: int = 16
) -> Path:
    """A tiny ring fit that checkpoints every ``every_n_steps`` steps (all kept, plus last.ckpt)."""
    config = tiny_ring_config(
        160,
        32,
        max_steps=40,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(folder / "root"),
        callbacks=[
            {
                "class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                "init_args": {
                    "dirpath": str(ckpt_dir or folder / "ckpt"),
                    "every_n_train_steps": every_n_steps,
                    "save_top_k": -1,
                    "save_last": True,
                },
            }
        ],
    )
    for network in ("generator", "discriminator"):
        config["model"]["init_args"][network]["init_args"]["hidden_dim"] = hidden_dim
    config["sample_grid"] = {"every_n_epochs": 1000}
    path = folder / "config_under_test.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def fit_fails(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``gan-lightning fit``; it must exit 2 with one line on stderr, which is returned."""
    with pytest.raises(SystemExit) as exited:
        main(["fit", "--config", str(config)])
    assert exited.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gan-lightning:")]
    assert len(lines) == 1, lines
    return lines[0]


def test_fit_stops_in_one_line_when_a_checkpoint_write_fails_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The second write of last.ckpt (step 4) fails after half its bytes; the step-2 one must survive.
    ckpt = tmp_path / "ckpt"
    writes, write_all = [], checkpoints._write_all

    def failing_second_last(fd: int, data: memoryview) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        writes.append(Path(name).name)
        if sum(".last.ckpt." in w for w in writes) == 2:
            half_written_then_full(fd, data)
        write_all(fd, data)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell which file a descriptor writes")
    monkeypatch.setattr(checkpoints, "_write_all", failing_second_last)
    line = fit_fails(write_config(tmp_path, 2), capsys)
    assert line == (
        f"gan-lightning: error: could not write checkpoint {str(ckpt / 'last.ckpt')!r}: No space left on device; "
        "the previous file there is unchanged (run with --debug for the traceback)"
    )
    last = torch.load(ckpt / "last.ckpt", weights_only=True)
    assert last["global_step"] == 2
    step2 = torch.load(ckpt / "epoch=0-step=2.ckpt", weights_only=True)
    assert_close(last["state_dict"], step2["state_dict"], rtol=0, atol=0)
    assert sorted(os.listdir(ckpt)) == ["epoch=0-step=2.ckpt", "epoch=0-step=4.ckpt", "last.ckpt"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs (needs root, or CAP_SYS_ADMIN); skipped where it cannot be mounted."""
    folder = tmp_path / "small_disk"
    folder.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.skip("no mount command")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_ends_the_fit_in_one_line_and_keeps_the_earlier_checkpoints(
    tmp_path: Path, small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 64-wide MLPs: each checkpoint is about 0.2 MB, so the 3 MB disk fills up after a few steps.
    line = fit_fails(write_config(tmp_path, 1, ckpt_dir=small_disk, hidden_dim=64), capsys)
    assert line.startswith(f"gan-lightning: error: could not write checkpoint '{small_disk}/")
    assert "No space left on device" in line
    assert leftovers(small_disk) == []
    files = sorted(small_disk.glob("*.ckpt"))
    assert len(files) >= 3 and small_disk / "last.ckpt" in files
    steps = {f.name: torch.load(f, weights_only=True)["global_step"] for f in files}  # every one loads
    # ModelCheckpoint writes the step file, then last.ckpt: last holds the newest step or the one before.
    assert steps["last.ckpt"] in sorted(step for name, step in steps.items() if name != "last.ckpt")[-2:]
