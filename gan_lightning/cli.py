"""`gan-lightning`: LightningCLI for every variant, plus the library's own subcommands.

    gan-lightning fit --config configs/toy/wgan_gp_ring.yaml
    gan-lightning fit --print_config --config configs/mnist/nsgan.yaml
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import lightning as L
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.cli import LightningCLI

import gan_lightning.data  # noqa: F401 - registers the data modules for short class names
import gan_lightning.networks  # noqa: F401
import gan_lightning.variants  # noqa: F401
from gan_lightning.callbacks import RunSummary, SampleGrid, SaveConfigToLoggers
from gan_lightning.evaluation import Evaluation
from gan_lightning.module import GANModule

# Subcommands that are not Lightning's: name -> "module:function" taking the remaining arguments.
COMMANDS: dict[str, str] = {}
COMMANDS["evaluate"] = "gan_lightning.evaluation:evaluate_command"
COMMANDS["sample"] = "gan_lightning.evaluation:sample_command"
COMMANDS["train-evaluator"] = "gan_lightning.evaluation:train_evaluator_command"
COMMANDS["real-floor"] = "gan_lightning.evaluation:real_floor_command"

TRAINER_DEFAULTS = {
    "default_root_dir": "runs",
    "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": "runs", "name": "gan"}},
}


class GANCLI(LightningCLI):
    """LightningCLI in subclass mode for the model (a GANModule) and the data (any LightningDataModule)."""

    def __init__(self, args: list[str] | None = None, run: bool = True) -> None:
        super().__init__(
            GANModule,
            L.LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            trainer_defaults=TRAINER_DEFAULTS,
            save_config_callback=SaveConfigToLoggers,
            save_config_kwargs={"overwrite": True},
            auto_configure_optimizers=False,
            args=args,
            run=run,
        )

    def add_arguments_to_parser(self, parser) -> None:  # noqa: ANN001
        parser.add_lightning_class_args(SampleGrid, "sample_grid")
        parser.add_lightning_class_args(RunSummary, "run_summary")
        parser.add_lightning_class_args(Evaluation, "evaluation")

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        trainer = config.trainer
        # DDP must tolerate the network that does not step in a phase (its parameters get no gradient).
        if trainer.strategy == "ddp":
            trainer.strategy = "ddp_find_unused_parameters_true"
        # Name the run after its config file (configs/toy/wgan_gp_ring.yaml -> runs/wgan_gp_ring/version_N).
        logger = trainer.logger
        paths = config.get("config") or []
        if paths and hasattr(logger, "init_args") and logger.init_args.get("name") == "gan":
            logger.init_args.name = Path(str(paths[0])).stem


def _debug_wanted(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("GAN_LIGHTNING_DEBUG", "") not in ("", "0")


def main(args: list[str] | None = None) -> None:
    """Entry point of `gan-lightning` and `python -m gan_lightning`; `args` replaces sys.argv[1:] in tests."""
    argv = list(sys.argv[1:] if args is None else args)
    debug = _debug_wanted(argv)
    argv = [a for a in argv if a != "--debug"]
    try:
        if argv and argv[0] in COMMANDS:
            module, function = COMMANDS[argv[0]].split(":")
            getattr(importlib.import_module(module), function)(argv[1:])
        else:
            GANCLI(args=argv)
    except (ValueError, FileNotFoundError, FloatingPointError, RuntimeError, MisconfigurationException) as error:
        if debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"gan-lightning: error: {message} (run with --debug for the traceback)", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
