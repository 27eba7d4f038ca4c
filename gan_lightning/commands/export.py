"""`gan-lightning export`: the sampling generator of a checkpoint (EMA weights if kept, eval mode) as one file.

- ``safetensors``: the weights, with the generator's class path and init args in the metadata;
  ``gan_lightning.load_generator("G.safetensors")`` rebuilds it.
- ``torchscript``: ``torch.jit.trace`` of ``G(z)`` (``G(z, labels)`` for a conditional generator);
  ``torch.jit.load`` runs it without gan-lightning.
- ``onnx``: ``torch.onnx.export`` (the torch.export-based exporter) with a dynamic batch axis; inputs ``z``
  (and ``labels``, int64), output ``samples``.

--ckpt_path and --out may be fsspec URLs (s3://..., memory://...); a remote file is written locally first,
then uploaded.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from gan_lightning.commands import add_weights_only_argument, command_parser
from gan_lightning.loading import generator_config, load_generator, save_safetensors_generator
from gan_lightning.paths import PathOrURL, as_path, with_suffix, writing

#: Format -> the suffix of the default output file.
SUFFIXES = {"safetensors": ".safetensors", "torchscript": ".pt", "onnx": ".onnx"}


def main(argv: list[str]) -> PathOrURL:
    """`gan-lightning export`: the sampling generator of a checkpoint as safetensors, TorchScript or ONNX."""
    parser = command_parser("export", main.__doc__)
    parser.add_argument("--ckpt_path", required=True, help="checkpoint of a GANModule")
    parser.add_argument("--config", default=None, help="the run's config (default: <run>/config.yaml)")
    parser.add_argument("--format", required=True, help="safetensors, torchscript or onnx")
    parser.add_argument(
        "--out", default=None, help="output file (default: the checkpoint's, with .safetensors/.pt/.onnx)"
    )
    add_weights_only_argument(parser)
    args = parser.parse_args(argv)
    # Checked here rather than by argparse's choices, whose error prints the whole usage.
    if args.format not in SUFFIXES:
        raise ValueError(f"--format must be one of {', '.join(SUFFIXES)}, got {args.format!r}")
    out = as_path(args.out) if args.out else with_suffix(args.ckpt_path, SUFFIXES[args.format])

    generator = load_generator(args.ckpt_path, args.config, "cpu", args.weights_only)
    if args.format == "safetensors":
        save_safetensors_generator(
            generator, generator_config(args.ckpt_path, args.config, args.weights_only), out
        )
    elif args.format == "torchscript":
        # torch 2.14 marks tracing deprecated (a FutureWarning); the file still loads.
        with warnings.catch_warnings(), writing(out) as local:
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.save(torch.jit.trace(generator, example_inputs(generator)), str(local))
    else:
        with writing(out) as local:
            export_onnx(generator, local)
    print(f"Saved the generator ({args.format}) to {out}")
    return out


def example_inputs(generator: nn.Module, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Seeded ``(z,)``, or ``(z, labels)`` for a conditional generator, to trace ``generator`` with; a batch of 2,
    since torch.export specialises a batch axis of size 1."""
    z = torch.randn(batch, generator.latent_dim, generator=torch.Generator().manual_seed(0))
    num_classes = int(getattr(generator, "num_classes", 0) or 0)
    return (z, torch.arange(batch) % num_classes) if num_classes else (z,)


def export_onnx(generator: nn.Module, out: Path) -> None:
    """``generator`` as one ONNX file (weights inside) whose inputs and output have a dynamic batch axis."""
    inputs = example_inputs(generator)
    names = ["z", "labels"][: len(inputs)]
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings():  # z and labels share the axis "batch": torch warns that it names it once
        warnings.filterwarnings("ignore", "# The axis name: batch will not be used", UserWarning)
        torch.onnx.export(
            generator,
            inputs,
            str(out),
            input_names=names,
            output_names=["samples"],
            dynamic_shapes=tuple({0: batch} for _ in inputs),
            dynamo=True,  # the legacy TorchScript exporter is deprecated
            external_data=False,  # one file: a generator is far below ONNX's 2 GB limit
            verbose=False,
        )
