"""A self-conditioned GAN end to end: `gan-lightning fit` on k-means cluster labels of tiny MNIST, then
`evaluate` and `sample` on its checkpoint (the pieces: tests/unit/test_clusters.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image
from torch.testing import assert_close

from gan_lightning.cli import main
from gan_lightning.data import MNISTDataModule
from tests.helpers import conditional_dcgan, dcgan_networks, write_tiny_idx


def tiny_self_conditioned(data_dir: Path, conditional: bool = True, clusters: int | None = 3) -> dict:
    """configs/mnist/best.yaml at width 8 and 3 clusters (``clusters=None``: the 10 digits), one
    epoch of 96 digits, with the generator's EMA."""
    networks = conditional_dcgan(num_classes=clusters or 10, latent_dim=8, width=8)
    if not conditional:
        networks = dcgan_networks(latent_dim=8, width=8)
    return {
        "model": {"class_path": "gan_lightning.variants.NSGAN", "init_args": {**networks, "num_samples": 16}},
        "data": {
            "class_path": "gan_lightning.data.MNISTDataModule",
            "init_args": {
                "data_dir": str(data_dir),
                "download": False,
                "batch_size": 32,
                "cluster_labels": clusters,
            },
        },
        "trainer": {
            "max_epochs": 1,
            "enable_progress_bar": False,
            "log_every_n_steps": 1,
            "callbacks": [{"class_path": "gan_lightning.callbacks.GeneratorEMA"}],
        },
    }


def test_fit_evaluate_and_sample_of_a_self_conditioned_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = write_tiny_idx(tmp_path / "data", n=96)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(tiny_self_conditioned(data_dir)))
    main(["fit", "--config", str(config), "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")])
    (checkpoint,) = (tmp_path / "runs").rglob("last.ckpt")

    # The generator keeps the clusters' frequencies, so sampling needs no data.
    data = MNISTDataModule(str(data_dir), download=False, cluster_labels=3)
    data.setup("fit")
    state = torch.load(checkpoint, weights_only=True)["state_dict"]
    assert_close(state["generator.label_prior"], data.label_prior)
    assert_close(state["ema_generator.label_prior"], data.label_prior)  # what sampling tools load

    args = ["--num_generated", "40", "--num_real", "48", "--batch_size", "20", "--out", str(tmp_path / "m")]
    main(["evaluate", "--ckpt_path", str(checkpoint), *args])
    metrics = json.loads((tmp_path / "m.json").read_text())["metrics"]
    assert "fid" in metrics and "label_accuracy" not in metrics  # clusters are not digits to be accurate on

    main(
        [
            "sample",
            "--ckpt_path",
            str(checkpoint),
            "--n",
            "16",
            "--out",
            str(tmp_path / "grid.png"),
            "--quiet",
        ]
    )
    # A square grid, as an unconditional model's: 4 images of 28 pixels and 5 gaps of 2 each way.
    assert Image.open(tmp_path / "grid.png").size == (122, 122)
    main(
        [
            "sample",
            "--ckpt_path",
            str(checkpoint),
            "--n",
            "6",
            "--interpolate",
            "3",
            "--out",
            str(tmp_path / "p"),
        ]
    )
    assert (tmp_path / "p.gif").is_file()
    capsys.readouterr()


def test_a_conditional_checkpoint_from_before_the_label_prior_still_evaluates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(tiny_self_conditioned(write_tiny_idx(tmp_path / "data", n=96), clusters=None))
    )
    main(["fit", "--config", str(config), "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")])
    (checkpoint,) = (tmp_path / "runs").rglob("last.ckpt")
    saved = torch.load(checkpoint, weights_only=True)
    for key in ("generator.label_prior", "ema_generator.label_prior"):
        del saved["state_dict"][key]
    torch.save(saved, checkpoint)
    args = ["--num_generated", "40", "--num_real", "48", "--batch_size", "20", "--out", str(tmp_path / "m")]
    main(["evaluate", "--ckpt_path", str(checkpoint), *args])
    assert "label_accuracy" in json.loads((tmp_path / "m.json").read_text())["metrics"]  # class labels
    capsys.readouterr()


def test_cluster_labels_for_an_unconditional_model_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(tiny_self_conditioned(write_tiny_idx(tmp_path / "data", n=96), False)))
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(config), "--trainer.logger.init_args.save_dir", str(tmp_path / "runs")])
    assert exit_info.value.code == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert "data.cluster_labels" in line and "num_classes 3 (it has none)" in line
