"""`gan-lightning`: LightningCLI for every variant, plus the library's own subcommands.

The library's commands (evaluate, sample, train-evaluator, real-floor, theory) live in
:mod:`gan_lightning.commands` and are imported only when they run.

gan-lightning fit --config configs/toy/wgan_gp_ring.yaml
gan-lightning fit --print_config --config configs/mnist/nsgan.yaml

Every Trainer the CLI builds writes its checkpoints atomically (``AtomicCheckpointIO``) and answers SIGTERM /
SIGUSR1 with a checkpoint and exit status 143 / 138 (``SignalCheckpoint``); see docs/scaling.md.

Where a run goes: ``--trainer.default_root_dir DIR`` (default ``runs``) moves the whole run (logs, checkpoints,
samples, config.yaml) unless the logger is given a ``save_dir`` of its own (one other than ``runs``). The run's
``version_N`` folder is claimed atomically before anything is written (:func:`claim_version`), so runs started
together with the same root never share one.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
import signal
import sys
import warnings
from argparse import ArgumentError
from pathlib import Path

import lightning as L
from jsonargparse import ArgumentParser
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from yaml import YAMLError, safe_load

from gan_lightning._lightning_compat import concise_subclass_help
from gan_lightning.callbacks import (
    Evaluation,
    Preflight,
    RunSummary,
    SampleGrid,
    SaveConfigToLoggers,
    SignalCheckpoint,
)
from gan_lightning.callbacks.progress import EpochLines
from gan_lightning.checkpoints import load_checkpoint, use_atomic_checkpoint_io
from gan_lightning.commands import COMMAND_HELP, COMMANDS  # subcommands that are not Lightning's
from gan_lightning.module import GANModule
from gan_lightning.paths import as_path, is_url
from gan_lightning.registry import known_classes  # importing it registers the short class names
from gan_lightning.signals import StopSignal, exit_code

# Parse errors raise (main() prints them in one line) instead of printing the whole usage.
PARSER_KWARGS = {
    "exit_on_error": False,
    **{name: {"exit_on_error": False} for name in LightningCLI.subcommands()},
}

DEFAULT_ROOT = "runs"  # a logger save_dir of this value follows --trainer.default_root_dir

TRAINER_DEFAULTS = {
    "default_root_dir": DEFAULT_ROOT,
    "logger": {
        "class_path": "lightning.pytorch.loggers.CSVLogger",
        "init_args": {"save_dir": DEFAULT_ROOT, "name": "gan"},
    },
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
            parser_kwargs=PARSER_KWARGS,
            args=args,
            run=run,
        )

    def _parse_ckpt_path(self) -> None:
        # LightningCLI reads --ckpt_path while parsing: a missing, damaged or foreign file fails in one line.
        subcommand = self.config.get("subcommand")
        path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if path and path not in ("last", "best", "hpc", "registry"):  # local paths and fsspec URLs
            load_checkpoint(path, weights_only=self.config[subcommand].get("weights_only") is not False)
        # No super(): LightningCLI's would let the checkpoint's hparams override the config and command line.

    # LightningCLI runs self.<subcommand> where it exists: a GAN is validated and tested by its generator's
    # metrics and predicts samples (gan_lightning.lightning_commands), not by loops over the data.
    def validate(self, model, datamodule=None, ckpt_path=None, **_ignored) -> list[dict[str, float]]:
        from gan_lightning.lightning_commands import evaluate_phase

        return evaluate_phase("validate", self.trainer, model, datamodule, ckpt_path)

    def test(self, model, datamodule=None, ckpt_path=None, **_ignored) -> list[dict[str, float]]:
        from gan_lightning.lightning_commands import evaluate_phase

        return evaluate_phase("test", self.trainer, model, datamodule, ckpt_path)

    def predict(self, model, datamodule=None, ckpt_path=None, **_ignored) -> Path:
        from gan_lightning.lightning_commands import predict_phase

        return predict_phase(self.trainer, model, ckpt_path)

    def init_parser(self, **kwargs):  # LightningCLI's signature
        concise_subclass_help()  # `--model.help WGANGP`: the library's networks, not every nn.Module in torch
        return super().init_parser(**kwargs)

    def _add_subcommands(self, parser, **kwargs) -> None:
        # The library's commands run before LightningCLI parses anything (main); they are listed here so that
        # `gan-lightning --help` shows every command.
        super()._add_subcommands(parser, **kwargs)
        for name, target in COMMANDS.items():
            listed = ArgumentParser(prog=f"gan-lightning {name}", description=COMMAND_HELP.get(name, target))
            parser._subcommands_action.add_subcommand(name, listed, help=COMMAND_HELP.get(name, ""))

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_lightning_class_args(SampleGrid, "sample_grid")
        parser.add_lightning_class_args(RunSummary, "run_summary")
        parser.add_lightning_class_args(Evaluation, "evaluation")
        parser.add_lightning_class_args(EpochLines, "progress")  # lines, not a bar, in a log file
        parser.add_lightning_class_args(SignalCheckpoint, "signal_checkpoint")
        parser.add_lightning_class_args(Preflight, "preflight")  # writable folders, free space

    def instantiate_trainer(self, **kwargs):  # LightningCLI's signature
        # The run's version_N folder is claimed (created) before the Trainer exists, so that runs started
        # together with the same root get distinct folders; it is removed again if the Trainer cannot be built.
        trainer_config = self._get(self.config_init, "trainer", default={})
        claimed = _claim_logger_versions(trainer_config.get("logger"))
        given = trainer_config.get("callbacks") or []  # copied: the Trainer appends its own to this list
        given = list(given) if isinstance(given, list | tuple) else [given]
        try:
            trainer = super().instantiate_trainer(**kwargs)
        except BaseException:
            for folder in claimed:
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            raise
        # Checkpoints are written through a temporary file in their folder, then renamed into place.
        use_atomic_checkpoint_io(trainer)
        # Lightning's default checkpoint keeps only epoch=E-step=S.ckpt; the CLI's also keeps last.ckpt, the name
        # that `evaluate`, `sample` and --ckpt_path last resume from, and always overwrites it: Lightning would
        # write last-v1.ckpt instead when a run resumes in its folder spelled another way (relative vs absolute),
        # leaving a stale last.ckpt to resume from. A ModelCheckpoint in the config is left as is.
        default = trainer.checkpoint_callback
        if default is not None and not any(isinstance(c, ModelCheckpoint) for c in given):
            trainer.callbacks[trainer.callbacks.index(default)] = ModelCheckpoint(
                save_last=True, enable_version_counter=False
            )
        return trainer

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
        # A file:// URL is a local folder; given as a URL, Lightning would turn it into file:/... folders.
        root = trainer.get("default_root_dir")
        if root is not None and str(root).startswith("file://"):
            root = trainer.default_root_dir = str(as_path(root))
        if hasattr(logger, "init_args") and str(logger.init_args.get("save_dir")).startswith("file://"):
            logger.init_args.save_dir = str(as_path(logger.init_args.save_dir))
        # --trainer.default_root_dir moves the whole run: a logger whose save_dir is the default follows it.
        if hasattr(logger, "init_args") and root is not None and str(root) != DEFAULT_ROOT:
            if str(logger.init_args.get("save_dir")) == DEFAULT_ROOT:
                logger.init_args.save_dir = str(root)


def claim_version(root: str | os.PathLike) -> int:
    """Create the first free ``root/version_N`` folder and return N.

    ``os.mkdir`` fails if the folder exists, so of several processes that choose the same N only one gets it;
    the others try N + 1 and so on. Lightning's own choice (the next number after those listed) is not atomic.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(m[1]) for p in root.iterdir() if (m := re.fullmatch(r"version_(\d+)", p.name))]
    version = max(taken, default=-1) + 1
    while True:
        try:
            os.mkdir(root / f"version_{version}")
            return version
        except FileExistsError:
            version += 1


def _claim_logger_versions(loggers: object) -> list[Path]:
    """Give every CSV / TensorBoard logger without a version one claimed by :func:`claim_version` (on rank 0;
    the other ranks write nothing there). Returns the folders created."""
    if rank_zero_only.rank != 0:
        return []
    claimed = []
    for logger in loggers if isinstance(loggers, list | tuple) else [loggers]:
        if not isinstance(logger, CSVLogger | TensorBoardLogger) or logger._version is not None:
            continue
        if is_url(logger.root_dir):  # a remote file system (no atomic mkdir): Lightning's own numbering
            continue
        logger._version = claim_version(logger.root_dir)  # read by the loggers' version / log_dir properties
        claimed.append(Path(logger.root_dir) / f"version_{logger._version}")
    return claimed


def _check_command(argv: list[str]) -> None:
    """A first word that is no command: one line with the closest command names (a typo such as `evalute`)."""
    if not argv or argv[0].startswith("-"):
        return
    known = [*LightningCLI.subcommands(), *COMMANDS]
    if argv[0] not in known:
        close = difflib.get_close_matches(argv[0], known, n=2)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ValueError(f"unknown command {argv[0]!r}{hint} (commands: {', '.join(known)})")


def _config_paths(argv: list[str]) -> list[str]:
    """The files given to --config / -c."""
    paths = [value for flag, value in zip(argv, argv[1:], strict=False) if flag in ("--config", "-c")]
    return paths + [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]


def _check_yaml(argv: list[str]) -> None:
    """A config file that is not valid YAML: one line with the file, line and column (jsonargparse would not
    name the file)."""
    for path in _config_paths(argv):
        if not Path(path).is_file():
            continue  # jsonargparse names the missing file itself
        try:
            safe_load(Path(path).read_text())
        except YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ValueError(f"config {path} is not valid YAML{where}: {problem}") from error


# jsonargparse's structure lines around the one line that says what is wrong.
_NOISE = (
    "Does not validate against any of the Union subtypes",
    "Subtypes:",
    "Errors:",
    "Given value type:",
    "Given value:",
    "Expected a <class 'NoneType'>",
    "Problem with given class_path",
    "Not a valid subclass",
)


def _known_classes(key: str) -> str:
    """The short class names a ``class_path`` under ``key`` may take."""
    names = known_classes(key)
    return f"; known: {', '.join(names)}" if names else ""


def one_line(error: BaseException) -> str:
    """The sentence of an error that says what is wrong, with the config key it concerns.

    jsonargparse nests its messages (``Parser key "model":`` / ``Problem with given class_path ...`` / the
    problem); the keys are joined (``model.n_critic``) and the innermost problem is kept, reworded where its
    type names are Python's (``Expected a <class 'int'>``).
    """
    text = str(error).strip()
    if not text:
        return type(error).__name__
    if not any(mark in text for mark in ('Parser key "', *_NOISE)):
        return text.splitlines()[0]  # not jsonargparse's: its first line says it
    keys = re.findall(r'Parser key "([^"]+)"', text)
    if (at := text.find("expects a function or a callable class: Parser key")) >= 0:
        keys.insert(text.count('Parser key "', 0, at), "init_args")  # an optimizer's own argument (its lr)
    classes = re.findall(r"class_path '([^']+)'", text)
    details = []
    for raw in text.splitlines():
        line = raw.strip().lstrip("-").strip()
        if line.startswith('Parser key "'):
            line = line.split('":', 1)[1].strip()
        if line and not line.startswith(_NOISE):
            details.append(line)
    detail = details[-1] if details else text.splitlines()[0]
    key = ".".join(keys)
    given = re.search(r"^\s*Given value: (.*?)(?:\. Got value: .*)?$", text, re.MULTILINE)
    literals = re.findall(r"Expected a typing\.Literal\[(.*?)\]", text)
    if literals and all(line.startswith("Expected a typing.Literal") for line in details):  # a union of them
        allowed = ", ".join(v.strip().strip("'") for group in literals for v in group.split(","))
        detail = f"must be one of {allowed}" + (f"; got {given[1]!r}" if given else "")
    if match := re.match(r"Option '([^']+)' is not accepted", detail):
        key = f"{key}.{match[1]}" if key else match[1]
        where = f" of {classes[-1].rsplit('.', 1)[-1]}" if classes else ""
        detail = f"is not an option{where}" + (
            f" (see `gan-lightning fit --{keys[0]}.help {classes[-1]}`)" if classes and keys else ""
        )
    elif match := re.match(r"Expected a typing\.Literal\[(.*)\]\. Got value: (.*)", detail):  # a single one
        detail = f"must be one of {match[1].replace(chr(39), '')}; got {match[2]!r}"
    elif match := re.match(r"Expected a <class '([\w.]+)'>(?:\. Got value: (.*))?", detail):
        value = match[2] if match[2] is not None else given[1] if given else None
        detail = f"expected {match[1]}" + (f", got {value!r}" if value is not None else "")
    elif (match := re.match(r"Expected a dot import path string: (.*)", detail)) and (
        "Expected a <class 'float'>" in details  # a float or a tensor (an optimizer's lr): no number
    ):
        lr = keys[-1:] == ["lr"]
        detail = f"{'the learning rate must be a finite positive' if lr else 'expected a'} number, got {match[1]!r}"
    elif match := re.search(r"expects a function or a callable class: (.*)", detail):  # e.g. the optimizer
        key = f"{key}.class_path" if key else "class_path"
        detail = f"no class {given[1] if given else match[1]!r}{_known_classes(key)}"
    elif match := re.match(r"Expected a dot import path string: (.*)", detail):
        key = f"{key}.class_path" if key else "class_path"
        detail = f"no class {match[1]!r}{_known_classes(key)}"
    elif classes and ("has no attribute" in detail or "No module named" in detail or "Import path" in detail):
        key = f"{key}.class_path" if key else "class_path"
        detail = f"no class {classes[-1]!r}{_known_classes(key)}"
    if key and not detail.startswith(key):
        return f"{key}: {detail}"
    return detail


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
            _check_command(argv)
            _check_yaml(argv)
            with warnings.catch_warnings():
                # The args given here are sys.argv's own (less --debug): LightningCLI's warning about both is moot.
                warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
                GANCLI(args=argv)
    except StopSignal as stop:  # a checkpoint was written; exit as the signal would have ended the process
        if rank_zero_only.rank == 0:
            print(f"gan-lightning: {stop}", file=sys.stderr)
        raise SystemExit(stop.code) from None
    except SIGTERMException:  # Lightning's: SIGTERM before training began (nothing new to save)
        print("gan-lightning: stopped by SIGTERM before training began; nothing new to save", file=sys.stderr)
        raise SystemExit(exit_code(signal.SIGTERM)) from None
    except (
        ValueError,
        FileNotFoundError,
        FloatingPointError,
        RuntimeError,
        MisconfigurationException,
        ArgumentError,
        OSError,  # e.g. CheckpointWriteError: "could not write checkpoint '...': No space left on device"
    ) as error:
        if debug:
            raise
        message = one_line(error)
        print(f"gan-lightning: error: {message} (run with --debug for the traceback)", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
