"""Runs, checkpoints and data under fsspec URLs: ``memory://`` (fsspec's in-memory file system, standing in
for an object store) and ``file://``. A URL must reach fsspec whole (a Path would turn ``s3://b`` into
``s3:/b``, a local folder), and what is read from a URL must equal what is read from a local copy."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import fsspec
import numpy as np
import pytest
import torch
import yaml
from torch.testing import assert_close

from gan_lightning.checkpoints import atomic_save, load_checkpoint
from gan_lightning.cli import main
from gan_lightning.data import CelebADataModule, ImageFolderDataModule, MNISTDataModule
from gan_lightning.loading import load_generator
from gan_lightning.paths import join, parent, with_suffix
from gan_lightning.runs import default_config
from tests.helpers import tiny_ring_config, write_tiny_idx

TRAINER = {"max_steps": 2, "accelerator": "cpu", "devices": 1, "log_every_n_steps": 1}


@pytest.fixture
def memory() -> Iterator[fsspec.AbstractFileSystem]:
    """fsspec's in-memory file system, empty before and after the test (its store is shared by the process)."""
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs[:] = [""]
    yield fs
    fs.store.clear()
    fs.pseudo_dirs[:] = [""]


def fit_tiny(folder: Path, root: str) -> None:
    config = folder / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_ring_config(64, 32, **TRAINER)))
    main(["fit", "--config", str(config), "--trainer.default_root_dir", root])


def local_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def sampled(ckpt_path: str | Path, out: str | Path) -> np.ndarray:
    """16 samples of ``gan-lightning sample`` (seed 0), written to ``out`` and read back."""
    options = ["--n", "16", "--quiet", "--device", "cpu"]
    main(["sample", "--ckpt_path", str(ckpt_path), "--out", str(out), *options])
    with fsspec.open(str(out), "rb") as file:  # a local path or a URL
        return np.load(file)["samples"]


# ------------------------------------------------------------------------------------------------ path arithmetic
def test_urls_keep_their_double_slash() -> None:
    assert join("s3://bucket/runs", "tiny", "version_0") == "s3://bucket/runs/tiny/version_0"
    assert parent("s3://bucket/runs/x/checkpoints/last.ckpt") == "s3://bucket/runs/x/checkpoints"
    assert default_config("memory://r/x/checkpoints/last.ckpt") == "memory://r/x/config.yaml"
    assert with_suffix("memory://r/x/last.ckpt", ".onnx") == "memory://r/x/last.onnx"
    assert default_config("file:///tmp/r/checkpoints/last.ckpt") == Path("/tmp/r/config.yaml")
    assert MNISTDataModule("s3://bucket/mnist").data_dir == "s3://bucket/mnist"


# ------------------------------------------------------------------------------------------------ runs
def test_fit_into_memory_then_sample_and_export_from_there(
    memory: fsspec.AbstractFileSystem, tmp_path: Path
) -> None:
    fit_tiny(tmp_path, "memory://r")
    run = "memory://r/tiny/version_0"
    written = {p.removeprefix("/r/tiny/version_0/") for p in memory.find("/")}
    assert {"config.yaml", "metrics.csv", "checkpoints/last.ckpt", "samples/final.png"} <= written, written
    assert local_files(tmp_path) == ["tiny.yaml"]  # no memory:/r folder here
    saved = yaml.safe_load(memory.cat(f"{run}/config.yaml"))
    assert saved["trainer"]["default_root_dir"] == "memory://r"
    assert memory.cat(f"{run}/samples/final.png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert memory.cat(f"{run}/metrics.csv").decode().splitlines()[0].count(",") > 0

    # The same run as a local folder: every command must read the same values from either.
    local_run = tmp_path / "local_run"
    memory.get(f"{run}/", str(local_run), recursive=True)
    remote_ckpt, local_ckpt = f"{run}/checkpoints/last.ckpt", local_run / "checkpoints" / "last.ckpt"
    assert_close(load_checkpoint(remote_ckpt)["state_dict"], load_checkpoint(local_ckpt)["state_dict"])

    from_remote = sampled(remote_ckpt, "memory://out/samples.npz")
    from_local = sampled(local_ckpt, tmp_path / "samples.npz")
    assert from_remote.shape == (16, 2)
    assert_close(torch.from_numpy(from_remote), torch.from_numpy(from_local))

    main(["export", "--ckpt_path", remote_ckpt, "--format", "safetensors"])  # next to the checkpoint
    exported = load_generator(f"{run}/checkpoints/last.safetensors")
    z = torch.randn(8, exported.latent_dim, generator=torch.Generator().manual_seed(0))
    assert_close(exported(z), load_generator(local_ckpt)(z))

    # evaluate writes its report next to the remote checkpoint, with the same numbers as from the local copy.
    main(["evaluate", "--ckpt_path", remote_ckpt, "--quiet"])
    main(["evaluate", "--ckpt_path", str(local_ckpt), "--quiet"])
    remote_report = json.loads(memory.cat(f"{run}/checkpoints/last_metrics.json"))
    local_report = json.loads((local_run / "checkpoints" / "last_metrics.json").read_text())
    assert remote_report["checkpoint"] == remote_ckpt
    assert_close(remote_report["metrics"], local_report["metrics"], equal_nan=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local_run", "samples.npz", "tiny.yaml"]


def test_fit_into_a_file_url_writes_the_local_folder(tmp_path: Path) -> None:
    fit_tiny(tmp_path, f"file://{tmp_path}/elsewhere")
    run = tmp_path / "elsewhere" / "tiny" / "version_0"  # claimed atomically, as for a local root
    assert (run / "config.yaml").is_file() and (run / "metrics.csv").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "samples" / "final.png").is_file()
    assert not (tmp_path / "file:").exists(), local_files(tmp_path)
    checkpoint = load_checkpoint(f"file://{run}/checkpoints/last.ckpt")
    assert_close(checkpoint["state_dict"], load_checkpoint(run / "checkpoints" / "last.ckpt")["state_dict"])


# ------------------------------------------------------------------------------------------------ checkpoints
def test_load_checkpoint_from_urls(memory: fsspec.AbstractFileSystem, tmp_path: Path) -> None:
    state = {"state_dict": {"w": torch.arange(6.0).reshape(2, 3)}, "global_step": 3}
    torch.save(state, tmp_path / "x.ckpt")
    memory.pipe("memory://ckpts/x.ckpt", (tmp_path / "x.ckpt").read_bytes())
    atomic_save(state, "memory://ckpts/saved/y.ckpt")  # one put through fsspec, no temporary file
    assert memory.find("/ckpts/saved") == ["/ckpts/saved/y.ckpt"]
    for url in (f"file://{tmp_path}/x.ckpt", "memory://ckpts/x.ckpt", "memory://ckpts/saved/y.ckpt"):
        loaded = load_checkpoint(url)
        assert_close(loaded["state_dict"], state["state_dict"])
        assert loaded["global_step"] == 3


def test_remote_checkpoints_keep_weights_only_and_one_line_errors(
    memory: fsspec.AbstractFileSystem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.save({"state_dict": {}, "extra": argparse.Namespace(a=1)}, tmp_path / "pickled.ckpt")
    memory.pipe("memory://pickled.ckpt", (tmp_path / "pickled.ckpt").read_bytes())
    with pytest.raises(ValueError, match=r"'memory://pickled.ckpt' holds a Python object .*Namespace"):
        load_checkpoint("memory://pickled.ckpt")
    with pytest.raises(ValueError, match=r"no checkpoint file at 'memory://x.ckpt'"):
        load_checkpoint("memory://x.ckpt")
    for command in ("sample", "export", "fit"):
        args = [command, "--ckpt_path", "memory://x.ckpt"] + (
            ["--format", "onnx"] if command == "export" else []
        )
        if command == "fit":  # refused while the command line is read, before any folder is made
            config = tmp_path / "tiny.yaml"
            config.write_text(yaml.safe_dump(tiny_ring_config(64, 32)))
            args += ["--config", str(config), "--trainer.default_root_dir", "memory://fit"]
        with pytest.raises(SystemExit) as stop:
            main(args)
        assert stop.value.code == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert "memory://x.ckpt" in line and "memory:/x" not in line, line
    assert local_files(tmp_path) == ["pickled.ckpt", "tiny.yaml"]


# ------------------------------------------------------------------------------------------------ data
def test_mnist_reads_a_data_dir_url(memory: fsspec.AbstractFileSystem, tmp_path: Path) -> None:
    local = write_tiny_idx(tmp_path / "mnist", n=40, split="test", torchvision_layout=True)
    files_before = local_files(tmp_path)
    memory.put(str(local), "memory://data", recursive=True)  # -> memory://data/MNIST/raw/t10k-*.gz
    from_url = MNISTDataModule("memory://data", split="test", download=True, batch_size=8)
    from_disk = MNISTDataModule(str(local), split="test", download=False, batch_size=8)
    for module in (from_url, from_disk):
        module.prepare_data()
        module.setup("fit")
    assert_close(from_url.train_set.tensors[0], from_disk.train_set.tensors[0])
    assert_close(from_url.train_set.tensors[1], from_disk.train_set.tensors[1])
    assert from_url.label_source == "memory://data/MNIST/raw/t10k-labels-idx1-ubyte.gz"

    # No files at all: nothing is downloaded to a URL, and the message says so in one line.
    missing = MNISTDataModule("memory://elsewhere", split="test", download=True)
    missing.prepare_data()
    with pytest.raises(FileNotFoundError, match="nothing is downloaded to a URL") as error:
        missing.setup("fit")
    assert "memory://elsewhere/MNIST/raw" in str(error.value) and "\n" not in str(error.value)
    assert local_files(tmp_path) == files_before  # nothing downloaded, no local memory: folder


@pytest.mark.parametrize("data_module", [CelebADataModule, ImageFolderDataModule])
def test_folder_readers_refuse_a_data_dir_url(data_module: type) -> None:
    with pytest.raises(ValueError, match=r"'s3://bucket/images' is a URL, but .* reads local folders only"):
        data_module(data_dir="s3://bucket/images")
