"""The logger overlays: a short fit with W&B offline (read back from its run file) and with TensorBoard."""

from __future__ import annotations

import json
import struct
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import wandb
import yaml

from gan_lightning.cli import main
from tests.helpers import CONFIGS, tiny_ring_config

TOY = tiny_ring_config(64, 32, max_epochs=2, enable_progress_bar=False, log_every_n_steps=1)


def fit_with_overlay(folder: Path, overlay: str) -> None:
    config = folder / "tiny_ring.yaml"
    config.write_text(yaml.safe_dump(TOY))
    main([
        "fit", "--config", str(config), "--config", str(CONFIGS / "logger" / overlay),
        "--trainer.logger.init_args.save_dir", str(folder / "runs"),
    ])  # fmt: skip


def wandb_records(path: Path) -> Iterator:
    """The protobuf records of a W&B run file (a LevelDB-style log: 7-byte file header, 32 KiB blocks of
    chunks, each with a 7-byte header: CRC32, length, type 1 full / 2 first / 3 middle / 4 last)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    ident, magic, _ = struct.unpack("<4sHB", data[:7])
    assert (ident, magic) == (b":W&B", 0xBEE1)
    position, block, pending = 7, 32768, b""
    while position + 7 <= len(data):
        left = block - position % block
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if left < 7 or (kind == 0 and length == 0):  # block trailer / padding
            position += left
            continue
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def test_wandb_offline_run_holds_metrics_images_and_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))  # W&B's own settings and cache stay in the test folder
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    fit_with_overlay(tmp_path, "wandb.yaml")
    # What the process exit does after `gan-lightning fit`: finish the run, then stop W&B's service process, which
    # writes the run file asynchronously (under load, reading right after `finish` once found only its header).
    wandb.finish()
    wandb.teardown()

    (run_file,) = (tmp_path / "runs" / "wandb").glob("offline-run-*/run-*.wandb")
    history: dict[str, str] = {}
    config: dict[str, str] = {}
    name = None
    kinds: Counter[str] = Counter()
    for record in wandb_records(run_file):
        kind = record.WhichOneof("record_type")
        kinds[kind] += 1
        if kind == "history":
            history.update(
                {item.key or "/".join(item.nested_key): item.value_json for item in record.history.item}
            )
        elif kind == "config":
            config.update({item.key: item.value_json for item in record.config.update})
        elif kind == "run":
            name = record.run.display_name
    # The run is named after its config file. The message says what a failure lacked: once, under heavy load,
    # no run record was found.
    assert name == "tiny_ring", f"{run_file.stat().st_size} bytes, records {dict(kinds)}"
    assert {
        "train/d_loss",
        "train/g_loss",
        "eval/modes",
        "eval/high_quality",
        "eval/reverse_kl",
    } <= history.keys()
    assert json.loads(history["samples/_type"]) == "images/separated"
    (image,) = json.loads(history["samples/filenames"])
    assert (run_file.parent / "files" / image).is_file()
    model = json.loads(config["model"])
    assert model["class_path"] == "gan_lightning.variants.NSGAN"
    # The run's folder holds its own config beside its checkpoints, so `sample` works on it as on any run.
    (checkpoint,) = (tmp_path / "runs" / "gan-lightning").glob("*/checkpoints/last.ckpt")
    saved = yaml.safe_load((checkpoint.parents[1] / "config.yaml").read_text())
    assert saved["model"]["class_path"] == "gan_lightning.variants.NSGAN"
    assert not (tmp_path / "runs" / "config.yaml").exists()
    main(["sample", "--ckpt_path", str(checkpoint), "--n", "8", "--out", str(tmp_path / "points.npz")])
    assert np.load(tmp_path / "points.npz")["samples"].shape == (8, 2)


def test_tensorboard_run_holds_metrics_images_and_hparams(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    fit_with_overlay(tmp_path, "tensorboard.yaml")
    (run,) = (tmp_path / "runs" / "tiny_ring").glob("version_*")
    events = EventAccumulator(str(run), size_guidance={"images": 0}).Reload()
    assert {"train/d_loss", "eval/modes", "eval/high_quality"} <= set(events.Tags()["scalars"])
    assert "samples" in events.Tags()["images"]  # the 2D scatter plot, read back from its PNG
    assert "model" in yaml.safe_load((run / "hparams.yaml").read_text())
