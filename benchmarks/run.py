"""Run the benchmarks: ``quick`` (make bench, under 20 minutes on 2 CPU cores) or ``full`` (make bench-full).

quick: the framework overhead (DCGAN 28x28, NS-GAN and WGAN-GP, 4 rounds of 10 generator steps per arm) and a
reduced mode-collapse table (NS-GAN, WGAN-GP and LSGAN on ring and grid, 2 seeds, 1,000 generator steps).
full: the overhead with 10 rounds of 20 steps, the whole mode-collapse table (9 variants, 5 seeds), the shipped
best and fast configs (configs/toy/best_*.yaml, fast_*.yaml, 5 seeds, in one run), the MNIST comparison of six objectives (20 epochs, 3 seeds), the
Stacked MNIST mode table (9 models, 2 epochs of 128,000 images, 3 seeds) and the GPU throughput (skipped with a
message where there is no CUDA device). The best configs and the MNIST and Stacked MNIST runs use the GPU when
there is one; on 2 CPU cores the best configs take about 100 minutes (15 CPU minutes a grid run, 25 a ring run),
the MNIST comparison about 3 hours (18 runs, two at a time) and Stacked MNIST several hours (27 runs).

Every script prints its tables and writes JSON, Markdown and PNG files to ``--out`` (benchmarks/results).
``--only`` runs some of the steps (overhead, toy_modes, toy_modes_best, mnist_comparison, mnist_equal_budget,
mnist_best, stacked_mnist, gpu_throughput), e.g. to split the full run over two sittings; the toy, MNIST and Stacked MNIST
scripts also reuse the cells they cached in ``--out``/cache, so an interrupted run resumes where it stopped.

    python benchmarks/run.py quick
    python benchmarks/run.py full --jobs 2
    python benchmarks/run.py full --only overhead toy_modes   # everything but MNIST and the GPU
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def steps(mode: str, out: Path, jobs: int) -> list[tuple[str, list[str]]]:
    """The benchmark steps of one mode, in order: (name, script and arguments)."""
    common = ["--out", str(out)]
    if mode == "quick":
        return [
            (
                "overhead",
                ["overhead.py", "--rounds", "4", "--steps", "10", "--name", "overhead_quick", *common],
            ),
            ("toy_modes", ["toy_modes.py", "--quick", "--jobs", str(jobs), *common]),
        ]
    best = [
        "toy_modes.py",
        *[
            arg
            for config in sorted(
                [*ROOT.glob("configs/toy/best_*.yaml"), *ROOT.glob("configs/toy/fast_*.yaml")]
            )
            for arg in ("--config", str(config.relative_to(ROOT)))
        ],
        "--seeds",
        "5",
        "--jobs",
        str(jobs),
        "--name",
        "toy_modes_best",
        *common,
    ]
    mnist_best = [str(path.relative_to(ROOT)) for path in sorted(ROOT.glob("configs/mnist/best*.yaml"))]
    return [
        ("overhead", ["overhead.py", "--rounds", "10", "--steps", "20", "--compile", *common]),
        ("toy_modes", ["toy_modes.py", "--seeds", "5", "--jobs", str(jobs), *common]),
        ("toy_modes_best", best),
        (
            "mnist_comparison",
            ["mnist_comparison.py", "--epochs", "20", "--seeds", "3", "--jobs", str(jobs), *common],
        ),
        (
            "mnist_equal_budget",
            [
                "mnist_comparison.py",
                *("--epochs", "120", "--seeds", "3", "--jobs", str(jobs)),
                *("--grid-epochs", "6", "12", "30", "60", "120", "--name", "mnist_120ep_3s", *common),
            ],
        ),
        ("mnist_best", ["mnist_best.py", "--configs", *mnist_best, "--seeds", "3", "--jobs", "1", *common]),
        (
            "stacked_mnist",
            [
                "stacked_mnist.py",
                *("--epochs", "2", "--seeds", "3", "--jobs", str(jobs), "--name", "stacked_mnist"),
                *("--configs", "configs/stacked_mnist/best.yaml", *common),
            ],
        ),
        ("gpu_throughput", ["gpu_throughput.py", *common]),
    ]


STEP_NAMES = {name for name, _ in steps("full", ROOT, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("quick", "full"))
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes in parallel")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--only", nargs="+", metavar="SCRIPT", help="run only these steps: " + ", ".join(sorted(STEP_NAMES))
    )
    args = parser.parse_args(argv)
    unknown = set(args.only or ()) - STEP_NAMES
    if unknown:
        parser.error(
            f"--only: unknown step(s) {', '.join(sorted(unknown))}; choose from {', '.join(sorted(STEP_NAMES))}"
        )
    # One thread per process: the runs are small and run side by side on few cores.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    for name, command in steps(args.mode, args.out, args.jobs):
        if args.only and name not in args.only:
            continue
        print(f"\n=== {' '.join(command)}", flush=True)
        began = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]], env=env, cwd=ROOT)
        print(f"=== {command[0]}: {time.perf_counter() - began:.0f} s (exit {done.returncode})", flush=True)
        if done.returncode:
            return done.returncode
    print(f"\nbenchmarks ({args.mode}) done in {time.perf_counter() - start:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
