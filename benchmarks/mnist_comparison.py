"""Six GAN objectives on real MNIST digits: sample grids, LSGAN vs LSGAN + mean matching, FID/KID, wall-clock.

The protocol of the LSGAN report "对 Least Squares GAN 的思考与改进" (PKU 2020): DCGAN networks for 28x28 digits,
batch 64, z of dimension 100, learning rate 1e-4, Adam with beta1 0.5 (RMSprop for WGAN with clipping),
20 epochs, on the 10,000 MNIST test digits of ``../shared/data/mnist``. Models: vanilla GAN (non-saturating),
Improved GAN (feature matching, minibatch discrimination, one-sided label smoothing 0.9, historical
averaging), WGAN (clipping 0.01, n_critic 5), WGAN-GP (lambda 10, n_critic 5, layer-norm critic), LSGAN
(a, b, c) = (-1, 1, 0), and LSGAN with the mean-matching regulariser of the report (lambda:
``--mean-matching-weight``, which the report does not give).

FID and KID use the MNIST domain extractor (gan_lightning.metrics.LeNet, 128 features, bundled weights):
``--num-samples`` generated digits of each run against all 10,000 real ones; the real-vs-real floor is two
random halves (5,000 vs 5,000) of the real digits. Values are mean +- standard error over the seeds.

    python benchmarks/mnist_comparison.py                         # the full protocol: 20 epochs, 3 seeds
    python benchmarks/mnist_comparison.py --epochs 2 --seeds 1    # the reduced setting of docs/benchmarks.md
    python benchmarks/mnist_comparison.py --epochs 1 --seeds 1 --accelerator cpu    # time one CPU epoch each
    # seeds 1-2 here, seed 0 from an earlier report (another machine) in the same table:
    python benchmarks/mnist_comparison.py --first-seed 1 --seeds 2 --add-runs benchmarks/results/mnist_20ep_1s_h100.json

On 2 CPU cores one epoch takes 37-100 s per model; two runs at a time, seeds 1-2 took 7,750 s, so all three
seeds take about 3.2 hours. On one H100 shared by the six runs, 20 epochs take 33-81 s per model.
Each run saves a checkpoint in ``<out>/cache/<key>_run/`` after every epoch: run the same command again after
a cut-off (a session's end, a kill) and it goes on from the last epoch; finished runs are cached as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from _runs import resumable_fit, run_jobs

MODELS = ("GAN", "Improved GAN", "WGAN", "WGAN-GP", "LSGAN", "LSGAN + mean matching")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
LR, BETAS, LATENT, BATCH = 1e-4, (0.5, 0.999), 100, 64


def build_model(name: str, mean_matching_weight: float) -> torch.nn.Module:
    """The GANModule of one of the six models, with the protocol's networks and optimisers."""
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, MinibatchDiscriminator
    from gan_lightning.techniques import FeatureMatching, HistoricalAveraging
    from gan_lightning.variants import LSGAN, NSGAN, WGAN, WGANGP

    def adam(params):
        return torch.optim.Adam(params, lr=LR, betas=BETAS)

    def rmsprop(params):
        return torch.optim.RMSprop(params, lr=LR)

    g = DCGANGenerator(latent_dim=LATENT, image_size=28)
    d = DCGANDiscriminator(image_size=28, norm="layer" if name == "WGAN-GP" else "batch")
    both = {"g_optimizer": adam, "d_optimizer": adam}
    if name == "GAN":
        return NSGAN(g, d, **both)
    if name == "Improved GAN":
        # Feature matching is added to (not substituted for) the adversarial loss, so that the minibatch
        # layer, which sits after the matched features, still reaches the generator.
        techniques = [
            FeatureMatching(weight=1.0, replace=False),
            HistoricalAveraging(discriminator_weight=1.0),
        ]
        return NSGAN(g, MinibatchDiscriminator(d), real_label=0.9, techniques=techniques, **both)
    if name == "WGAN":
        return WGAN(g, d, g_optimizer=rmsprop, d_optimizer=rmsprop, n_critic=5, clip_value=0.01)
    if name == "WGAN-GP":
        return WGANGP(g, d, n_critic=5, gp_weight=10.0, **both)
    if name == "LSGAN":
        return LSGAN(g, d, a=-1.0, b=1.0, c=0.0, **both)
    if name == "LSGAN + mean matching":
        return LSGAN(g, d, a=-1.0, b=1.0, c=0.0, mean_matching_weight=mean_matching_weight, **both)
    raise ValueError(f"--models: unknown model {name!r}; choose from {', '.join(MODELS)}")


def _quiet() -> None:
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _epoch_recorder(keep_epochs: set[int]):
    """A callback that times every epoch and keeps the fixed-latent samples after the epochs listed."""
    import lightning as L

    class EpochRecorder(L.Callback):
        def __init__(self) -> None:
            self.seconds: list[float] = []
            self.grids: dict[int, torch.Tensor] = {}

        def on_train_epoch_start(self, trainer, module) -> None:
            self._start = time.perf_counter()

        def on_train_epoch_end(self, trainer, module) -> None:
            self.seconds.append(time.perf_counter() - self._start)
            epoch = trainer.current_epoch + 1
            if epoch in keep_epochs:
                self.grids[epoch] = module.generate(64, z=module.fixed_z).float().cpu()

        # Kept in the checkpoint, so that a resumed run still has the timings and grids of its earlier epochs.
        def state_dict(self) -> dict:
            return {"seconds": self.seconds, "grids": self.grids}

        def load_state_dict(self, state: dict) -> None:
            self.seconds, self.grids = state["seconds"], state["grids"]

    return EpochRecorder()


def _real_images(data_dir: Path) -> torch.Tensor:
    from gan_lightning.data.mnist import load_mnist

    loaded = load_mnist(data_dir, "test")
    if loaded is None:
        raise FileNotFoundError(f"no MNIST test digits (t10k-images-idx3-ubyte[.gz]) in {data_dir}")
    return loaded[0]


def train_run(name: str, seed: int, args: dict, root: str | None = None) -> dict:
    """Train one (model, seed) for ``args['epochs']`` epochs; return timings, FID/KID and the sample grids.
    With ``root``, a checkpoint there after every epoch lets a run cut off go on where it stopped."""
    import lightning as L

    from gan_lightning.data import MNISTDataModule
    from gan_lightning.metrics import ImageMetrics, load_lenet

    _quiet()
    L.seed_everything(seed, verbose=False)
    model = build_model(name, args["mean_matching_weight"])
    data = MNISTDataModule(
        data_dir=args["data_dir"], split="test", download=False, batch_size=BATCH, seed=seed
    )
    recorder = _epoch_recorder(set(args["grid_epochs"]) | {args["epochs"]})
    fit = resumable_fit(
        model, data, root, [recorder], max_epochs=args["epochs"], accelerator=args["accelerator"]
    )

    start = time.perf_counter()
    metrics = ImageMetrics(load_lenet(), ("fid", "kid", "pr", "classes"), kid_subset_size=1000)
    real = _real_images(Path(args["data_dir"]))
    for batch in real.split(1000):
        metrics.update(batch, real=True)
    generator = torch.Generator().manual_seed(20_000 + seed)
    remaining = args["num_samples"]
    while remaining:
        n = min(1000, remaining)
        fakes = model.generate(n, z=torch.randn(n, LATENT, generator=generator))
        metrics.update(fakes.float().cpu(), real=False)
        remaining -= n
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        scores = metrics.compute()
    return {
        "model": name,
        "seed": seed,
        "epochs": args["epochs"],
        "device": _device_name(args["accelerator"]),
        "train_seconds": fit["seconds"],
        "fit_segments": fit["segments"],
        "epoch_seconds": recorder.seconds,
        "eval_seconds": time.perf_counter() - start,
        "generator_steps": model.generator_steps,
        "critic_steps": model.critic_steps,
        **scores,
        "grids": {str(k): v.tolist() for k, v in recorder.grids.items()},
    }


def _device_name(accelerator: str) -> str:
    if accelerator == "gpu":
        return torch.cuda.get_device_name()
    # The kernel set (e.g. AVX2, AVX512) is named because it changes CPU results in their last bits.
    return (
        f"CPU ({os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()} kernels, 1 thread per run)"
    )


def real_floor(data_dir: Path) -> dict[str, float]:
    """FID/KID between two random halves of the real digits (the floor of a perfect generator)."""
    from gan_lightning.evaluator import real_vs_real
    from gan_lightning.metrics import load_lenet

    _quiet()
    return real_vs_real(_real_images(data_dir), load_lenet(), metrics=("fid", "kid", "pr", "classes"))


def _mean_se(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return statistics.mean(values), se


def _short_device(device: str) -> str:
    return "CPU" if device.startswith("CPU") else device.removeprefix("NVIDIA ").split()[0]


def _seconds(group: list[dict], of: Callable[[dict], list[float]]) -> str:
    """Mean seconds, one figure per device when the seeds ran on different devices."""
    by_device: dict[str, list[float]] = {}
    for run in group:
        by_device.setdefault(_short_device(run.get("device", "?")), []).extend(of(run))
    if len(by_device) == 1:
        return f"{statistics.mean(next(iter(by_device.values()))):.0f}"
    return " / ".join(f"{statistics.mean(v):.0f} ({d})" for d, v in by_device.items())


def _text(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mean_se_text(group: list[dict], key: str, digits: int = 3) -> str:
    """Mean ± standard error of ``key`` over the runs that have it ("-" for reports made before it existed)."""
    values = [r[key] for r in group if key in r]
    if not values:
        return "-"
    mean, se = _mean_se(values)
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def format_table(runs: list[dict], floor: dict[str, float], note: str) -> str:
    lines = [
        note,
        "",
        "| model | FID (LeNet) | FID per seed | KID (LeNet) | precision | recall | digit KL "
        "| generator steps | s per epoch | s per run (training) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["model"] for r in runs):
        group = sorted((r for r in runs if r["model"] == name), key=lambda r: r["seed"])
        fid, fid_se = _mean_se([r["fid"] for r in group])
        kid, kid_se = _mean_se([r["kid_mean"] for r in group])
        per_seed = " / ".join(f"{r['fid']:.1f}" for r in group)
        lines.append(
            f"| {name} | {fid:.2f} ± {fid_se:.2f} | {per_seed} | {kid:.2f} ± {kid_se:.2f} | "
            f"{_mean_se_text(group, 'precision')} | {_mean_se_text(group, 'recall')} | "
            f"{_mean_se_text(group, 'class_kl', 4)} | "
            f"{group[0]['generator_steps']} | "
            f"{_seconds(group, lambda r: r['epoch_seconds'])} | "
            f"{_seconds(group, lambda r: [r['train_seconds']])} |"
        )
    lines.append(
        f"| real vs real (two halves of the 10,000 digits) | {floor['fid']:.2f} | - | "
        f"{floor['kid_mean']:.2f} | {_text(floor.get('precision'))} | {_text(floor.get('recall'))} | "
        f"{_text(floor.get('class_kl'), 4)} | - | - | - |"
    )
    return "\n".join(lines)


def added_runs(paths: list[Path], settings: dict) -> list[dict]:
    """The runs of earlier reports (e.g. seeds run on another machine), checked to share this protocol."""
    runs = []
    for path in paths:
        report = json.loads(path.read_text())
        theirs = {k: v for k, v in report["settings"].items() if k not in ("accelerator", "data_dir")}
        ours = {k: v for k, v in settings.items() if k not in ("accelerator", "data_dir")}
        if theirs != ours:
            raise SystemExit(f"--add-runs: {path} ran other settings ({theirs}) than these ({ours})")
        runs.extend(report["runs"])
    return runs


def _grid_image(samples: list) -> torch.Tensor:
    from torchvision.utils import make_grid

    return make_grid(torch.tensor(samples), nrow=8, normalize=True, value_range=(-1, 1), padding=1)[0]


def plot_final(runs: list[dict], path: Path, epochs: int) -> None:
    """One panel per model: the 64 fixed-latent samples of seed 0 after the last epoch."""
    plt = _pyplot()
    runs = [r for r in runs if "grids" in r]
    chosen = [r for r in runs if r["seed"] == min(x["seed"] for x in runs if x["model"] == r["model"])]
    cols = min(3, len(chosen))
    rows = math.ceil(len(chosen) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, run in zip(axes.flat, chosen, strict=False):
        ax.imshow(_grid_image(run["grids"][str(epochs)]), cmap="gray")
        ax.set_title(f"{run['model']} ({epochs} ep.)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_epochs(
    runs: list[dict], path: Path, models: tuple[str, str] = ("LSGAN", "LSGAN + mean matching")
) -> None:
    """Rows: LSGAN and LSGAN + mean matching (first seed); columns: their samples after several epochs."""
    plt = _pyplot()
    runs = sorted((r for r in runs if "grids" in r), key=lambda r: r["seed"])
    chosen = [next((r for r in runs if r["model"] == m), None) for m in models]
    chosen = [r for r in chosen if r is not None]
    if not chosen:
        return
    epochs = sorted({int(e) for r in chosen for e in r["grids"]})
    fig, axes = plt.subplots(
        len(chosen), len(epochs), figsize=(2.1 * len(epochs), 2.3 * len(chosen)), squeeze=False
    )
    for row, run in enumerate(chosen):
        for col, epoch in enumerate(epochs):
            ax = axes[row][col]
            ax.axis("off")
            if str(epoch) in run["grids"]:
                ax.imshow(_grid_image(run["grids"][str(epoch)]), cmap="gray")
            ax.set_title(f"{run['model']}, epoch {epoch}", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", nargs="+", default=list(MODELS), help=f"from {', '.join(MODELS)}")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="run seeds first-seed ... first-seed + seeds - 1"
    )
    parser.add_argument("--num-samples", type=int, default=10_000, help="generated digits for FID/KID")
    parser.add_argument(
        "--grid-epochs",
        type=int,
        nargs="+",
        default=[1, 2, 5, 10, 20],
        help="epochs after which LSGAN and LSGAN + mean matching are shown",
    )
    parser.add_argument("--mean-matching-weight", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes in parallel")
    parser.add_argument(
        "--accelerator",
        default="auto",
        choices=("auto", "cpu", "gpu"),
        help="gpu: every run on the one CUDA device; auto: gpu where CUDA is available",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument(
        "--add-runs",
        type=Path,
        nargs="+",
        default=[],
        help="JSON reports of earlier runs (other seeds, another device) to add to the table",
    )
    parser.add_argument("--name", default="", help="name of the outputs (default: mnist_<epochs>ep_<seeds>s)")
    args = parser.parse_args(argv)
    for name in args.models:
        if name not in MODELS:
            parser.error(f"--models: unknown model {name!r}; choose from {', '.join(MODELS)}")
    if not (args.data_dir / "t10k-images-idx3-ubyte.gz").is_file() and _real_images_missing(args.data_dir):
        parser.error(f"--data-dir: no MNIST test digits in {args.data_dir}")
    if args.accelerator == "auto":
        args.accelerator = "gpu" if torch.cuda.is_available() else "cpu"
    settings = {
        "data_dir": str(args.data_dir),
        "epochs": args.epochs,
        "num_samples": args.num_samples,
        "grid_epochs": [e for e in args.grid_epochs if e <= args.epochs],
        "mean_matching_weight": args.mean_matching_weight,
        "accelerator": args.accelerator,
    }
    previous = added_runs(args.add_runs, settings)
    cache = args.out / "cache"
    keys = {
        (m, s): hashlib.sha1(json.dumps([settings, m, s]).encode()).hexdigest()[:16]
        for s in range(args.first_seed, args.first_seed + args.seeds)
        for m in args.models
    }
    jobs = [(k, train_run, m, s, settings, str(cache / f"{k}_run")) for (m, s), k in keys.items()]
    start = time.perf_counter()
    floor, *runs = run_jobs(
        cache, [("real_floor_lenet_pr_classes", real_floor, args.data_dir), *jobs], args.jobs
    )
    wall = time.perf_counter() - start
    runs = sorted(previous + runs, key=lambda r: (r["seed"], MODELS.index(r["model"])))
    seeds = sorted({r["seed"] for r in runs})
    name = args.name or f"mnist_{args.epochs}ep_{len(seeds)}s"
    devices = {}
    for run in runs:
        devices.setdefault(run.get("device", "?"), set()).add(run["seed"])
    note = (
        f"{args.epochs} epoch(s) on the 10,000 MNIST test digits, batch {BATCH}, lr {LR:g}, "
        f"{len(seeds)} seed(s); "
        f"FID/KID of {args.num_samples} generated digits against the 10,000 real ones (LeNet features); "
        "mean ± standard error over seeds; "
        + "; ".join(f"seed(s) {', '.join(map(str, sorted(s)))} on {d}" for d, s in devices.items())
        + f"; {args.jobs} run(s) at a time"
    )
    table = format_table(runs, floor, note)
    print(table)
    print(f"\nwall-clock {wall:.0f} s with {args.jobs} process(es); torch {torch.__version__}")
    args.out.mkdir(parents=True, exist_ok=True)
    plot_final(runs, args.out / f"{name}_samples.png", args.epochs)
    plot_epochs(runs, args.out / f"{name}_lsgan_epochs.png")
    slim = [{k: v for k, v in r.items() if k != "grids"} for r in runs]
    report = {
        "settings": settings,
        "seeds": seeds,
        "floor": floor,
        "runs": slim,
        "wall_seconds": wall,
        "jobs": args.jobs,
        "table": table,
    }
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2))
    (args.out / f"{name}.md").write_text(table + "\n")
    return slim


def _real_images_missing(data_dir: Path) -> bool:
    from gan_lightning.data.mnist import mnist_files_missing

    return mnist_files_missing(data_dir, "test")


if __name__ == "__main__":
    main()
