"""Mode collapse on 2D mixtures, measured as VEEGAN and PacGAN measure it, beside their published tables.

Protocol (gan_lightning.metrics.mode_coverage): ring of 8 Gaussians (radius 1, std 0.01) and grid of 25
(std 0.05); 2,500 generated points; a point is high quality within 3 std of its nearest mode; modes captured,
% high quality and the reverse KL of the mode histogram. Every cell is a (variant, data set, seed) trained for
the same number of generator steps on the same networks and batch size, with a plain ``lightning.Trainer``
(no logger, no checkpoints); the table gives mean +- standard error over the seeds.

    python benchmarks/toy_modes.py --seeds 5 --steps 1000 --jobs 2              # the full table
    python benchmarks/toy_modes.py --quick                                      # make bench
    python benchmarks/toy_modes.py --config configs/toy/best_ring.yaml --seeds 5  # a YAML config
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import yaml
from _runs import quiet_trainer, run_jobs

from gan_lightning.metrics.mode_coverage import NUM_POINTS, mode_coverage

#: Published rows: (source, model, ring modes, ring % high quality, grid modes, grid % high quality).
PUBLISHED = [
    ("VEEGAN Table 1", "GAN", 1, 99.3, 3.3, 0.5),
    ("VEEGAN Table 1", "Unrolled GAN", 7.6, 35.6, 23.6, 16),
    ("VEEGAN Table 1", "VEEGAN", 8, 52.9, 24.6, 40),
    ("PacGAN Table 1", "GAN", 6.3, 98.2, 17.3, 94.8),
    ("PacGAN Table 1", "PacGAN2", 7.9, 95.6, 23.8, 91.3),
    ("PacGAN Table 1", "PacGAN4", 7.8, 95.9, 24.8, 93.6),
]
DATASETS = ("ring", "grid")
QUICK_VARIANTS = ("NS-GAN", "WGAN-GP", "LSGAN")


@dataclass(frozen=True)
class Budget:
    """What every cell of one table shares."""

    steps: int = 1000  # generator steps
    batch_size: int = 256
    hidden_dim: int = 128
    depth: int = 3
    latent_dim: int = 2
    lr: float = 1e-3


def _adam(lr: float, betas: tuple[float, float]) -> Callable:
    return lambda params: torch.optim.Adam(params, lr=lr, betas=betas)


def _rmsprop(lr: float) -> Callable:
    return lambda params: torch.optim.RMSprop(params, lr=lr)


def build_variant(name: str, budget: Budget) -> torch.nn.Module:
    """The GANModule of one table row: same MLPs and learning rate, each paper's optimiser and objective."""
    from gan_lightning.networks import MLPDiscriminator, MLPGenerator, PackedDiscriminator
    from gan_lightning.networks.autoencoder import MLPAutoencoder
    from gan_lightning.variants import LSGAN, NSGAN, WGAN, WGANGP, MinimaxGAN
    from gan_lightning.variants.ebgan import EBGAN
    from gan_lightning.variants.fgan import FGAN

    g = MLPGenerator(budget.latent_dim, budget.hidden_dim, budget.depth)
    d = MLPDiscriminator(2, budget.hidden_dim, budget.depth)
    dcgan_adam = _adam(budget.lr, (0.5, 0.999))
    both = {"g_optimizer": dcgan_adam, "d_optimizer": dcgan_adam}
    if name == "NS-GAN":
        return NSGAN(g, d, **both)
    if name == "Minimax GAN":
        return MinimaxGAN(g, d, **both)
    if name == "WGAN (clip)":
        rms = _rmsprop(budget.lr)
        return WGAN(g, d, g_optimizer=rms, d_optimizer=rms, n_critic=5, clip_value=0.01)
    if name == "WGAN-GP":
        gp_adam = _adam(budget.lr, (0.0, 0.9))
        # lambda 0.1: the paper's toy code (gan_toy.py); lambda 10 is for images.
        return WGANGP(g, d, g_optimizer=gp_adam, d_optimizer=gp_adam, n_critic=5, gp_weight=0.1)
    if name == "LSGAN":
        return LSGAN(g, d, a=-1.0, b=1.0, c=0.0, **both)
    if name == "f-GAN (JS)":
        return FGAN(g, d, divergence="js", **both)
    if name == "f-GAN (reverse KL)":
        return FGAN(g, d, divergence="reverse_kl", **both)
    if name == "PacGAN2":
        # Lin et al. (2018): NS-GAN whose discriminator judges packs of 2 samples (its input is 2 x 2 features).
        packed = PackedDiscriminator(MLPDiscriminator(4, budget.hidden_dim, budget.depth), pack=2)
        return NSGAN(g, packed, **both)
    if name == "EBGAN":
        # margin 1: the energies of 2D points of unit scale (the image default, 10, is never reached here).
        autoencoder = MLPAutoencoder(2, budget.hidden_dim, depth=2, code_dim=16)
        return EBGAN(g, autoencoder, margin=1.0, **both)
    raise ValueError(f"--variants: unknown variant {name!r}; choose from {', '.join(VARIANTS)}")


VARIANTS = (
    "NS-GAN",
    "Minimax GAN",
    "WGAN (clip)",
    "WGAN-GP",
    "LSGAN",
    "f-GAN (JS)",
    "f-GAN (reverse KL)",
    "EBGAN",
    "PacGAN2",
)


def _quiet() -> None:
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _evaluate(module: torch.nn.Module, dataset: str, seed: int) -> tuple[dict[str, float], torch.Tensor]:
    from gan_lightning.data.toy import toy_modes

    centers, std = toy_modes(dataset)
    z = torch.randn(
        NUM_POINTS, module.generator.latent_dim, generator=torch.Generator().manual_seed(10_000 + seed)
    )
    points = module.generate(NUM_POINTS, z=z).float().cpu()
    return mode_coverage(points, centers, std), points


def train_cell(variant: str, dataset: str, seed: int, budget: Budget) -> dict:
    """Train one (variant, data set, seed) for ``budget.steps`` generator steps; measure its mode coverage."""
    import lightning as L

    from gan_lightning.data import ToyDataModule

    _quiet()
    L.seed_everything(seed, verbose=False)
    module = build_variant(variant, budget)
    data = ToyDataModule(
        dataset, num_samples=200 * budget.batch_size, batch_size=budget.batch_size, seed=seed
    )
    extra = getattr(module, "pretrain_steps", 0)
    trainer = quiet_trainer(
        max_steps=budget.steps * (module.n_critic + 1) + extra, max_epochs=-1, accelerator="cpu"
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    error = ""
    try:
        trainer.fit(module, data)
    except FloatingPointError as failure:  # a diverged run is a result of this budget, not a crash
        error = str(failure).splitlines()[0]
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    if error:
        metrics, points = {"modes": 0.0, "high_quality": 0.0, "reverse_kl": math.nan}, torch.zeros(0, 2)
    else:
        metrics, points = _evaluate(module, dataset, seed)
    return {
        "variant": variant,
        "dataset": dataset,
        "seed": seed,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "error": error,
        "generator_steps": module.generator_steps,
        **metrics,
        "points": points.round(decimals=3).tolist(),
    }


CURVE_POINTS = 20  # evaluations along a config run, for the quality-against-time curves


def _curve_recorder(dataset: str, seed: int, max_steps: int):
    """A callback that measures modes and % high quality every ``max_steps / CURVE_POINTS`` optimiser steps,
    against the CPU seconds of training so far (the evaluations' own time left out). It draws no number from the
    global random generator (:func:`_evaluate` seeds its own latents), so the run trains as without it."""
    import lightning as L

    every = max(1, max_steps // CURVE_POINTS)

    class CurveRecorder(L.Callback):
        def __init__(self) -> None:
            self.points: list[dict] = []
            self.cpu_seconds, self.next_step = 0.0, every

        def on_train_start(self, trainer, module) -> None:
            self.mark = time.process_time()

        def on_train_batch_end(self, trainer, module, *args) -> None:
            if trainer.global_step < self.next_step:
                return
            self.cpu_seconds += time.process_time() - self.mark
            metrics, _ = _evaluate(module, dataset, seed)
            self.points.append(
                {"generator_steps": module.generator_steps, "cpu_seconds": self.cpu_seconds, **metrics}
            )
            self.next_step += every
            self.mark = time.process_time()

    return CurveRecorder()


def train_config_cell(config: str, seed: int) -> dict:
    """Train a standalone YAML config (its own data set and budget) with ``seed`` and measure its coverage."""
    from gan_lightning.cli import GANCLI

    _quiet()
    with tempfile.TemporaryDirectory() as tmp:
        cli = GANCLI(
            args=[
                "--config",
                config,
                "--seed_everything",
                str(seed),
                "--data.seed",
                str(seed),
                "--trainer.logger",
                "false",
                "--trainer.enable_checkpointing",
                "false",
                "--trainer.default_root_dir",
                tmp,
                "--trainer.enable_progress_bar",
                "false",
                "--trainer.enable_model_summary",
                "false",
                "--sample_grid.every_n_epochs",
                "1000000",
            ],
            run=False,
        )
        curve = _curve_recorder(cli.datamodule.dataset, seed, cli.trainer.max_steps)
        cli.trainer.callbacks.append(curve)
        start, cpu_start = time.perf_counter(), time.process_time()
        cli.trainer.fit(cli.model, cli.datamodule)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    dataset = cli.datamodule.dataset
    metrics, points = _evaluate(cli.model, dataset, seed)
    return {
        "variant": Path(config).stem,
        "dataset": dataset,
        "seed": seed,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "error": "",
        "generator_steps": cli.model.generator_steps,
        **metrics,
        "curve": curve.points,
        "points": points.round(decimals=3).tolist(),
    }


def plot_curves(cells: list[dict], path: Path) -> None:
    """% high quality against CPU seconds of training, one panel per data set, one colour per config, one line
    per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_curves = [c for c in cells if c.get("curve")]
    datasets = list(dict.fromkeys(c["dataset"] for c in with_curves))
    if not datasets:
        return
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4.2), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        configs = list(dict.fromkeys(c["variant"] for c in with_curves if c["dataset"] == dataset))
        for colour, config in zip(plt.cm.tab10.colors, configs, strict=False):
            runs = [c for c in with_curves if c["dataset"] == dataset and c["variant"] == config]
            for i, run in enumerate(runs):
                seconds = [p["cpu_seconds"] for p in run["curve"]]
                quality = [p["high_quality"] for p in run["curve"]]
                ax.plot(seconds, quality, color=colour, alpha=0.7, lw=1, label=config if i == 0 else None)
        ax.set(title=dataset, xlabel="CPU seconds of training (1 thread)", ylabel="% high-quality samples")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


REAL = "real data: 2,500 true samples"


def real_data_cells(datasets: list[str], seeds: int) -> list[dict]:
    """The protocol applied to samples of the data itself: the best a generator can score.

    A 2D Gaussian puts 1 - exp(-9/2) = 98.89 % of its mass within 3 std (Mahalanobis), so even the true
    distribution scores about 98.9 % high quality, give or take 0.2 points at 2,500 samples.
    """
    from gan_lightning.data.toy import sample_toy, toy_modes

    cells = []
    for index, dataset in enumerate(datasets):
        centers, std = toy_modes(dataset)
        for seed in range(seeds):
            generator = torch.Generator().manual_seed(30_000 + 100 * index + seed)
            points, _ = sample_toy(dataset, NUM_POINTS, generator)
            cells.append({
                "variant": REAL,
                "dataset": dataset,
                "seed": seed,
                "seconds": 0.0,
                "cpu_seconds": 0.0,
                "error": "",
                "generator_steps": 0,
                **mode_coverage(points, centers, std),
            })  # fmt: skip
    return cells


def _cell_key(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def summarise(cells: list[dict]) -> list[dict]:
    """Mean and standard error over seeds of every (variant, data set)."""
    rows: dict[tuple[str, str], list[dict]] = {}
    for cell in cells:
        rows.setdefault((cell["variant"], cell["dataset"]), []).append(cell)
    summary = []
    for (variant, dataset), group in rows.items():
        row = {
            "variant": variant,
            "dataset": dataset,
            "seeds": len(group),
            "all_modes_seeds": sum(c["modes"] == (8 if dataset == "ring" else 25) for c in group),
            "diverged": sum(bool(c["error"]) for c in group),
            "generator_steps": group[0]["generator_steps"],
            "seconds_per_run": statistics.mean(c["seconds"] for c in group),
            "cpu_seconds_per_run": statistics.mean(c.get("cpu_seconds", math.nan) for c in group),
        }
        for key in ("modes", "high_quality", "reverse_kl"):
            values = [c[key] for c in group if not math.isnan(c[key])]
            row[key] = statistics.mean(values) if values else math.nan
            row[key + "_se"] = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
            row[key + "_min"] = min(values) if values else math.nan
        summary.append(row)
    return summary


def _pm(mean: float, se: float, digits: int) -> str:
    return "nan" if math.isnan(mean) else f"{mean:.{digits}f} ± {se:.{digits}f}"


def format_table(summary: list[dict], budget_note: str) -> str:
    """Markdown table: ring and grid side by side, one row per variant, then the published rows."""
    by = {(r["variant"], r["dataset"]): r for r in summary}
    variants = list(dict.fromkeys(r["variant"] for r in summary))
    lines = [
        f"Budget: {budget_note}",
        "",
        "| model | ring: modes (of 8) | ring: % high quality | ring: reverse KL | grid: modes (of 25) "
        "| grid: % high quality | grid: reverse KL | CPU s per run (ring / grid) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant in variants:
        cells = []
        seconds = []
        for dataset in DATASETS:
            r = by.get((variant, dataset))
            if r is None:
                cells += ["-", "-", "-"]
                seconds.append("-")
                continue
            all_modes = f" ({r['all_modes_seeds']}/{r['seeds']} seeds all)"
            div = f", {r['diverged']} diverged" if r["diverged"] else ""
            cells += [
                _pm(r["modes"], r["modes_se"], 1) + all_modes + div,
                _pm(r["high_quality"], r["high_quality_se"], 1)
                + (f" (min {r['high_quality_min']:.1f})" if r["seeds"] > 1 else ""),
                _pm(r["reverse_kl"], r["reverse_kl_se"], 2),
            ]
            seconds.append("-" if variant == REAL else f"{r['cpu_seconds_per_run']:.0f}")
        label = variant if variant == REAL else f"{variant} (ours)"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {' / '.join(seconds)} |")
    for source, model, ring_modes, ring_hq, grid_modes, grid_hq in PUBLISHED:
        lines.append(
            f"| {model} ({source}) | {ring_modes} | {ring_hq} | - | {grid_modes} | {grid_hq} | - | - |"
        )
    return "\n".join(lines)


def plot(cells: list[dict], path: Path, seed: int) -> None:
    """Scatter of the 2,500 evaluated points of one seed: one column per variant, ring above grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gan_lightning.data.toy import toy_modes

    variants = list(dict.fromkeys(c["variant"] for c in cells))
    datasets = [d for d in DATASETS if any(c["dataset"] == d for c in cells)]
    fig, axes = plt.subplots(
        len(datasets), len(variants), figsize=(1.9 * len(variants), 2.0 * len(datasets)), squeeze=False
    )
    for row, dataset in enumerate(datasets):
        centers, _ = toy_modes(dataset)
        for col, variant in enumerate(variants):
            ax = axes[row][col]
            match = [
                c for c in cells if c["variant"] == variant and c["dataset"] == dataset and c["seed"] == seed
            ]
            ax.scatter(*centers.T, s=12, c="black", marker="x", linewidths=0.8)
            if match and match[0]["points"]:
                pts = torch.tensor(match[0]["points"])
                ax.scatter(*pts.T, s=0.5, c="tab:orange", alpha=0.5, rasterized=True)
                ax.set_title(
                    f"{variant}\n{match[0]['modes']:.0f} modes, {match[0]['high_quality']:.0f}% HQ",
                    fontsize=7,
                )
            lim = 1.6 if dataset == "ring" else 5.5
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), help=f"from {', '.join(VARIANTS)}")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=Budget.steps, help="generator steps per run")
    parser.add_argument("--batch-size", type=int, default=Budget.batch_size)
    parser.add_argument("--hidden-dim", type=int, default=Budget.hidden_dim)
    parser.add_argument("--lr", type=float, default=Budget.lr)
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="standalone YAML config(s) to measure "
        "instead of the variants (each on its own data set and budget)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"make bench: {', '.join(QUICK_VARIANTS)}, 2 seeds, 1000 steps"
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes in parallel")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument(
        "--name", default="", help="name of the outputs (default: toy_modes[_quick|_configs])"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.variants, args.seeds, args.steps = list(QUICK_VARIANTS), 2, 1000
    for variant in args.variants:
        if variant not in VARIANTS:
            parser.error(f"--variants: unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    budget = Budget(steps=args.steps, batch_size=args.batch_size, hidden_dim=args.hidden_dim, lr=args.lr)
    name = args.name or (
        "toy_modes_configs" if args.config else "toy_modes_quick" if args.quick else "toy_modes"
    )
    cache = args.out / "cache"

    if args.config:
        jobs = [
            # "curve": cells of config runs hold their quality-against-time curve since it was added
            (_cell_key(yaml.safe_load(Path(c).read_text()), s, "curve"), train_config_cell, c, s)
            for c in args.config
            for s in range(args.seeds)
        ]
        note = "each config's own (" + ", ".join(args.config) + f"); {args.seeds} seed(s)"
    else:
        jobs = [
            (_cell_key(asdict(budget), v, d, s), train_cell, v, d, s, budget)
            for d in args.datasets
            for v in args.variants
            for s in range(args.seeds)
        ]
        note = (
            f"{budget.steps} generator steps, batch {budget.batch_size}, MLP G and D of {budget.depth}x"
            f"{budget.hidden_dim} ReLU, latent {budget.latent_dim}, lr {budget.lr:g}; {args.seeds} seed(s); "
            "mean ± standard error"
        )
    start = time.perf_counter()
    cells = run_jobs(cache, jobs, args.jobs)
    wall = time.perf_counter() - start
    datasets = list(dict.fromkeys(c["dataset"] for c in cells))
    summary = summarise(cells + real_data_cells(datasets, args.seeds))
    table = format_table(summary, note)
    print(table)
    print(
        f"\nwall-clock {wall:.0f} s with {args.jobs} process(es); torch {torch.__version__}, "
        f"{os.cpu_count()} CPU(s)"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    slim = [{k: v for k, v in c.items() if k != "points"} for c in cells]
    if args.config:
        plot_curves(cells, args.out / f"{name}_curves.png")
    report = {
        "budget": asdict(budget),
        "note": note,
        "wall_seconds": wall,
        "jobs": args.jobs,
        "summary": summary,
        "cells": slim,
        "table": table,
    }
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2))
    plot(cells, args.out / f"{name}.png", seed=0)
    (args.out / f"{name}.md").write_text(table + "\n")
    return summary


if __name__ == "__main__":
    main()
