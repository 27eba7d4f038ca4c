"""Checkpoints of `gan-lightning fit` hold the model's config (for ``load_from_checkpoint``), but resuming with
``--ckpt_path`` builds the model from the config and command line, not from those saved hyper-parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_lightning.cli import GANCLI, main
from tests.helpers import fit_config, tiny_ring_config


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("run")
    checkpoint = fit_config(tiny_ring_config(64, 32, max_steps=4), folder)
    assert torch.load(checkpoint, weights_only=True)["hyper_parameters"]["n_critic"] == 1
    return folder / "config_under_test.yaml", checkpoint


def test_resuming_takes_the_command_line_over_the_checkpoints_hparams(
    run: tuple[Path, Path], tmp_path: Path
) -> None:
    config, checkpoint = run
    cli = GANCLI(
        args=[
            "fit", "--config", str(config), "--ckpt_path", str(checkpoint), "--model.n_critic", "2",
            "--model.real_label", "0.9",
            "--trainer.max_steps", "6", "--trainer.logger", "false", "--trainer.default_root_dir", str(tmp_path),
        ]
    )  # fmt: skip
    assert cli.model.n_critic == 2
    assert cli.model.real_label == 0.9


def test_a_checkpoint_of_another_variant_still_fails_in_one_line(
    run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, checkpoint = run
    with pytest.raises(SystemExit) as exit_info:
        main([
            "fit", "--config", str(config), "--ckpt_path", str(checkpoint),
            "--model.class_path", "gan_lightning.variants.WGANGP", "--trainer.max_steps", "6",
            "--trainer.logger", "false", "--trainer.default_root_dir", str(tmp_path),
        ])  # fmt: skip
    assert exit_info.value.code == 2
    assert "written by a NSGAN model, but the config builds WGANGP" in capsys.readouterr().err
