"""Image data errors through the command line: the one line it prints (the data modules: tests/unit/test_data_images.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_lightning.cli import main
from tests.helpers import MNIST_CONFIG


def test_cli_prints_the_missing_mnist_files_in_one_line(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(
            [
                "fit",
                "--config",
                str(MNIST_CONFIG),
                "--data.data_dir",
                str(tmp_path / "none"),
                "--data.download",
                "false",
                "--trainer.default_root_dir",
                str(tmp_path),
            ]
        )
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gan-lightning: error")]
    assert len(lines) == 1 and "MNIST train split not found" in lines[0]
