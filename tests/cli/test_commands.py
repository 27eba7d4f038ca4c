"""`gan-lightning sample / evaluate / train-evaluator / real-floor` on checkpoints of tiny fits."""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from torch.testing import assert_close

from gan_lightning.cli import main
from gan_lightning.metrics import load_lenet, mode_coverage
from gan_lightning.runs import load_run
from tests.helpers import dcgan_networks, tiny_ring_config, write_tiny_idx

TOY = tiny_ring_config(128, 32, max_epochs=1, enable_progress_bar=False)


def mnist_like(data_dir: Path) -> dict:
    return {
        "model": {
            "class_path": "gan_lightning.variants.NSGAN",
            "init_args": dcgan_networks(latent_dim=8, width=8),
        },
        "data": {
            "class_path": "gan_lightning.data.MNISTDataModule",
            "init_args": {"data_dir": str(data_dir), "download": False, "batch_size": 32},
        },
        "trainer": {"max_epochs": 1, "enable_progress_bar": False, "log_every_n_steps": 1},
        # The CLI group of the Evaluation callback: FID/KID during training.
        "evaluation": {
            "image_metrics": ["fid", "kid"],
            "num_generated": 32,
            "num_real": 48,
            "batch_size": 16,
        },
    }


def fit(config: dict, folder: Path) -> Path:
    """Train from a config written to ``folder``; returns the checkpoint."""
    path = folder / "config_under_test.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path), "--trainer.logger.init_args.save_dir", str(folder / "runs")])
    return next((folder / "runs").rglob("*.ckpt"))


@pytest.fixture(scope="module")
def toy_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    return fit(TOY, tmp_path_factory.mktemp("toy"))


@pytest.fixture(scope="module")
def mnist_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mnist")
    return fit(mnist_like(write_tiny_idx(folder / "data", n=96)), folder)


def test_sample_writes_a_scatter_plot_and_the_seeded_points(toy_checkpoint: Path, tmp_path: Path) -> None:
    main(["sample", "--ckpt_path", str(toy_checkpoint), "--n", "50", "--out", str(tmp_path / "points.png")])
    assert Image.open(tmp_path / "points.png").format == "PNG"
    main(["sample", "--ckpt_path", str(toy_checkpoint), "--n", "50", "--out", str(tmp_path / "points.npz")])
    module, _ = load_run(toy_checkpoint)
    z = torch.randn(50, module.generator.latent_dim, generator=torch.Generator().manual_seed(0))
    assert_close(torch.from_numpy(np.load(tmp_path / "points.npz")["samples"]), module.generate(50, z=z))


def test_evaluate_reports_mode_coverage_of_a_toy_checkpoint(toy_checkpoint: Path, tmp_path: Path) -> None:
    main(["evaluate", "--ckpt_path", str(toy_checkpoint), "--out", str(tmp_path / "table")])
    saved = json.loads((tmp_path / "table.json").read_text())
    module, data = load_run(toy_checkpoint)
    z = torch.randn(2500, module.generator.latent_dim, generator=torch.Generator().manual_seed(0))
    expected = mode_coverage(module.generate(2500, z=z), data.mode_centers, data.mode_std)
    assert saved["metrics"].keys() == expected.keys() and saved["num_generated"] == 2500
    assert_close(saved["metrics"]["high_quality"], expected["high_quality"])
    assert "| Modes captured |" in (tmp_path / "table.md").read_text()


def test_evaluate_prints_fid_and_kid_with_the_lenet_features(
    mnist_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--num_generated", "40", "--num_real", "48", "--batch_size", "20", "--out", str(tmp_path / "m")]
    main(["evaluate", "--ckpt_path", str(mnist_checkpoint), *args])
    printed = capsys.readouterr().out
    assert "(lenet features)" in printed and "| FID |" in printed and "| KID |" in printed
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["feature_extractor"] == "lenet" and saved["num_real"] == 48
    expected = {"fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall"}
    assert saved["metrics"].keys() == expected | {"classes_covered", "class_kl"}  # LeNet: digit histogram
    assert 0 <= saved["metrics"]["class_kl"] <= math.log(10) and saved["metrics"]["classes_covered"] <= 10
    assert saved["metrics"]["fid"] > 0 and 1 <= saved["metrics"]["is_mean"] <= 10
    # The training run logged the callback's metrics too (CLI group `evaluation`).
    rows = list(csv.DictReader(open(next(mnist_checkpoint.parents[1].glob("metrics.csv")))))
    assert any(row.get("eval/fid") for row in rows) and any(row.get("eval/kid_mean") for row in rows)


def test_sample_grid_and_npz_of_images(mnist_checkpoint: Path, tmp_path: Path) -> None:
    main(["sample", "--ckpt_path", str(mnist_checkpoint), "--n", "20", "--out", str(tmp_path / "grid.png")])
    # 4 images per row (floor of sqrt 20), 5 rows, 28 px + 2 px padding each.
    assert Image.open(tmp_path / "grid.png").size == (4 * 30 + 2, 5 * 30 + 2)
    main(
        [
            "sample",
            "--ckpt_path",
            str(mnist_checkpoint),
            "--n",
            "6",
            "--out",
            str(tmp_path / "s"),
            "--format",
            "npz",
        ]
    )
    samples = np.load(tmp_path / "s.npz")["samples"]
    assert samples.shape == (6, 1, 28, 28) and samples.min() >= -1 and samples.max() <= 1


def test_sample_interpolates_paths_row_by_row_with_a_gif_and_truncates(
    mnist_checkpoint: Path, tmp_path: Path
) -> None:
    out = tmp_path / "paths.png"
    main(
        ["sample", "--ckpt_path", str(mnist_checkpoint), "--n", "13", "--interpolate", "4", "--out", str(out)]
    )
    # 13 // 4 = 3 paths of 4 steps: one path per row.
    assert Image.open(out).size == (4 * 30 + 2, 3 * 30 + 2)
    gif = Image.open(out.with_suffix(".gif"))
    assert gif.n_frames == 4 + 2  # forth (4 steps) and back (2 inner steps)
    # The ends of the paths are the generator's images of the seeded end latents.
    module, _ = load_run(mnist_checkpoint)
    npz = tmp_path / "paths.npz"
    main(
        ["sample", "--ckpt_path", str(mnist_checkpoint), "--n", "8", "--interpolate", "4", "--out", str(npz)]
    )
    ends = torch.randn(4, module.generator.latent_dim, generator=torch.Generator().manual_seed(0))
    paths = torch.from_numpy(np.load(npz)["samples"]).reshape(2, 4, 1, 28, 28)
    assert_close(paths[:, 0], module.generate(2, z=ends[:2]).float(), atol=1e-5, rtol=1e-5)
    assert_close(paths[:, -1], module.generate(2, z=ends[2:]).float(), atol=1e-5, rtol=1e-5)
    # --truncation psi: the generator's images of psi z.
    main(
        ["sample", "--ckpt_path", str(mnist_checkpoint), "--n", "3", "--truncation", "0.5", "--out", str(npz)]
    )
    z = torch.randn(3, module.generator.latent_dim, generator=torch.Generator().manual_seed(0))
    assert_close(torch.from_numpy(np.load(npz)["samples"]), module.generate(3, z=0.5 * z).float())


def test_validate_and_test_measure_the_generator_as_evaluate_does(
    toy_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = toy_checkpoint.parent.parent / "config.yaml"
    main(["evaluate", "--ckpt_path", str(toy_checkpoint), "--out", str(tmp_path / "evaluated")])
    evaluated = json.loads((tmp_path / "evaluated.json").read_text())["metrics"]
    for phase in ("validate", "test"):
        args = ["--config", str(config), "--ckpt_path", str(toy_checkpoint)]
        main([phase, *args, "--trainer.logger.init_args.save_dir", str(tmp_path / phase)])
        assert f"**{phase}: {toy_checkpoint.name}**" in capsys.readouterr().out
        (metrics_csv,) = (tmp_path / phase).rglob("metrics.csv")
        (row,) = list(csv.DictReader(metrics_csv.open()))
        logged = {k.split("/", 1)[1]: float(v) for k, v in row.items() if k.startswith(f"{phase}/")}
        assert logged.keys() == evaluated.keys()
        assert_close(logged, {k: float(v) for k, v in evaluated.items()}, equal_nan=True)


def test_predict_writes_the_samples_of_seeded_latents(mnist_checkpoint: Path, tmp_path: Path) -> None:
    config = mnist_checkpoint.parent.parent / "config.yaml"
    root = tmp_path / "predict"
    main(["predict", "--config", str(config), "--ckpt_path", str(mnist_checkpoint),
          "--trainer.logger.init_args.save_dir", str(root)])  # fmt: skip
    (npz,) = root.rglob("predictions.npz")
    assert Image.open(npz.with_suffix(".png")).size == (8 * 30 + 2, 8 * 30 + 2)
    module, _ = load_run(mnist_checkpoint)
    z = torch.randn(64, module.generator.latent_dim, generator=torch.Generator().manual_seed(0))
    assert_close(torch.from_numpy(np.load(npz)["samples"]), module.generate(64, z=z).float())


def test_train_evaluator_and_real_floor_on_tiny_idx_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_tiny_idx(tmp_path / "data", n=64, split="test")
    main(
        [
            "train-evaluator",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "lenet.pt"),
            "--epochs",
            "1",
            "--holdout",
            "16",
        ]
    )
    assert "LeNet test accuracy:" in capsys.readouterr().out
    assert (tmp_path / "lenet.pt").stat().st_size < 1_000_000 and load_lenet(
        tmp_path / "lenet.pt"
    ).num_features == 128
    args = ["--feature_extractor_weights", str(tmp_path / "lenet.pt"), "--image_metrics", "fid,kid"]
    main(["real-floor", "--data", str(data), *args, "--out", str(tmp_path / "floor")])
    floor = json.loads((tmp_path / "floor.json").read_text())["metrics"]
    assert floor.keys() == {"fid", "kid_mean", "kid_std"} and floor["fid"] >= 0


def test_commands_fail_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--ckpt_path", str(tmp_path / "missing.ckpt")])
    assert exit_info.value.code == 2
    missing = tmp_path / "missing.ckpt"
    assert capsys.readouterr().err.strip() == (
        f"gan-lightning: error: checkpoint {missing} does not exist (run with --debug for the traceback)"
    )


def test_commands_load_checkpoints_weights_only_unless_told(
    toy_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = torch.load(toy_checkpoint, weights_only=True)
    checkpoint["note"] = argparse.Namespace(made_by="a script")  # a pickled Python object
    unsafe = tmp_path / "unsafe.ckpt"
    torch.save(checkpoint, unsafe)
    args = ["--ckpt_path", str(unsafe), "--config", str(toy_checkpoint.parents[1] / "config.yaml")]
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", *args, "--out", str(tmp_path / "a.npz")])
    assert exit_info.value.code == 2 and "holds a Python object" in capsys.readouterr().err
    main(["sample", *args, "--out", str(tmp_path / "b.npz"), "--weights_only", "false"])
    assert np.load(tmp_path / "b.npz")["samples"].shape == (64, 2)


class _Payload:
    """Unpickling this creates ``marker``: the stand-in for code a crafted checkpoint would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize(
    "command",
    [
        ["evaluate"],
        ["sample"],
        ["export", "--format", "safetensors"],
        ["fit"],
        ["validate"],
        ["test"],
        ["predict"],
    ],
)
def test_no_command_runs_the_code_of_a_crafted_checkpoint(
    command: list[str], toy_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "code_ran"
    checkpoint = torch.load(toy_checkpoint, weights_only=True)
    checkpoint["callbacks"] = {"payload": _Payload(marker)}
    crafted = tmp_path / "crafted.ckpt"
    torch.save(checkpoint, crafted)
    config = str(toy_checkpoint.parents[1] / "config.yaml")
    extra = ["--out", str(tmp_path / "out")] if command[0] in ("evaluate", "sample", "export") else []
    if command[0] in ("fit", "validate", "test", "predict"):
        extra = ["--trainer.logger.init_args.save_dir", str(tmp_path / "runs")]
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--config", config, "--ckpt_path", str(crafted), *extra])
    error = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(error.splitlines()) == 1, error
    assert str(crafted) in error and "Python object" in error, error
    assert not marker.exists()
