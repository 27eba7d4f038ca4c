"""Preflight: an unwritable run or checkpoint folder stops fit before the first batch in one line naming it; the
free space is reported, with a warning below the threshold. (Through the command line:
tests/cli/test_bad_input.py.)"""

from __future__ import annotations

import logging
import warnings
from collections import namedtuple
from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.testing import assert_close

from gan_lightning.callbacks import Preflight
from gan_lightning.callbacks import preflight as preflight_module
from gan_lightning.callbacks.preflight import FolderNotWritableError, checkpoint_size_estimate, probe_writable
from tests.helpers import quiet_trainer, ring_data, small_nsgan

Usage = namedtuple("Usage", "total used free")


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def test_probe_leaves_nothing_behind_and_names_what_fails(tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text("kept")
    probe_writable(tmp_path / "new" / "nested")  # made for the probe, then removed again
    assert files_under(tmp_path) == [tmp_path / "kept.txt"]
    with pytest.raises(NotADirectoryError):
        probe_writable(tmp_path / "kept.txt" / "checkpoints")  # no folder can be made under a file
    assert (tmp_path / "kept.txt").read_text() == "kept"


@pytest.mark.parametrize("where", ["run", "checkpoint"])
def test_unwritable_folder_stops_fit_before_the_first_batch(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    callbacks = [Preflight()]
    root = blocker / "run" if where == "run" else tmp_path / "run"
    if where == "checkpoint":
        callbacks.append(ModelCheckpoint(dirpath=blocker / "checkpoints"))
    model = small_nsgan()
    trainer = quiet_trainer(
        max_steps=1, default_root_dir=root, callbacks=callbacks, enable_checkpointing=where == "checkpoint"
    )
    with pytest.raises(FolderNotWritableError) as error:
        trainer.fit(model, datamodule=ring_data(num_samples=64, batch_size=32))
    message = str(error.value)
    assert "\n" not in message
    folder = blocker / ("run" if where == "run" else "checkpoints")
    assert (
        message
        == f"the {where} folder {str(folder)!r} is not writable: Not a directory (found before training)"
    )
    assert trainer.global_step == 0 and model.critic_steps == 0  # no batch was trained
    assert blocker.read_text() == "not a folder"


def test_free_space_is_reported_and_warned_about_below_the_threshold(
    tmp_path: Path, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = small_nsgan()
    checkpoint = checkpoint_size_estimate(model)
    # weights and Adam's two moments of what the state dict holds: the float32 parameters and the saved
    # buffer of grid latents (fixed_labels is not saved)
    assert "fixed_labels" not in model.state_dict()
    assert checkpoint == 3 * 4 * (sum(p.numel() for p in model.parameters()) + model.fixed_z.numel())

    monkeypatch.setattr(preflight_module.shutil, "disk_usage", lambda _: Usage(2**40, 0, 3 * checkpoint))
    trainer = quiet_trainer(
        max_steps=1, default_root_dir=tmp_path, callbacks=[Preflight(min_free_checkpoints=4)]
    )
    with caplog.at_level(logging.INFO), pytest.warns(UserWarning, match="room for fewer than 4 checkpoints"):
        trainer.fit(model, datamodule=ring_data(num_samples=64, batch_size=32))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Preflight:")]
    assert len(lines) == 1 and f"{tmp_path} writable" in lines[0]
    assert trainer.global_step > 0  # a warning only: training went on

    monkeypatch.setattr(preflight_module.shutil, "disk_usage", lambda _: Usage(2**40, 0, 5 * checkpoint))
    trainer = quiet_trainer(
        max_steps=1, default_root_dir=tmp_path, callbacks=[Preflight(min_free_checkpoints=4)]
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        trainer.fit(small_nsgan(), datamodule=ring_data(num_samples=64, batch_size=32))
    assert not [w for w in record if "checkpoints of this model" in str(w.message)]


def test_checkpoint_estimate_counts_every_tensor_three_times() -> None:
    model = torch.nn.Linear(3, 2)  # 6 weights and 2 biases, float32
    assert_close(torch.tensor(checkpoint_size_estimate(model)), torch.tensor(3 * 4 * 8))
    with pytest.raises(ValueError, match="preflight.min_free_checkpoints must be >= 0, got -1"):
        Preflight(min_free_checkpoints=-1)
