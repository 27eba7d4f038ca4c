"""The library's own subcommands of ``gan-lightning`` (besides LightningCLI's fit / validate / ...).

Each command is a module with ``main(argv)`` taking the arguments after its name; :data:`COMMANDS` maps a
name to ``"module:function"`` and ``gan_lightning.cli.main`` imports a command only when it runs, so a fit
never pays for the commands' imports::

    gan-lightning evaluate --ckpt_path runs/x/version_0/checkpoints/last.ckpt [--config CONFIG]
    gan-lightning sample --ckpt_path CKPT --n 64 --out grid.png        (or --out samples.npz)
    gan-lightning train-evaluator --data ../shared/data/mnist --out evaluator.pt
    gan-lightning real-floor --data ../shared/data/mnist
    gan-lightning theory [--all]
"""

from __future__ import annotations

import argparse

COMMANDS: dict[str, str] = {
    "evaluate": "gan_lightning.commands.evaluate:main",
    "sample": "gan_lightning.commands.sample:main",
    "train-evaluator": "gan_lightning.commands.train_evaluator:main",
    "real-floor": "gan_lightning.commands.real_floor:main",
    "theory": "gan_lightning.theory.cli:main",
}


def metric_list(text: str) -> list[str]:
    """``"fid, kid"`` -> ``["fid", "kid"]``."""
    return [m.strip() for m in text.split(",") if m.strip()]


def boolean(text: str) -> bool:
    """``true`` / ``false`` (any case, also 1/0, yes/no) as argparse's ``type``."""
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def add_weights_only_argument(parser: argparse.ArgumentParser) -> None:
    """``--weights_only`` of the commands that read a checkpoint (true: refuse pickled objects)."""
    parser.add_argument(
        "--weights_only",
        type=boolean,
        default=True,
        metavar="{true,false}",
        help="false: load a trusted checkpoint with pickled objects",
    )
