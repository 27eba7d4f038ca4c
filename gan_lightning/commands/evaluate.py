"""`gan-lightning evaluate`: the metrics of a checkpoint (see :mod:`gan_lightning.evaluator`)."""

from __future__ import annotations

import posixpath

from torch import Tensor

from gan_lightning.callbacks.progress import progress_bar
from gan_lightning.commands import add_weights_only_argument, command_parser, metric_list
from gan_lightning.evaluator import (
    NUM_REAL_IMAGES,
    Evaluator,
    default_num_generated,
    is_image_model,
    real_dataset,
    resolve_extractor,
    write_report,
)
from gan_lightning.metrics.mode_coverage import NUM_POINTS
from gan_lightning.networks.conditional import self_conditioned
from gan_lightning.paths import as_path, join, parent
from gan_lightning.runs import load_run, resolve_device


def main(argv: list[str]) -> dict[str, float]:
    """`gan-lightning evaluate`: metrics of a checkpoint, printed and saved as JSON and Markdown."""
    parser = command_parser("evaluate", main.__doc__)
    parser.add_argument("--ckpt_path", required=True, help="checkpoint of a GANModule")
    parser.add_argument("--config", default=None, help="the run's config (default: <run>/config.yaml)")
    parser.add_argument(
        "--num_generated",
        type=int,
        default=None,
        help="default: 10000 images (Stacked MNIST: 26000) / 2500 points",
    )
    parser.add_argument("--num_real", type=int, default=NUM_REAL_IMAGES)
    parser.add_argument(
        "--image_metrics",
        default=None,
        help="comma-separated subset of fid,kid,is,pr,classes,label_accuracy (default: all; classes with "
        "the LeNet only, label_accuracy with the LeNet and a conditional model)",
    )
    parser.add_argument("--feature_extractor", default="auto", choices=["auto", "lenet", "inception"])
    parser.add_argument(
        "--feature_extractor_weights", default=None, help="local weights file of the extractor"
    )
    parser.add_argument("--batch_size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--out", default=None, help="output path without suffix (default: next to the checkpoint)"
    )
    add_weights_only_argument(parser)
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (none is shown outside a terminal)"
    )
    args = parser.parse_args(argv)

    module, datamodule = load_run(args.ckpt_path, args.config, resolve_device(args.device), args.weights_only)
    datamodule.prepare_data()
    datamodule.setup("fit")
    evaluator = Evaluator(
        metric_list(args.image_metrics or default_image_metrics(module, args.feature_extractor, datamodule)), args.num_generated, args.num_real, args.feature_extractor,
        args.feature_extractor_weights, args.batch_size, args.seed,
    )  # fmt: skip
    image = is_image_model(module)
    num_generated = args.num_generated or (default_num_generated(datamodule) if image else NUM_POINTS)
    with progress_bar(num_generated, "evaluate: generated", "sample", args.quiet) as bar:
        # Counts what the generator makes (the real set's features are extracted first, before any).
        def count(_net: object, _inputs: object, output: Tensor) -> None:  # None: the output stays
            bar.update(min(len(output), num_generated - bar.n))

        counting = module.sampling_generator().register_forward_hook(count)
        try:
            results = evaluator.evaluate(module, datamodule)
        finally:
            counting.remove()
    ckpt = as_path(args.ckpt_path)  # a URL stays one (pathlib would collapse its //)
    info = {
        "checkpoint": str(ckpt),
        "generator_steps": getattr(module, "generator_steps", None),
        "ema": module.ema_generator is not None,
        "feature_extractor": evaluator.extractor_name,
        "num_generated": num_generated,
        "num_real": min(args.num_real, len(real_dataset(datamodule))) if image else None,
    }
    name = posixpath.basename(str(ckpt))
    title = name + (f" ({evaluator.extractor_name} features)" if image else "")
    out = as_path(args.out) if args.out else join(parent(ckpt), f"{posixpath.splitext(name)[0]}_metrics")
    write_report(results, info, out, title)
    return results


def default_image_metrics(module: object, feature_extractor: str, datamodule: object = None) -> str:
    """Every image metric; the predicted-class histogram only where the extractor classifies the data (LeNet:
    MNIST's digits, and Stacked MNIST's modes channel by channel), and the label accuracy only where it also
    reads the one label of a conditional model's image (LeNet, one-channel images)."""
    shape = tuple(getattr(module.generator, "out_shape", None) or module.generate(1).shape[1:])
    lenet = resolve_extractor(feature_extractor, shape, datamodule) == "lenet"
    labelled = lenet and bool(module.num_classes) and not self_conditioned(module.generator) and shape[0] == 1
    return "fid,kid,is,pr" + (",classes" if lenet else "") + (",label_accuracy" if labelled else "")
