"""The command line: config round trip, subcommands, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gan_lightning.cli import GANCLI, main
from tests.helpers import RING_CONFIG

RING = str(RING_CONFIG)


def test_print_config_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--print_config", "--config", RING])
    assert exit_info.value.code in (0, None)
    printed = capsys.readouterr().out
    config = yaml.safe_load(printed)
    assert config["model"]["class_path"] == "gan_lightning.variants.WGANGP"
    assert (
        config["model"]["init_args"]["gp_weight"]
        == yaml.safe_load(Path(RING).read_text())["model"]["init_args"]["gp_weight"]
    )
    (tmp_path / "printed.yaml").write_text(printed)
    main(["fit", "--config", str(tmp_path / "printed.yaml"), "--trainer.fast_dev_run", "1"])
    assert (tmp_path / "runs" / "samples" / "final.png").is_file()


def test_runs_are_named_after_their_config() -> None:
    cli = GANCLI(args=["--config", RING, "--trainer.max_steps", "1"], run=False)
    assert Path(cli.trainer.log_dir).parts[-2:-1] == ("wgan_gp_ring",)


def test_plain_ddp_strategy_tolerates_the_idle_network_of_each_phase() -> None:
    cli = GANCLI(
        args=[
            "--config",
            RING,
            "--trainer.strategy",
            "ddp",
            "--trainer.devices",
            "1",
            "--trainer.accelerator",
            "cpu",
        ],
        run=False,
    )
    assert cli.trainer.strategy._ddp_kwargs.get("find_unused_parameters") is True


@pytest.mark.parametrize("flag", ["--trainer.gradient_clip_val=1.0", "--trainer.accumulate_grad_batches=2"])
def test_trainer_flags_manual_optimisation_refuses_give_one_line_errors(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", RING, "--trainer.fast_dev_run", "1", flag])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("gan-lightning: error:") and "manual optimization" in err[-1], err


def test_module_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gan_lightning", "fit", "--model.help", "WGANGP"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for parameter in ("--model.gp_weight", "--model.n_critic", "--model.g_optimizer", "--model.d_scheduler"):
        assert parameter in done.stdout


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from gan_lightning.commands import COMMAND_HELP, COMMANDS

    assert set(COMMAND_HELP) >= set(COMMANDS)  # every library command has its line in --help
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code in (0, None)
    printed = capsys.readouterr().out
    for name in ["fit", "validate", "test", "predict", *COMMANDS]:
        assert f"    {name} " in printed, name


def test_a_mistyped_command_names_the_closest_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["evalute", "--ckpt_path", "x.ckpt"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "unknown command 'evalute'; did you mean evaluate or validate?" in error


def test_fit_gives_no_warning_about_lightningclis_args(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "gan_lightning.cli",
            "fit",
            "--config",
            RING,
            "--trainer.fast_dev_run",
            "1",
            "--trainer.default_root_dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "args parameter" not in run.stderr + run.stdout


def test_model_help_lists_the_librarys_networks_not_every_torch_module(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["fit", "--model.help", "WGANGP"])
    printed = capsys.readouterr().out
    assert "gan_lightning.networks.DCGANGenerator" in printed and "--model.gp_weight" in printed
    assert "torch.nn.Bilinear" not in printed and "others, e.g. torch.nn.Module" in printed
    assert len(printed.splitlines()) < 250  # was 1,619 lines


@pytest.mark.parametrize("text", ["fid,kid", "fid, kid", "[fid,kid]", '["fid", "kid"]'])
def test_metric_lists_take_the_commands_and_fits_syntax(text: str) -> None:
    from gan_lightning.commands import metric_list

    assert metric_list(text) == ["fid", "kid"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sample"], "the following arguments are required: ckpt_path"),
        (["sample", "--ckpt_path", "x.ckpt", "--n", "abc"], "n: expected int, got 'abc'"),
        (["evaluate", "--ckpt_path", "x.ckpt", "--bogus", "1"], "unrecognized arguments: --bogus 1"),
        (["export", "--ckpt_path", "x.ckpt", "--weights_only", "maybe"], "--weights_only"),
    ],
)
def test_the_librarys_commands_parse_like_fit_and_fail_in_one_line(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    error = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(error.splitlines()) == 1, error
    assert expected in error, error
