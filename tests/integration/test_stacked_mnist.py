"""Stacked MNIST end to end: `gan-lightning fit` on configs/stacked_mnist/nsgan.yaml (tiny generated digits) logs the
mode metric through the Evaluation callback, and `gan-lightning evaluate` on its checkpoint reports it."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from gan_lightning.cli import main
from tests.helpers import CONFIGS, write_tiny_idx


def test_fit_logs_and_evaluate_reports_modes_covered_and_kl(tmp_path: Path, capsys) -> None:
    data_dir = write_tiny_idx(tmp_path / "mnist", n=64)
    main(
        [
            "fit",
            "--config",
            str(CONFIGS / "stacked_mnist" / "nsgan.yaml"),
            *("--data.data_dir", str(data_dir), "--data.download", "false", "--data.num_samples", "128"),
            *("--trainer.max_epochs", "1", "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")),
            *("--evaluation.every_n_epochs", "1", "--evaluation.num_generated", "64"),
            *("--evaluation.num_real", "32", "--evaluation.batch_size", "32"),
        ]
    )
    checkpoint = next((tmp_path / "runs").rglob("*.ckpt"))
    rows = list(csv.DictReader(open(next(checkpoint.parents[1].glob("metrics.csv")))))
    logged = [row for row in rows if row.get("eval/classes_covered")]
    assert logged and 1 <= float(logged[-1]["eval/classes_covered"]) <= 64
    assert 0 <= float(logged[-1]["eval/class_kl"]) <= math.log(1000)

    out = tmp_path / "metrics"
    args = ["--num_generated", "64", "--num_real", "32", "--batch_size", "32", "--out", str(out)]
    main(["evaluate", "--ckpt_path", str(checkpoint), *args])
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["feature_extractor"] == "lenet"  # auto: the data module names the LeNet, not Inception
    assert {"fid", "classes_covered", "class_kl"} <= saved["metrics"].keys()
    assert 1 <= saved["metrics"]["classes_covered"] <= 64 and saved["num_generated"] == 64
    printed = capsys.readouterr().out
    assert "| Classes covered (predicted) |" in printed and "| KL(predicted classes || uniform) |" in printed
