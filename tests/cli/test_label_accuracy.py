"""`gan-lightning fit` with the Evaluation callback's `label_accuracy`, then `gan-lightning evaluate`, on a tiny
conditional MNIST checkpoint (the metric itself: tests/unit/test_label_accuracy.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from gan_lightning.cli import main
from tests.helpers import conditional_dcgan, write_tiny_idx


def tiny_conditional(data_dir: Path) -> dict:
    """configs/mnist/cgan_nsgan.yaml at width 8, one epoch of 96 digits, label accuracy logged."""
    return {
        "model": {
            "class_path": "gan_lightning.variants.NSGAN",
            "init_args": conditional_dcgan(num_classes=10, latent_dim=8, width=8),
        },
        "data": {
            "class_path": "gan_lightning.data.MNISTDataModule",
            "init_args": {"data_dir": str(data_dir), "download": False, "batch_size": 32},
        },
        "trainer": {"max_epochs": 1, "enable_progress_bar": False, "log_every_n_steps": 1},
        "evaluation": {"image_metrics": ["label_accuracy"], "num_generated": 32, "batch_size": 16},
    }


def test_evaluate_reports_the_label_accuracy_of_a_conditional_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(tiny_conditional(write_tiny_idx(tmp_path / "data", n=96))))
    main(["fit", "--config", str(config), "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")])
    (checkpoint,) = (tmp_path / "runs").rglob("last.ckpt")
    rows = list(csv.DictReader(open(next((tmp_path / "runs").rglob("metrics.csv")))))
    logged = [float(row["eval/label_accuracy"]) for row in rows if row.get("eval/label_accuracy")]
    assert logged and all(0 <= value <= 1 for value in logged)  # the Evaluation callback took it

    args = ["--num_generated", "40", "--num_real", "48", "--batch_size", "20", "--out", str(tmp_path / "m")]
    main(["evaluate", "--ckpt_path", str(checkpoint), *args])
    assert "| Label accuracy (LeNet) |" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "m.json").read_text())["metrics"]
    assert {"fid", "classes_covered", "label_accuracy"} <= metrics.keys()  # the default metrics include it
    # 40 samples: the accuracy is a whole number of 40ths.
    assert 0 <= metrics["label_accuracy"] <= 1 and round(40 * metrics["label_accuracy"], 6).is_integer()
