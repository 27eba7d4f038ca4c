"""`gan-lightning theory`: run the theory checks, print the table, write the figures.

    gan-lightning theory                      # the fast checks (seconds each), figures in runs/theory/
    gan-lightning theory --all                # the full versions (a few minutes in all)
    gan-lightning theory --only jsd_vs_w1 bilinear_game --out docs/figures
    gan-lightning theory --markdown           # the same table as Markdown (docs/theory.md, the README)

Exit status 1 if any check fails.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import torch

from gan_lightning.commands import command_parser
from gan_lightning.theory import CHECKS, CheckResult

COLUMNS = ("claim", "closed form", "measured", "tolerance", "pass")
WIDTHS = (36, 44, 48, 24, 4)


def _cells(result: CheckResult) -> tuple[str, ...]:
    return (
        result.claim,
        result.closed_form,
        result.measured,
        result.tolerance,
        "yes" if result.passed else "NO",
    )


def text_table(results: list[CheckResult]) -> str:
    """The results as a fixed-width table, long cells wrapped inside their column."""

    def block(cells: tuple[str, ...]) -> list[str]:
        wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, WIDTHS, strict=True)]
        height = max(len(w) for w in wrapped)
        return [
            "  ".join(
                (w[i] if i < len(w) else "").ljust(width) for w, width in zip(wrapped, WIDTHS, strict=True)
            ).rstrip()
            for i in range(height)
        ]

    rule = "  ".join("-" * w for w in WIDTHS)
    lines = block(COLUMNS) + [rule]
    for result in results:
        lines += block(_cells(result))
    return "\n".join(lines)


def markdown_table(results: list[CheckResult]) -> str:
    """The results as a Markdown table (pipes inside cells escaped)."""

    def row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [row(COLUMNS), "|" + "---|" * len(COLUMNS)]
    lines += [row(_cells(r)[:-1] + ("pass" if r.passed else "**FAIL**",)) for r in results]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Entry point of `gan-lightning theory`; `argv` are the arguments after `theory`."""
    parser = command_parser(
        "theory", "Check the GAN theory numerically on 1D densities: one row per claim, figures as PNG."
    )
    parser.add_argument("--all", action="store_true", help="run the full versions (slow: minutes in all)")
    parser.add_argument("--out", default="runs/theory", help="figures folder")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", choices=list(CHECKS), help="run only these checks"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--details", action="store_true", help="also print every sub-measurement")
    args = parser.parse_args(argv)

    # The checks are tiny 1D problems: more threads only add overhead (and the machines are shared).
    torch.set_num_threads(1)
    start = time.perf_counter()
    results = [CHECKS[name](full=args.all, out=Path(args.out)) for name in (args.only or CHECKS)]
    total = time.perf_counter() - start

    print(markdown_table(results) if args.markdown else text_table(results))
    print()
    if args.details:
        for result in (r for r in results if r.details):
            print(f"{result.name}:" if not args.markdown else f"- `{result.name}`:")
            for line in result.details:
                print(f"    {line}" if not args.markdown else f"    - {line}")
        print()
    figures = [f for result in results for f in result.figures]
    print("figures: " + ", ".join(figures))
    failed = [r.name for r in results if not r.passed]
    version = "full (--all)" if args.all else "fast"
    print(
        f"{len(results) - len(failed)}/{len(results)} checks passed ({version}, {total:.0f} s)"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    sys.stdout.flush()
    if failed:
        raise SystemExit(1)
