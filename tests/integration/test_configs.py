"""Every standalone YAML under configs/ trains for a couple of batches (a new config needs no new test).

Overlays that complete another config live in configs/{logger,trainer,cluster}/ and are skipped here. Data that
would be downloaded is replaced by small generated files through DATA_OVERRIDES (data class name -> a function
of the test folder that returns extra CLI arguments).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml

from gan_lightning.cli import main
from tests.helpers import ROOT, write_image_folder, write_tiny_celeba, write_tiny_idx

OVERLAYS = {"logger", "trainer", "cluster"}
CONFIGS = sorted(p for p in (ROOT / "configs").rglob("*.yaml") if p.parent.name not in OVERLAYS)

DATA_OVERRIDES: dict[str, Callable[[Path], list[str]]] = {}
# Image data: tiny generated files (tests/helpers.py) and small batches instead of downloads.
DATA_OVERRIDES["MNISTDataModule"] = lambda tmp: ["--data.data_dir", str(write_tiny_idx(tmp / "mnist", n=128))]
DATA_OVERRIDES["StackedMNISTDataModule"] = lambda tmp: [
    "--data.data_dir",
    str(write_tiny_idx(tmp / "mnist", n=128)),
    "--data.download",
    "false",
]
DATA_OVERRIDES["CelebADataModule"] = lambda tmp: [
    "--data.data_dir",
    str(write_tiny_celeba(tmp / "celeba", n=24)),
    "--data.batch_size",
    "4",
    "--data.num_workers",
    "0",
    "--data.download",
    "false",
]
DATA_OVERRIDES["ImageFolderDataModule"] = lambda tmp: [
    "--data.data_dir",
    str(write_image_folder(tmp / "images", {"a": [(255, 0, 0)] * 4, "b": [(0, 0, 9)] * 4}, (80, 64))),
    "--data.batch_size",
    "4",
    "--data.num_workers",
    "0",
]


def _data_class(config: Path) -> str:
    return yaml.safe_load(config.read_text())["data"]["class_path"].rsplit(".", 1)[-1]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT / "configs")))
def test_config_trains_two_batches(config: Path, tmp_path: Path) -> None:
    extra = DATA_OVERRIDES.get(_data_class(config), lambda _: [])(tmp_path)
    main(
        [
            "fit",
            "--config",
            str(config),
            "--trainer.fast_dev_run",
            "2",
            "--trainer.default_root_dir",
            str(tmp_path),
            *extra,
        ]
    )
    assert (tmp_path / "samples" / "final.png").is_file()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed", "16-mixed"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT / "configs")))
def test_config_trains_two_batches_on_gpu(config: Path, precision: str, tmp_path: Path) -> None:
    extra = DATA_OVERRIDES.get(_data_class(config), lambda _: [])(tmp_path)
    main(
        [
            "fit",
            "--config",
            str(config),
            "--trainer.accelerator",
            "gpu",
            "--trainer.devices",
            "1",
            "--trainer.precision",
            precision,
            "--trainer.fast_dev_run",
            "2",
            "--trainer.default_root_dir",
            str(tmp_path),
            *extra,
        ]
    )
    assert (tmp_path / "samples" / "final.png").is_file()
