"""`gan-lightning train-evaluator`: the MNIST LeNet whose features FID/KID use for one-channel images."""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import torch

from gan_lightning.callbacks.progress import progress_bar
from gan_lightning.commands import command_parser


def main(argv: list[str]) -> float:
    """`gan-lightning train-evaluator`: train the MNIST LeNet extractor and report its test accuracy."""
    from gan_lightning.data.mnist import load_mnist
    from gan_lightning.metrics.lenet import LeNet, accuracy, save_lenet, train_lenet

    parser = command_parser("train-evaluator", main.__doc__)
    parser.add_argument("--data", required=True, help="folder of MNIST IDX files (train and/or t10k)")
    parser.add_argument("--out", default="evaluator.pt", help="where to save the weights")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument(
        "--holdout", type=int, default=2000, help="test images held out when only one split exists"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (none is shown outside a terminal)"
    )
    args = parser.parse_args(argv)

    train, test = load_mnist(args.data, "train"), load_mnist(args.data, "test")
    if train is None and test is None:
        raise FileNotFoundError(f"no MNIST IDX files (train-* or t10k-*) in {args.data}")
    if train is None or test is None:  # one split: a seeded part of it is held out for the accuracy
        images, labels = train or test
        if not 0 < args.holdout < len(images):
            raise ValueError(f"--holdout must be between 1 and {len(images) - 1}, got {args.holdout}")
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(args.seed))
        fit_idx, test_idx = order[: -args.holdout], order[-args.holdout :]
        train, test = (images[fit_idx], labels[fit_idx]), (images[test_idx], labels[test_idx])
        source = (
            f"{len(fit_idx)} images of {args.data}, tested on the other {len(test_idx)} (seed {args.seed})"
        )
    else:
        source = f"the train split of {args.data} ({len(train[0])} images), tested on its t10k split"
    batch_size = inspect.signature(train_lenet).parameters["batch_size"].default
    steps = args.epochs * math.ceil(len(train[0]) / batch_size)
    with progress_bar(steps, "train-evaluator", "step", args.quiet) as bar:
        # One training step = one forward pass of the LeNet in train mode.
        def count(net: torch.nn.Module, _inputs: object, _output: object) -> None:  # None: the output stays
            if isinstance(net, LeNet) and net.training:
                bar.update(1)

        counting = torch.nn.modules.module.register_module_forward_hook(count)
        try:
            model = train_lenet(*train, epochs=args.epochs, batch_size=batch_size, seed=args.seed)
        finally:
            counting.remove()
    acc = accuracy(model, *test)
    save_lenet(model, args.out, accuracy=acc, trained_on=source)
    size_kb = Path(args.out).stat().st_size / 1024
    print(f"LeNet test accuracy: {100 * acc:.2f}% on {len(test[0])} images; trained on {source}")
    print(f"Saved {args.out} ({size_kb:.0f} KB)")
    return acc
