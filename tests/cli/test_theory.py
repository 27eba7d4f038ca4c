"""The theory command (`gan-lightning theory`, gan_lightning.theory.cli): table, figures, exit codes."""

from __future__ import annotations

import pytest

from gan_lightning.cli import COMMANDS
from gan_lightning.cli import main as cli_main
from gan_lightning.theory import CHECKS, CheckResult
from gan_lightning.theory.cli import main, markdown_table

pytestmark = pytest.mark.usefixtures("one_thread")


def test_command_prints_markdown_and_writes_figures(tmp_path, capsys):
    main(["--only", "jsd_vs_w1", "bilinear_game", "--out", str(tmp_path), "--markdown", "--details"])
    out = capsys.readouterr().out
    assert out.startswith("| claim | closed form | measured | tolerance | pass |\n|---|---|---|---|---|\n")
    assert "| 3. disjoint supports" in out and out.count(" | pass |\n") == 3  # the header and two rows
    assert "\\|" in out  # the pipes of |W1 - s| are escaped
    assert "2/2 checks passed (fast" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bilinear_game.png", "jsd_vs_w1.png"]


def test_command_exits_1_when_a_check_fails(monkeypatch, capsys):
    failing = CheckResult("broken", "0. a claim", "1", "2", "0", passed=False)
    monkeypatch.setitem(CHECKS, "bilinear_game", lambda full, out: failing)
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "bilinear_game"])
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "NO" in out and "failed: broken" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "nope"], "argument --only: invalid choice: 'nope' (choose from 'optimal_discriminator',"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_command_rejects_bad_arguments_in_one_line(args, message, capsys):
    # One syntax and one error style with the other commands (jsonargparse's parser, gan_lightning.commands).
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["theory", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"gan-lightning: error: {message}") and len(err.splitlines()) == 1


def test_registered_as_a_gan_lightning_subcommand(tmp_path, capsys):
    assert COMMANDS["theory"] == "gan_lightning.theory.cli:main"
    cli_main(["theory", "--only", "bilinear_game", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["claim", "closed", "form", "measured", "tolerance", "pass"]
    assert (tmp_path / "bilinear_game.png").exists()


def test_markdown_table_escapes_pipes():
    result = CheckResult("x", "a | b", "c", "d", "e", passed=True)
    assert markdown_table([result]).splitlines()[-1] == "| a \\| b | c | d | e | pass |"
