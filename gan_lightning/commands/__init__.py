"""The library's own subcommands of ``gan-lightning`` (besides LightningCLI's fit / validate / ...).

Each command is a module with ``main(argv)`` taking the arguments after its name; :data:`COMMANDS` maps a
name to ``"module:function"`` and ``gan_lightning.cli.main`` imports a command only when it runs, so a fit
never pays for the commands' imports::

    gan-lightning evaluate --ckpt_path runs/x/version_0/checkpoints/last.ckpt [--config CONFIG]
    gan-lightning sample --ckpt_path CKPT --n 64 --out grid.png        (or --out samples.npz)
    gan-lightning export --ckpt_path CKPT --format safetensors         (or torchscript, onnx)
    gan-lightning train-evaluator --data ../shared/data/mnist --out evaluator.pt
    gan-lightning real-floor --data ../shared/data/mnist
    gan-lightning theory [--all]
"""

from __future__ import annotations

from jsonargparse import ArgumentParser

COMMANDS: dict[str, str] = {
    "evaluate": "gan_lightning.commands.evaluate:main",
    "sample": "gan_lightning.commands.sample:main",
    "export": "gan_lightning.commands.export:main",
    "train-evaluator": "gan_lightning.commands.train_evaluator:main",
    "real-floor": "gan_lightning.commands.real_floor:main",
    "theory": "gan_lightning.theory.cli:main",
}

#: One line each for `gan-lightning --help` (kept here so that a fit does not import the commands).
COMMAND_HELP: dict[str, str] = {
    "evaluate": "Metrics of a checkpoint (FID/KID/IS/precision-recall/classes, or mode coverage), as JSON and Markdown.",
    "sample": "Samples of a checkpoint as a grid or .npz: truncation, interpolation paths, one class per row.",
    "export": "The sampling generator of a checkpoint as safetensors, TorchScript or ONNX.",
    "train-evaluator": "Train the LeNet feature extractor of the image metrics on MNIST.",
    "real-floor": "The metrics of real data against real data: the floor a generator is measured against.",
    "theory": "Run the theory's claims as measured checks.",
}


def metric_list(text: str) -> list[str]:
    """``"fid, kid"`` or fit's list syntax ``"[fid,kid]"`` -> ``["fid", "kid"]``."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [m.strip().strip("'\"") for m in text.split(",") if m.strip()]


def boolean(text: str | bool) -> bool:
    """``true`` / ``false`` (any case, also 1/0, yes/no) as a parser's ``type``."""
    if isinstance(text, bool):  # jsonargparse checks the default too
        return text
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def command_parser(name: str, description: str | None) -> ArgumentParser:
    """The parser of `gan-lightning <name>`: jsonargparse's, as LightningCLI's subcommands use, so every command
    reads its values alike (``--image_metrics [fid,kid]``) and a wrong argument raises (``main`` prints it in one
    line) instead of printing the usage."""
    return ArgumentParser(prog=f"gan-lightning {name}", description=description, exit_on_error=False)


def add_weights_only_argument(parser: ArgumentParser) -> None:
    """``--weights_only`` of the commands that read a checkpoint (true: refuse pickled objects)."""
    parser.add_argument(
        "--weights_only",
        type=boolean,
        default=True,
        metavar="{true,false}",
        help="false: load a trusted checkpoint with pickled objects",
    )
