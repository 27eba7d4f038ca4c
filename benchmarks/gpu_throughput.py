"""GPU throughput of DCGAN-64: gan-lightning against a plain PyTorch loop, in fp32, bf16-mixed and 16-mixed.

For NS-GAN and WGAN-GP (lambda 10, n_critic 5, layer-norm critic) at batch 256 on 64x64 RGB images held in
GPU memory, both arms train the same networks (same initial weights) with the same optimisers; they alternate
A B A B in one process. Reported: real images per second (critic batches x batch size / s), generator steps
per second, the ratio gan-lightning / plain of the time per generator step, peak GPU memory of each arm, and
the share of a WGAN-GP generator step spent on the gradient penalty (the plain loop with and without it).

    python benchmarks/gpu_throughput.py                      # needs CUDA; exits with a message without it
    python benchmarks/gpu_throughput.py --steps 100 --rounds 5 --precisions 32-true bf16-mixed
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

PRECISIONS = ("32-true", "bf16-mixed", "16-mixed")
OBJECTIVES = ("nsgan", "wgan_gp")
LATENT = 100


class Batches(Dataset):
    """Whole batches already on the GPU: the loader hands out one per step and copies nothing."""

    def __init__(self, images: torch.Tensor, batch_size: int) -> None:
        self.batches = images.view(-1, batch_size, *images.shape[1:])

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.batches[i], self.batches.new_zeros(())


def loader(images: torch.Tensor, batch_size: int) -> DataLoader:
    return DataLoader(Batches(images, batch_size), batch_size=None, shuffle=True)


def networks(objective: str, device: torch.device) -> tuple[torch.nn.Module, torch.nn.Module]:
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator

    torch.manual_seed(0)
    norm = "layer" if objective == "wgan_gp" else "batch"
    g = DCGANGenerator(latent_dim=LATENT, image_size=64, channels=3)
    d = DCGANDiscriminator(image_size=64, channels=3, norm=norm)
    return g.to(device), d.to(device)


def optimisers(objective: str) -> tuple[int, float, tuple[float, float]]:
    """(n_critic, lr, Adam betas) of each objective's paper."""
    return (5, 1e-4, (0.0, 0.9)) if objective == "wgan_gp" else (1, 2e-4, (0.5, 0.999))


def run_lightning(objective: str, images: torch.Tensor, steps: int, batch_size: int, precision: str) -> float:
    """Seconds per generator step through GANModule + Trainer (default logger, no progress bar)."""
    import lightning as L

    from gan_lightning.variants import NSGAN, WGANGP

    n_critic, lr, betas = optimisers(objective)
    g, d = networks(objective, images.device)

    def adam(params):
        return torch.optim.Adam(params, lr=lr, betas=betas)

    cls = WGANGP if objective == "wgan_gp" else NSGAN
    model = cls(g, d, g_optimizer=adam, d_optimizer=adam, n_critic=n_critic)

    class Clock(L.Callback):
        def on_train_start(self, trainer, module) -> None:
            torch.cuda.synchronize()
            self.start = time.perf_counter()

        def on_train_end(self, trainer, module) -> None:
            torch.cuda.synchronize()
            self.seconds = time.perf_counter() - self.start

    clock = Clock()
    with tempfile.TemporaryDirectory() as logs:
        trainer = L.Trainer(
            max_steps=steps * (n_critic + 1),
            max_epochs=-1,
            accelerator="gpu",
            devices=1,
            precision=precision,
            default_root_dir=logs,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[clock],
        )
        trainer.fit(model, loader(images, batch_size))
    return clock.seconds / steps


def run_plain(
    objective: str, images: torch.Tensor, steps: int, batch_size: int, precision: str, gp_weight: float = 10.0
) -> float:
    """Seconds per generator step of a hand-written loop (autocast, and GradScaler for 16-mixed)."""
    from gan_lightning.losses import (
        nonsaturating_discriminator_loss,
        nonsaturating_generator_loss,
        wasserstein_critic_loss,
        wasserstein_generator_loss,
    )
    from gan_lightning.penalties import gradient_penalty

    n_critic, lr, betas = optimisers(objective)
    g, d = networks(objective, images.device)
    g_opt = torch.optim.Adam(g.parameters(), lr=lr, betas=betas)
    d_opt = torch.optim.Adam(d.parameters(), lr=lr, betas=betas)
    dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
    enabled = precision == "16-mixed"
    g_scaler, d_scaler = (
        torch.amp.GradScaler("cuda", enabled=enabled),
        torch.amp.GradScaler("cuda", enabled=enabled),
    )

    def autocast():
        return torch.autocast("cuda", dtype=dtype) if dtype is not None else contextlib.nullcontext()

    wgan = objective == "wgan_gp"
    batches, critic_steps, generator_steps = loader(images, batch_size), 0, 0
    torch.cuda.synchronize()
    start = time.perf_counter()
    while generator_steps < steps:
        for real, _ in batches:
            with torch.no_grad(), autocast():
                fake = g(torch.randn(len(real), LATENT, device=real.device))
            with autocast():
                real_scores, fake_scores = d(real), d(fake)
                if wgan:
                    d_loss = wasserstein_critic_loss(real_scores.float(), fake_scores.float())
                    if gp_weight:
                        d_loss = d_loss + gp_weight * gradient_penalty(d, real, fake)
                else:
                    d_loss = nonsaturating_discriminator_loss(real_scores.float(), fake_scores.float())
            d_opt.zero_grad(set_to_none=True)
            d_scaler.scale(d_loss).backward()
            d_scaler.step(d_opt)
            d_scaler.update()
            critic_steps += 1
            if critic_steps % n_critic:
                continue
            d.requires_grad_(False)
            with autocast():
                scores = d(g(torch.randn(len(real), LATENT, device=real.device))).float()
                g_loss = wasserstein_generator_loss(scores) if wgan else nonsaturating_generator_loss(scores)
            g_opt.zero_grad(set_to_none=True)
            g_scaler.scale(g_loss).backward()
            g_scaler.step(g_opt)
            g_scaler.update()
            d.requires_grad_(True)
            generator_steps += 1
            if generator_steps == steps:
                break
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def _peak_memory_mib(run, *args: object) -> float:
    torch.cuda.reset_peak_memory_stats()
    run(*args)
    return torch.cuda.max_memory_allocated() / 2**20


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", nargs="+", default=list(OBJECTIVES), choices=OBJECTIVES)
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=PRECISIONS)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=50, help="generator steps per arm and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(
            "gpu_throughput.py: no CUDA device here (torch.cuda.is_available() is False); "
            "nothing was measured. Run it on a machine with an NVIDIA GPU."
        )
        return {}
    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda")
    images = torch.rand(8 * args.batch_size, 3, 64, 64, device=device) * 2 - 1
    props = torch.cuda.get_device_properties(device)
    results = {
        "device": torch.cuda.get_device_name(device),
        "memory_gib": round(props.total_memory / 2**30, 1),
        "capability": f"{props.major}.{props.minor}",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "rounds": args.rounds,
        "rows": [],
    }
    arms = {"gan_lightning": run_lightning, "plain_pytorch": run_plain}
    for objective in args.objectives:
        n_critic = optimisers(objective)[0]
        for precision in args.precisions:
            for run in arms.values():  # warm-up: cuDNN autotuning, allocator, first-call costs
                run(objective, images, 5, args.batch_size, precision)
            times: dict[str, list[float]] = {arm: [] for arm in arms}
            for _ in range(args.rounds):
                for arm, run in arms.items():  # A B A B ...
                    times[arm].append(run(objective, images, args.steps, args.batch_size, precision))
            seconds = {arm: statistics.median(t) for arm, t in times.items()}
            ratios = [a / b for a, b in zip(times["gan_lightning"], times["plain_pytorch"], strict=True)]
            row = {
                "objective": objective,
                "precision": precision,
                "seconds_per_g_step": seconds,
                "images_per_s": {a: n_critic * args.batch_size / s for a, s in seconds.items()},
                "g_steps_per_s": {a: 1 / s for a, s in seconds.items()},
                "ratio_median": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "peak_memory_mib": {
                    a: _peak_memory_mib(run, objective, images, 5, args.batch_size, precision)
                    for a, run in arms.items()
                },
            }
            if objective == "wgan_gp":
                without = statistics.median(
                    run_plain(objective, images, args.steps, args.batch_size, precision, gp_weight=0.0)
                    for _ in range(args.rounds)
                )
                row["gradient_penalty_share"] = 1 - without / seconds["plain_pytorch"]
            results["rows"].append(row)
            print(json.dumps(row))
    lines = [
        f"{results['device']} ({results['memory_gib']} GiB), torch {results['torch']}, "
        f"CUDA {results['cuda']}; DCGAN 64x64x3, batch {args.batch_size}, "
        f"{args.steps} generator steps x {args.rounds} rounds per arm",
        "",
        "| objective | precision | images/s gan-lightning | images/s plain | ratio of s per G step median "
        "[min, max] | peak GPU MiB (gl / plain) | gradient-penalty share |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        ips, mem = r["images_per_s"], r["peak_memory_mib"]
        share = f"{100 * r['gradient_penalty_share']:.0f}%" if "gradient_penalty_share" in r else "-"
        lines.append(
            f"| {r['objective']} | {r['precision']} | {ips['gan_lightning']:.0f} | "
            f"{ips['plain_pytorch']:.0f} | "
            f"{r['ratio_median']:.3f} [{r['ratio_min']:.3f}, {r['ratio_max']:.3f}] | "
            f"{mem['gan_lightning']:.0f} / {mem['plain_pytorch']:.0f} | {share} |"
        )
    table = "\n".join(lines)
    print(table)
    results["table"] = table
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_throughput.json").write_text(json.dumps(results, indent=2))
    (args.out / "gpu_throughput.md").write_text(table + "\n")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
