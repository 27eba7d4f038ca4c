"""`gan-lightning real-floor`: the metrics a perfect generator would reach, to read a model's numbers against.

Two random halves of the real images, not the first against the second: MNIST's test set is ordered (its
first 5,000 digits are cleaner than the last 5,000), so fixed halves would overstate the floor.
"""

from __future__ import annotations

from pathlib import Path

from gan_lightning.commands import command_parser, metric_list
from gan_lightning.evaluator import format_table, real_vs_real, write_report
from gan_lightning.metrics.image import build_feature_extractor


def main(argv: list[str]) -> dict[str, float]:
    """`gan-lightning real-floor`: metrics between two random halves of the real MNIST images."""
    from gan_lightning.data.mnist import load_mnist

    parser = command_parser("real-floor", main.__doc__)
    parser.add_argument("--data", required=True, help="folder of MNIST IDX files")
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument(
        "--image_metrics", default=None, help="subset of fid,kid,is,pr,classes (default: all; classes: lenet)"
    )
    parser.add_argument("--feature_extractor", default="lenet", choices=["lenet", "inception"])
    parser.add_argument("--feature_extractor_weights", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="output path without suffix (JSON + Markdown)")
    args = parser.parse_args(argv)
    loaded = load_mnist(args.data, args.split)
    if loaded is None:
        raise FileNotFoundError(f"MNIST {args.split} split not found in {args.data}")
    images = loaded[0].float() / 127.5 - 1
    extractor = build_feature_extractor(args.feature_extractor, args.feature_extractor_weights)
    default = "fid,kid,is,pr" + (",classes" if args.feature_extractor == "lenet" else "")
    results = real_vs_real(images, extractor, metric_list(args.image_metrics or default), args.seed)
    title = (
        f"real vs real: random halves of {len(images)} MNIST {args.split} images ({args.feature_extractor})"
    )
    if args.out:
        write_report(
            results, {"data": args.data, "split": args.split, "seed": args.seed}, Path(args.out), title
        )
    else:
        print(format_table(results, title))
    return results
