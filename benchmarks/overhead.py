"""Framework overhead: the same GAN trained through gan-lightning's Trainer path and a plain PyTorch loop.

Same DCGAN 28x28 networks (same initial weights), batch size, optimisers, objective and in-memory data; the
two arms alternate in one process, in A B B A order (each arm goes first in half the rounds, so a drift of the
machine's speed falls on both), and each reports seconds per generator step. Prints the median ratio (a)/(b)
with min and max, the overhead in milliseconds per generator step, the peak resident memory of each arm
measured in a child process of its own (peak, and its growth over the process after imports and data), and the
framework's own cost per generator step, measured the same way with one-layer networks on 2D points (where
there is almost no computation to hide it, so it is measured to a fraction of a millisecond).

The Lightning arm runs with the Trainer's default logger (writing every 50 steps to a temporary folder) and no
progress bar, checkpoints or model summary; the plain arm freezes the critic during the generator step as
``toggle_optimizer`` does, so both compute the same gradients. Each arm sees the environment of a process of
its own: ``import lightning`` sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1``, which a plain PyTorch process lacks.
Both arms run on a steady heap (``steady_heap``), as in a long training process, and the table gives the minor
page faults of each arm per generator step.

With ``--compile`` the same run also times ``model.compile: true`` (torch.compile of both networks) against eager
through the Lightning arm, in a table of its own: each run's first ``--compile-warmup`` generator steps, where
compilation happens, are left out of its time.

    python benchmarks/overhead.py --rounds 3 --steps 20 --out benchmarks/results
    python benchmarks/overhead.py --rounds 3 --steps 20 --compile   # plus compiled against eager
    python benchmarks/overhead.py --profile 25   # cProfile of one Lightning run: where the extra time goes
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import cProfile
import ctypes
import gzip
import io
import json
import logging
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from gan_lightning.losses import (
    nonsaturating_discriminator_loss,
    nonsaturating_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.penalties import gradient_penalty
from gan_lightning.variants import NSGAN, WGANGP

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
# objective -> (variant, n_critic, (lr, Adam betas))
OBJECTIVES = {"nsgan": (NSGAN, 1, (2e-4, (0.5, 0.999))), "wgan_gp": (WGANGP, 5, (1e-4, (0.0, 0.9)))}


def images(n: int) -> torch.Tensor:
    """n MNIST test digits in [-1, 1] when the shared copy is there, else seeded noise of the same shape."""
    if MNIST.is_file():
        raw = gzip.decompress(MNIST.read_bytes())
        digits = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).view(-1, 1, 28, 28)[:n]
        return digits.float() / 127.5 - 1
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1


class _LinearGenerator(torch.nn.Module):
    """One linear layer from the latent to a 2D point: a generator with almost no computation."""

    latent_dim = 100

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(self.latent_dim, 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layer(z)


def networks(objective: str, tiny: bool = False) -> tuple[torch.nn.Module, torch.nn.Module]:
    """DCGAN 28x28 (or, ``tiny``, one linear layer each, on 2D points), seeded alike for both arms."""
    torch.manual_seed(0)
    if tiny:
        return _LinearGenerator(), torch.nn.Linear(2, 1)
    norm = "layer" if objective == "wgan_gp" else "batch"
    return DCGANGenerator(latent_dim=100, image_size=28), DCGANDiscriminator(image_size=28, norm=norm)


NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


@contextlib.contextmanager
def nvml_check(value: str | None):
    """Run with the environment variable ``import lightning`` sets (value "1") or without it (None)."""
    before = os.environ.get(NVML_CHECK)
    if value is None:
        os.environ.pop(NVML_CHECK, None)
    else:
        os.environ[NVML_CHECK] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(NVML_CHECK, None)
        else:
            os.environ[NVML_CHECK] = before


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def steady_heap() -> bool:
    """Make glibc keep freed memory in this process, as a long training run's heap does; True where it could.

    This process builds a fresh Trainer, model and data copy every round, and glibc kept handing the freed top
    of its heap back to the system and faulting it in again on the next step: 5,000-11,000 minor page faults
    per NS-GAN generator step of the Lightning arm (a tenth of its time in the kernel) and 300-6,500 of the
    plain arm, depending on where each round's objects landed. A ``gan-lightning fit`` process faults no page
    after its first batches (measured: 21 more faults in 120 batches than in 20), so neither arm should here.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return False
    # Setting one threshold stops glibc adapting the other: fix both (mmap above 32 MiB, trim above 1 GiB).
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def loader(data: torch.Tensor, batch_size: int) -> DataLoader:
    dataset = TensorDataset(data, torch.zeros(len(data), dtype=torch.long))
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)


class _Clock(L.Callback):
    """Seconds of training after the first ``warmup`` generator steps (``warmup_seconds``: those steps)."""

    def __init__(self, warmup: int = 0) -> None:
        self.warmup, self.warmup_seconds = warmup, 0.0

    def on_train_start(self, trainer, module) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, *args) -> None:
        # The batch of the warmup-th generator step (its critic-only successors keep the count, not the clock).
        if self.warmup and module.generator_steps == self.warmup and not self.warmup_seconds:
            now = time.perf_counter()
            self.warmup_seconds, self.start = now - self.start, now

    def on_train_end(self, trainer, module) -> None:
        self.seconds = time.perf_counter() - self.start


def run_lightning(
    objective: str, data: torch.Tensor, steps: int, batch_size: int, tiny: bool = False
) -> float:
    """Seconds per generator step through GANModule + Trainer (default logger, no progress bar)."""
    with nvml_check("1"):  # as in a process that imported lightning
        return _run_lightning(objective, data, steps, batch_size, tiny)


def _run_lightning(objective: str, data: torch.Tensor, steps: int, batch_size: int, tiny: bool) -> float:
    return _lightning_clock(objective, data, steps, batch_size, tiny).seconds / steps


def _lightning_clock(
    objective: str,
    data: torch.Tensor,
    steps: int,
    batch_size: int,
    tiny: bool,
    compile: bool = False,
    warmup: int = 0,
) -> _Clock:
    """The clock of ``steps`` generator steps after ``warmup`` untimed ones."""
    cls, n_critic, (lr, betas) = OBJECTIVES[objective]
    generator, discriminator = networks(objective, tiny)
    adam = lambda p: torch.optim.Adam(p, lr=lr, betas=betas)  # noqa: E731
    model = cls(
        generator, discriminator, g_optimizer=adam, d_optimizer=adam, n_critic=n_critic, compile=compile
    )
    clock = _Clock(warmup)
    with tempfile.TemporaryDirectory() as logs:
        trainer = L.Trainer(
            max_steps=(warmup + steps) * (n_critic + 1),
            max_epochs=-1,
            accelerator="cpu",
            devices=1,
            default_root_dir=logs,  # the default logger (TensorBoard, else CSV) writes here
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[clock],
        )
        trainer.fit(model, loader(data, batch_size))
    return clock


def run_plain(objective: str, data: torch.Tensor, steps: int, batch_size: int, tiny: bool = False) -> float:
    """Seconds per generator step of the loop a PyTorch user would write by hand."""
    with nvml_check(None):  # as in a process that never imported lightning
        return _run_plain(objective, data, steps, batch_size, tiny)


def _run_plain(objective: str, data: torch.Tensor, steps: int, batch_size: int, tiny: bool) -> float:
    _, n_critic, (lr, betas) = OBJECTIVES[objective]
    generator, discriminator = networks(objective, tiny)
    g_opt = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
    wgan = objective == "wgan_gp"
    batches, critic_steps, generator_steps = loader(data, batch_size), 0, 0
    start = time.perf_counter()
    while generator_steps < steps:
        for real, _ in batches:
            with torch.no_grad():
                fake = generator(torch.randn(len(real), 100))
            real_scores, fake_scores = discriminator(real), discriminator(fake)
            if wgan:
                d_loss = wasserstein_critic_loss(real_scores, fake_scores)
                d_loss = d_loss + 10 * gradient_penalty(discriminator, real, fake)
            else:
                d_loss = nonsaturating_discriminator_loss(real_scores, fake_scores)
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()
            critic_steps += 1
            if critic_steps % n_critic:
                continue
            discriminator.requires_grad_(False)  # no critic weight gradients in the generator step
            fake_scores = discriminator(generator(torch.randn(len(real), 100)))
            g_loss = (
                wasserstein_generator_loss(fake_scores) if wgan else nonsaturating_generator_loss(fake_scores)
            )
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            g_opt.step()
            discriminator.requires_grad_(True)
            generator_steps += 1
            if generator_steps == steps:
                break
    return (time.perf_counter() - start) / steps


ARMS = {"gan_lightning": run_lightning, "plain_pytorch": run_plain}


def _rss_mib(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS: now; VmHWM: the peak) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_arm(arm: str, objective: str, steps: int, batch_size: int) -> None:
    """Run one arm after resetting the peak-RSS mark; print the RSS before and the peak during training."""
    data = images(2048)
    with contextlib.suppress(OSError):  # Linux: "5" resets VmHWM, so the peak is that of training alone
        Path("/proc/self/clear_refs").write_text("5")
    base = _rss_mib("VmRSS")
    ARMS[arm](objective, data, steps, batch_size)
    print(base, _rss_mib("VmHWM"))


def peak_memory_mib(arm: str, objective: str, steps: int, batch_size: int) -> dict[str, float]:
    """Peak resident memory of a child process that runs one arm, and its growth over its RSS before training
    (after imports and data), in MiB."""
    code = (
        "import sys, warnings; warnings.filterwarnings('ignore'); "
        f"sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import overhead; overhead.measure_arm({arm!r}, {objective!r}, {steps}, {batch_size})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    base, peak = (float(v) for v in done.stdout.strip().splitlines()[-1].split())
    return {"peak": peak, "growth": peak - base}


def profile(objective: str, steps: int, batch_size: int, top: int) -> str:
    """cProfile of one Lightning run, sorted by cumulative time (the lines of Lightning and gan_lightning)."""
    data = images(2048)
    profiler = cProfile.Profile()
    profiler.enable()
    run_lightning(objective, data, steps, batch_size)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats("lightning|gan_lightning", top)
    return text.getvalue()


def time_arms(
    objective: str,
    data: torch.Tensor,
    steps: int,
    rounds: int,
    batch_size: int,
    tiny: bool = False,
    faults: dict[str, list[float]] | None = None,
) -> dict[str, list[float]]:
    """Seconds per generator step of each arm and round, in A B B A order after one short warm-up run each;
    ``faults`` receives each arm's minor page faults per generator step."""
    for run in ARMS.values():  # imports, allocator, first-call costs
        run(objective, data, 2, batch_size, tiny)
    times: dict[str, list[float]] = {arm: [] for arm in ARMS}
    for round_ in range(rounds):
        for arm in list(ARMS)[:: 1 if round_ % 2 == 0 else -1]:
            copied, before = copy.deepcopy(data), _minor_faults()
            times[arm].append(ARMS[arm](objective, copied, steps, batch_size, tiny))
            if faults is not None:
                faults.setdefault(arm, []).append((_minor_faults() - before) / steps)
    return times


COMPILE_ARMS = {"eager": False, "compiled": True}


def time_compile(
    objective: str, data: torch.Tensor, steps: int, rounds: int, batch_size: int, warmup: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Seconds per generator step of the Lightning arm eager and with ``compile=True``, in A B B A order, each
    run timed after its first ``warmup`` generator steps; and the seconds of the warm-up steps of each arm's
    first run (the compiled one compiles its graphs there, later runs reuse them: PyTorch docs, "torch.compile",
    caching)."""
    first_warmup = {}
    with nvml_check("1"):
        for arm, compile in COMPILE_ARMS.items():
            first_warmup[arm] = _lightning_clock(
                objective, data, 1, batch_size, False, compile, warmup
            ).warmup_seconds
        times: dict[str, list[float]] = {arm: [] for arm in COMPILE_ARMS}
        for round_ in range(rounds):
            for arm in list(COMPILE_ARMS)[:: 1 if round_ % 2 == 0 else -1]:
                clock = _lightning_clock(
                    objective, copy.deepcopy(data), steps, batch_size, False, COMPILE_ARMS[arm], warmup
                )
                times[arm].append(clock.seconds / steps)
    return times, first_warmup


def compile_table(results: dict, args: argparse.Namespace) -> str:
    """The Markdown table of ``results["compile"]``."""
    lines = [
        f"torch.compile (model.compile: true) against eager, gan-lightning arm, DCGAN 28x28, batch "
        f"{args.batch_size}, {args.steps} generator steps x {args.rounds} rounds per arm (A B B A), each run timed "
        f"after {args.compile_warmup} warm-up generator steps; {results['threads']} torch thread(s), torch "
        f"{results['torch']}",
        "",
        "| objective | s per G step, eager | s per G step, compiled | speed-up eager / compiled, median "
        "[min, max] | warm-up s of the first run, eager / compiled |",
        "|---|---|---|---|---|",
    ]
    for r in results["compile"]["rows"]:
        s, w = r["seconds_per_g_step"], r["first_run_warmup_seconds"]
        lines.append(
            f"| {r['objective']} | {s['eager']:.4f} | {s['compiled']:.4f} | {r['speedup_median']:.3f} "
            f"[{r['speedup_min']:.3f}, {r['speedup_max']:.3f}] | {w['eager']:.1f} / {w['compiled']:.1f} |"
        )
    return "\n".join(lines)


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="generator steps per arm and round")
    parser.add_argument(
        "--tiny-steps",
        type=int,
        default=200,
        help="generator steps per arm and round with one-layer networks",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--objectives", nargs="+", default=list(OBJECTIVES), choices=list(OBJECTIVES))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--name", default="overhead", help="name of the outputs (make bench: overhead_quick)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="instead of timing, print the top N lines of a cProfile of the Lightning arm",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also time model.compile: true against eager (gan-lightning arm), in a table of its own",
    )
    parser.add_argument(
        "--compile-warmup",
        type=int,
        default=3,
        help="untimed generator steps at the start of every --compile run (compilation happens there)",
    )
    parser.add_argument(
        "--default-malloc",
        action="store_true",
        help="leave glibc's heap trimming on (see steady_heap): the page faults it causes are in the times",
    )
    args = parser.parse_args(argv)
    _quiet()
    steady = False if args.default_malloc else steady_heap()
    if args.profile:
        for objective in args.objectives:
            print(profile(objective, args.steps, args.batch_size, args.profile))
        return {}
    data = images(2048)
    points = torch.randn(2048, 2, generator=torch.Generator().manual_seed(0))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results = {
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average_1min_at_start": load,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "rounds": args.rounds,
        "tiny_steps": args.tiny_steps,
        "steady_heap": steady,
        "torch": torch.__version__,
        "lightning": L.__version__,
        "rows": [],
    }
    for objective in args.objectives:
        faults: dict[str, list[float]] = {}
        times = time_arms(objective, data, args.steps, args.rounds, args.batch_size, faults=faults)
        ratios = [a / b for a, b in zip(times["gan_lightning"], times["plain_pytorch"], strict=True)]
        extra_ms = [
            1000 * (a - b) for a, b in zip(times["gan_lightning"], times["plain_pytorch"], strict=True)
        ]
        tiny = time_arms(objective, points, args.tiny_steps, args.rounds, args.batch_size, tiny=True)
        tiny_ms = [1000 * (a - b) for a, b in zip(tiny["gan_lightning"], tiny["plain_pytorch"], strict=True)]
        row = {
            "objective": objective,
            "seconds_per_g_step": {arm: statistics.median(t) for arm, t in times.items()},
            "seconds_per_g_step_all": times,
            "ratio_median": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "overhead_ms_per_g_step_median": statistics.median(extra_ms),
            "framework_ms_per_g_step": {
                "median": statistics.median(tiny_ms),
                "min": min(tiny_ms),
                "max": max(tiny_ms),
                "seconds_per_g_step_all": tiny,
            },
            "minor_faults_per_g_step": {arm: statistics.median(f) for arm, f in faults.items()},
            "peak_rss_mib": {arm: peak_memory_mib(arm, objective, 3, args.batch_size) for arm in ARMS},
        }
        results["rows"].append(row)
    results["load_average_1min_at_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"DCGAN 28x28, batch {args.batch_size}, {args.steps} generator steps x {args.rounds} rounds per arm "
        f"(A B B A), {results['threads']} torch thread(s), load average {load:.1f} at start / "
        f"{results['load_average_1min_at_end']:.1f} at end; framework cost: the same with one-layer networks "
        f"on 2D points, {args.tiny_steps} generator steps x {args.rounds} rounds; glibc heap trimming "
        + ("off for both arms (steady_heap)" if steady else "at its default"),
        "",
        "| objective | s per G step, gan-lightning | s per G step, plain PyTorch | ratio median [min, max] "
        "| overhead ms per G step | framework cost ms per G step, median [min, max] "
        "| minor page faults per G step, gan-lightning / plain "
        "| peak RSS MiB (growth), gan-lightning | peak RSS MiB (growth), plain |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        s, m, f = r["seconds_per_g_step"], r["peak_rss_mib"], r["framework_ms_per_g_step"]
        gl, pl = m["gan_lightning"], m["plain_pytorch"]
        lines.append(
            f"| {r['objective']} | {s['gan_lightning']:.4f} | {s['plain_pytorch']:.4f} | "
            f"{r['ratio_median']:.3f} [{r['ratio_min']:.3f}, {r['ratio_max']:.3f}] | "
            f"{r['overhead_ms_per_g_step_median']:.1f} | {f['median']:.2f} [{f['min']:.2f}, {f['max']:.2f}] | "
            f"{r['minor_faults_per_g_step']['gan_lightning']:.0f} / "
            f"{r['minor_faults_per_g_step']['plain_pytorch']:.0f} | "
            f"{gl['peak']:.0f} ({gl['growth']:.0f}) | "
            f"{pl['peak']:.0f} ({pl['growth']:.0f}) |"
        )
    table = "\n".join(lines)
    if args.compile:
        results["compile"] = {"warmup_steps": args.compile_warmup, "rows": []}
        for objective in args.objectives:
            times, first_warmup = time_compile(
                objective, data, args.steps, args.rounds, args.batch_size, args.compile_warmup
            )
            speedups = [e / c for e, c in zip(times["eager"], times["compiled"], strict=True)]
            results["compile"]["rows"].append(
                {
                    "objective": objective,
                    "seconds_per_g_step": {arm: statistics.median(t) for arm, t in times.items()},
                    "seconds_per_g_step_all": times,
                    "speedup_median": statistics.median(speedups),
                    "speedup_min": min(speedups),
                    "speedup_max": max(speedups),
                    "first_run_warmup_seconds": first_warmup,
                }
            )
        table += "\n\n" + compile_table(results, args)
    print(table)
    results["table"] = table
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(results, indent=2))
    (args.out / f"{args.name}.md").write_text(table + "\n")
    return results


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
