"""Mode dropping on Stacked MNIST (1,000 modes): modes covered and KL to uniform, beside the published rows.

Data: ``gan_lightning.data.StackedMNISTDataModule``, three digits drawn independently (with replacement) as the
R, G, B channels of a 28x28 image, a seeded table of ``--num-train`` triples (PacGAN's code: 128,000; the table
seed is the run's seed), here from the 10,000 MNIST test digits of ``../shared/data/mnist``. Networks: DCGAN for
28x28 with 3 channels, generator width 64, discriminator width 64 (``--quarter-width-d``: 16, a quarter of the
generator's, the setting of PacGAN's Table 3). Models: the six of ``mnist_comparison.py`` with their recipes
(its ``build_model`` with 3-channel networks: batch 64, z of 100, Adam lr 1e-4 (0.5, 0.999), RMSprop for WGAN),
and under the same optimiser NS-GAN + R1 (gamma 1, no normalisation in D), RpGAN + R1 + R2 (R3GAN's objective,
gamma 1, no normalisation in D) and PacGAN2 (NS-GAN, batch-norm D on packs of two images: 6 channels).

Metric (``gan_lightning.metrics.class_histogram``, PacGAN's protocol): ``--num-samples`` generated images
(26,000), each channel classified by the bundled MNIST LeNet, mode 100 d_R + 10 d_G + d_B; modes covered (of
1,000) and KL(modes || uniform). The real-data floor, measured in the same run for every seed: the same metric of
``--num-samples`` real stacked images (a fresh table, seed 10,000 + seed), where a perfect generator would land
(KL about 0.02 at 26,000 samples: finite-sample noise, LeNet's errors, MNIST's unequal digit counts). Values are
mean ± standard error over the seeds. The published rows come from other networks, budgets and digit sources.

Shipped configs (``--configs configs/stacked_mnist/best.yaml``) run exactly as a user types them, through
``gan-lightning fit`` (``--seed_everything`` and ``--data.seed`` the run's seed, the 10,000 test digits) and
``gan-lightning evaluate --image_metrics classes`` (26,000 samples), each on its own budget, in the same table
as the models and the floor. Seeds start at 1: seed 0 is the one the configs were screened on.

    python benchmarks/stacked_mnist.py                                  # 9 models, 2 epochs of 128,000, 3 seeds
    python benchmarks/stacked_mnist.py --models --configs configs/stacked_mnist/best.yaml   # the config alone
    python benchmarks/stacked_mnist.py --quarter-width-d                # PacGAN Table 3's discriminator size
    python benchmarks/stacked_mnist.py --models GAN --epochs 1 --num-train 1280 --seeds 1   # 20 batches
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from _runs import config_digest, resumable_fit, run_jobs
from mnist_best import ROOT, fit_and_evaluate
from mnist_comparison import (
    BATCH,
    BETAS,
    DEFAULT_DATA,
    LATENT,
    LR,
    _device_name,
    _mean_se,
    _pyplot,
    _quiet,
)
from mnist_comparison import MODELS as MNIST_MODELS
from mnist_comparison import build_model as mnist_model

MODELS = (*MNIST_MODELS, "NS-GAN + R1", "RpGAN + R1 + R2", "PacGAN2")
G_WIDTH = 64
R1_GAMMA = 1.0
FLOOR_SEED_OFFSET = 10_000
#: (model, source, modes covered, KL): the rows the issue quotes; other networks, budgets and digit sources.
PUBLISHED = (
    ("DCGAN", "VEEGAN Table 2", "99", "3.40"),
    ("Unrolled GAN", "VEEGAN Table 2", "48.7", "4.32"),
    ("VEEGAN", "VEEGAN Table 2", "150", "2.95"),
    ("DCGAN", "PacGAN Table 2", "78.9", "4.50"),
    ("PacDCGAN2", "PacGAN Table 2", "1000", "0.06"),
    ("WGAN-GP", "R3GAN Table 3", "959", "0.73"),
    ("StyleGAN2", "R3GAN Table 3", "940", "0.42"),
    ("R3GAN", "R3GAN Table 3", "1000", "0.029"),
    ("DCGAN, D = 1/4 G", "PacGAN Table 3", "30.6", "5.99"),
    ("PacDCGAN3, D = 1/4 G", "PacGAN Table 3", "601.3", "2.00"),
)


@contextlib.contextmanager
def three_channel_networks(d_width: int) -> Iterator[None]:
    """``mnist_comparison.build_model`` builds 3-channel DCGAN networks (G width 64, D width ``d_width``) inside."""
    import gan_lightning.networks as networks

    g, d = networks.DCGANGenerator, networks.DCGANDiscriminator
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            _swap(networks, "DCGANGenerator", functools.partial(g, channels=3, width=G_WIDTH))
        )
        stack.enter_context(
            _swap(networks, "DCGANDiscriminator", functools.partial(d, channels=3, width=d_width))
        )
        yield


@contextlib.contextmanager
def _swap(owner: object, name: str, value: object) -> Iterator[None]:
    old = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


def build_model(
    name: str, quarter_width_d: bool = False, mean_matching_weight: float = 1.0
) -> torch.nn.Module:
    """The GANModule of one model with 3-channel DCGAN networks (D a quarter as wide with ``quarter_width_d``)."""
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, PackedDiscriminator
    from gan_lightning.techniques import R1R2Penalty
    from gan_lightning.variants import NSGAN, RpGAN

    d_width = G_WIDTH // 4 if quarter_width_d else G_WIDTH
    if name in MNIST_MODELS:
        with three_channel_networks(d_width):
            return mnist_model(name, mean_matching_weight)

    def adam(params):
        return torch.optim.Adam(params, lr=LR, betas=BETAS)

    optimisers = {"g_optimizer": adam, "d_optimizer": adam}
    g = DCGANGenerator(latent_dim=LATENT, image_size=28, channels=3, width=G_WIDTH)
    if name == "NS-GAN + R1":
        d = DCGANDiscriminator(image_size=28, channels=3, width=d_width, norm="none")
        return NSGAN(g, d, techniques=[R1R2Penalty(r1_gamma=R1_GAMMA)], **optimisers)
    if name == "RpGAN + R1 + R2":
        d = DCGANDiscriminator(image_size=28, channels=3, width=d_width, norm="none")
        return RpGAN(g, d, gamma=R1_GAMMA, **optimisers)
    if name == "PacGAN2":
        d = DCGANDiscriminator(image_size=28, channels=6, width=d_width, norm="batch")
        return NSGAN(g, PackedDiscriminator(d, pack=2), **optimisers)
    raise ValueError(f"--models: unknown model {name!r}; choose from {', '.join(MODELS)}")


def train_run(name: str, seed: int, args: dict, root: str | None = None) -> dict:
    """Train one (model, seed) for ``args['epochs']`` epochs of the table; return its modes and KL. With
    ``root``, a checkpoint there after every epoch lets a run cut off go on where it stopped."""
    import lightning as L

    from gan_lightning.data import StackedMNISTDataModule
    from gan_lightning.metrics.image import ImageMetrics
    from gan_lightning.metrics.lenet import load_lenet

    _quiet()
    L.seed_everything(seed, verbose=False)
    model = build_model(name, args["quarter_width_d"])
    data = StackedMNISTDataModule(
        args["data_dir"],
        args["split"],
        download=False,
        num_samples=args["num_train"],
        seed=seed,
        batch_size=BATCH,
    )
    fit = resumable_fit(model, data, root, max_epochs=args["epochs"], accelerator=args["accelerator"])

    start = time.perf_counter()
    model.to("cuda" if args["accelerator"] == "gpu" else "cpu")  # Lightning's teardown left it on the CPU
    metrics = ImageMetrics(load_lenet(), ("classes",), channels=3).to(model.device)
    generator = torch.Generator().manual_seed(20_000 + seed)
    remaining = args["num_samples"]
    with torch.no_grad():
        while remaining:
            n = min(1000, remaining)
            metrics.update(
                model.generate(n, z=torch.randn(n, LATENT, generator=generator)).float(), real=False
            )
            remaining -= n
        scores = metrics.compute()
        grid = model.generate(64, z=torch.randn(64, LATENT, generator=generator)).float().cpu()
    return {
        "model": name,
        "seed": seed,
        "epochs": args["epochs"],
        "device": _device_name(args["accelerator"]),
        "train_seconds": fit["seconds"],
        "fit_segments": fit["segments"],
        "eval_seconds": time.perf_counter() - start,
        "generator_steps": model.generator_steps,
        "critic_steps": model.critic_steps,
        **scores,
        "grid": ((grid + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).tolist(),
    }


def config_run(config: str, seed: int, args: dict, root: str) -> dict:
    """One shipped config through the CLI (``mnist_best.fit_and_evaluate``), as a row of the table."""
    run = fit_and_evaluate(config, seed, args, root)
    checkpoint = torch.load(
        Path(root) / "run" / "version_0" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True
    )
    metrics = run["metrics"].get("metrics", run["metrics"])
    return {
        "model": config,
        "seed": seed,
        "device": run["device"],
        "train_seconds": run["fit_seconds"],
        "generator_steps": checkpoint["gan_steps"]["generator"],
        "critic_steps": checkpoint["gan_steps"]["critic"],
        "classes_covered": metrics["classes_covered"],
        "class_kl": metrics["class_kl"],
        "samples_png": run["grid"],
    }


def real_floor(data_dir: str, split: str, num_samples: int, seed: int) -> dict:
    """The mode metric of ``num_samples`` real stacked images (a fresh table, seed 10,000 + ``seed``)."""
    from gan_lightning.data.stacked_mnist import real_mode_floor

    _quiet()
    return {"seed": seed, **real_mode_floor(data_dir, split, num_samples, seed=FLOOR_SEED_OFFSET + seed)}


def _mean_se_text(values: list[float], digits: int) -> str:
    mean, se = _mean_se(values)
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def _per_seed(values: list[float]) -> str:
    return " / ".join(f"{v:.0f}" for v in values)


def format_table(runs: list[dict], floors: list[dict], note: str, quarter_width_d: bool = False) -> str:
    """Our rows (mean ± s.e. over seeds), the real-data floor, then the published rows."""
    ours = "ours, D = 1/4 G" if quarter_width_d else "ours"
    lines = [
        note,
        "",
        "| model | modes covered (of 1000) | KL(modes ‖ uniform) | modes per seed | generator steps "
        "| s per run (training) |",
        "|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["model"] for r in runs):
        group = sorted((r for r in runs if r["model"] == name), key=lambda r: r["seed"])
        modes = [r["classes_covered"] for r in group]
        label = f"`{name}`" if name.endswith(".yaml") else f"{name} ({ours})"
        lines.append(
            f"| {label} | {_mean_se_text(modes, 1)} | "
            f"{_mean_se_text([r['class_kl'] for r in group], 3)} | {_per_seed(modes)} | "
            f"{group[0]['generator_steps']} | {_mean_se([r['train_seconds'] for r in group])[0]:.0f} |"
        )
    if floors:
        modes = [f["classes_covered"] for f in floors]
        size = f"{floors[0]['num_samples']:,} " if "num_samples" in floors[0] else ""
        lines.append(
            f"| real data: {size}stacked samples (same run) | {_mean_se_text(modes, 1)} | "
            f"{_mean_se_text([f['class_kl'] for f in floors], 3)} | {_per_seed(modes)} | - | - |"
        )
    for model, source, modes, kl in PUBLISHED:
        lines.append(f"| {model} ({source}) | {modes} | {kl} | - | - | - |")
    return "\n".join(lines)


def plot_samples(runs: list[dict], path: Path) -> None:
    """One panel per model: 64 samples of its first seed."""
    from torchvision.utils import make_grid

    plt = _pyplot()
    runs = [r for r in runs if "grid" in r]
    names = dict.fromkeys(r["model"] for r in runs)
    chosen = [min((r for r in runs if r["model"] == m), key=lambda r: r["seed"]) for m in names]
    if not chosen:
        return
    cols = min(3, len(chosen))
    rows = -(-len(chosen) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, run in zip(axes.flat, chosen, strict=False):
        grid = make_grid(torch.tensor(run["grid"], dtype=torch.uint8), nrow=8, padding=1)
        ax.imshow(grid.permute(1, 2, 0).numpy())
        ax.set_title(f"{run['model']} (seed {run['seed']})", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name in args.models:
        if name not in MODELS:
            parser.error(f"--models: unknown model {name!r}; choose from {', '.join(MODELS)}")
    for flag, value, least in (
        ("--epochs", args.epochs, 1),
        ("--seeds", args.seeds, 1),
        ("--jobs", args.jobs, 1),
        ("--num-samples", args.num_samples, 2),
        ("--num-train", args.num_train, BATCH),
    ):
        if value < least:
            parser.error(f"{flag} must be at least {least}, got {value}")
    from gan_lightning.data.mnist import mnist_files_missing

    if mnist_files_missing(args.data_dir, args.split):
        parser.error(f"--data-dir: no MNIST {args.split} digits in {args.data_dir}")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", default="test", choices=("train", "test"), help="the MNIST digits stacked")
    parser.add_argument(
        "--models", nargs="*", default=list(MODELS), help=f"from {', '.join(MODELS)} (none: configs only)"
    )
    parser.add_argument(
        "--configs",
        nargs="*",
        default=[],
        help="shipped configs, each trained through the CLI on its own budget",
    )
    parser.add_argument("--epochs", type=int, default=2, help="the budget: passes over the table")
    parser.add_argument("--num-train", type=int, default=128_000, help="rows of the training table")
    parser.add_argument("--num-samples", type=int, default=26_000, help="generated (and real) images scored")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=1, help="run seeds first-seed ... + seeds - 1 (0 is for screening)"
    )
    parser.add_argument(
        "--quarter-width-d", action="store_true", help="discriminator width 16, a quarter of the generator's"
    )
    parser.add_argument("--jobs", type=int, default=2, help="processes in parallel")
    parser.add_argument(
        "--accelerator",
        default="auto",
        choices=("auto", "cpu", "gpu"),
        help="gpu: every run on the one CUDA device; auto: gpu where CUDA is available",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument(
        "--name", default="", help="name of the outputs (default: stacked_mnist_<epochs>ep_<seeds>s)"
    )
    args = parser.parse_args(argv)
    _check(parser, args)
    if args.accelerator == "auto":
        args.accelerator = "gpu" if torch.cuda.is_available() else "cpu"
    settings = {
        "data_dir": str(args.data_dir),
        "split": args.split,
        "epochs": args.epochs,
        "num_train": args.num_train,
        "num_samples": args.num_samples,
        "quarter_width_d": args.quarter_width_d,
        "accelerator": args.accelerator,
    }
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))

    def key(*parts: object) -> str:
        return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:16]

    floor_settings = [settings["data_dir"], args.split, args.num_samples]
    floor_jobs = [
        (
            f"stacked_floor_{key(floor_settings, s)}",
            real_floor,
            str(args.data_dir),
            args.split,
            args.num_samples,
            s,
        )
        for s in seeds
    ]
    cache = args.out / "cache"
    train_jobs = [
        (f"stacked_{k}", train_run, m, s, settings, str(cache / f"stacked_{k}_run"))
        for s in seeds
        for m in args.models
        for k in [key(settings, m, s)]
    ]
    cli_settings = {
        "data_dir": str(args.data_dir),
        "out": str(args.out),
        "threads": max(1, (os.cpu_count() or 1) // args.jobs),
        "split": args.split,
        "fit_args": ["--data.seed", "{seed}"],
        "evaluate_args": ["--image_metrics", "classes", "--num_generated", str(args.num_samples)],
    }
    for config in args.configs:
        digest = config_digest(ROOT / config)
        for s in seeds:
            name = f"stacked_config_{Path(config).stem}_{digest}_{key(args.split, args.num_samples, s)}"
            train_jobs.append(
                (name, config_run, config, s, cli_settings, str(args.out / "cache" / f"{name}_run"))
            )
    start = time.perf_counter()
    results = run_jobs(args.out / "cache", [*floor_jobs, *train_jobs], args.jobs)
    wall = time.perf_counter() - start
    floors = [{**f, "num_samples": args.num_samples} for f in results[: len(floor_jobs)]]
    order = [*MODELS, *args.configs]
    runs = sorted(results[len(floor_jobs) :], key=lambda r: (r["seed"], order.index(r["model"])))
    devices: dict[str, set[int]] = {}
    for run in runs:
        devices.setdefault(run["device"], set()).add(run["seed"])
    batches = args.num_train // BATCH
    note = (
        f"Stacked MNIST from the {args.split} digits of {args.data_dir.name}: {args.epochs} epoch(s) of "
        f"{args.num_train:,} seeded triples ({args.epochs * batches:,} batches of {BATCH}), "
        f"D width {G_WIDTH // 4 if args.quarter_width_d else G_WIDTH} (G {G_WIDTH}), {len(seeds)} seed(s); "
        f"modes of {args.num_samples:,} generated images (LeNet on each channel); mean ± standard error over "
        "seeds; "
        + "; ".join(f"seed(s) {', '.join(map(str, sorted(s)))} on {d}" for d, s in devices.items())
        + f"; {args.jobs} run(s) at a time. Published rows: other networks, budgets and digit sources"
    )
    table = format_table(runs, floors, note, args.quarter_width_d)
    print(table)
    print(f"\nwall-clock {wall:.0f} s with {args.jobs} process(es); torch {torch.__version__}")
    name = args.name or (
        f"stacked_mnist_{args.epochs}ep_{len(seeds)}s" + ("_quarter_d" if args.quarter_width_d else "")
    )
    args.out.mkdir(parents=True, exist_ok=True)
    plot_samples(runs, args.out / f"{name}_samples.png")
    slim = [{k: v for k, v in r.items() if k != "grid"} for r in runs]
    report = {"settings": settings, "seeds": seeds, "floors": floors, "runs": slim, "wall_seconds": wall}
    (args.out / f"{name}.json").write_text(
        json.dumps({**report, "jobs": args.jobs, "table": table}, indent=2)
    )
    (args.out / f"{name}.md").write_text(table + "\n")
    return slim


if __name__ == "__main__":
    main()
