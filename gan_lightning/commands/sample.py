"""`gan-lightning sample`: samples of a checkpoint, from seeded latents, as a picture or as arrays.

gan-lightning sample --ckpt_path RUN/checkpoints/last.ckpt --n 100 --out samples.png
gan-lightning sample --ckpt_path ... --truncation 0.7           # the truncation trick
gan-lightning sample --ckpt_path ... --interpolate 10 --n 80    # 8 slerp paths of 10 steps, + a GIF

--ckpt_path and --out may be fsspec URLs (s3://..., memory://...): the run's config.yaml is read beside a
remote checkpoint, and a remote --out is written locally first, then uploaded.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gan_lightning.callbacks.progress import progress_bar
from gan_lightning.commands import add_weights_only_argument, command_parser
from gan_lightning.latents import interpolation_latents, seeded_latents, truncate
from gan_lightning.networks.conditional import self_conditioned
from gan_lightning.paths import PathOrURL, as_path, with_suffix, writing
from gan_lightning.runs import load_run, resolve_device


def main(argv: list[str]) -> PathOrURL:
    """`gan-lightning sample`: n samples of a checkpoint as a PNG grid (or scatter plot) or an .npz file."""
    parser = command_parser("sample", main.__doc__)
    parser.add_argument("--ckpt_path", required=True, help="checkpoint of a GANModule")
    parser.add_argument("--config", default=None, help="the run's config (default: <run>/config.yaml)")
    parser.add_argument("--n", type=int, default=64, help="number of samples")
    parser.add_argument("--out", default="samples.png", help="output file")
    parser.add_argument("--format", default=None, choices=["png", "npz"], help="default: from --out's suffix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--nrow", type=int, default=None, help="images per grid row (default: square / per class)"
    )
    parser.add_argument(
        "--truncation", type=float, default=1.0, help="psi in [0, 1]: latents scaled towards 0 (1: off)"
    )
    parser.add_argument(
        "--interpolate",
        type=int,
        default=0,
        metavar="STEPS",
        help="n // STEPS slerp paths between seeded latents, one per row, and an animated GIF beside --out",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch_size", type=int, default=500, help="samples generated at a time")
    add_weights_only_argument(parser)
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (none is shown outside a terminal)"
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        raise ValueError(f"--n must be a positive number of samples, got {args.n}")
    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be a positive number of samples, got {args.batch_size}")
    fmt = args.format or ("npz" if args.out.endswith(".npz") else "png")
    out = as_path(args.out)  # a URL stays a string
    out = out if str(out).endswith(f".{fmt}") else with_suffix(out, f".{fmt}")

    if args.interpolate and args.n < args.interpolate:
        raise ValueError(
            f"--n ({args.n}) must be at least --interpolate ({args.interpolate}): one path at least"
        )
    module, datamodule = load_run(args.ckpt_path, args.config, resolve_device(args.device), args.weights_only)
    latent_dim = module.generator.latent_dim
    if args.interpolate:
        paths, steps = args.n // args.interpolate, args.interpolate
        args.n, args.nrow = paths * steps, steps
        z = interpolation_latents(paths, steps, latent_dim, args.seed)
        # Conditional models: one class per path (a cluster drawn from the prior if self-conditioned), held along it.
        labels = None
        if module.num_classes:
            per_path = (
                module.grid_labels(paths) if self_conditioned(module.generator) else torch.arange(paths)
            )
            labels = (per_path % module.num_classes).repeat_interleave(steps)
    else:
        z = seeded_latents(args.n, latent_dim, args.seed)
        # Class-conditional models: one class per grid row, in order; self-conditioned: clusters from the prior.
        labels = module.grid_labels(args.n) if module.num_classes else None
    z = truncate(z, args.truncation)
    labels = None if labels is None else labels.to(module.device)
    parts = []
    with progress_bar(args.n, "sample", "sample", args.quiet) as bar:
        for start in range(0, args.n, args.batch_size):
            rows = slice(start, start + args.batch_size)
            part = module.generate(len(z[rows]), labels=None if labels is None else labels[rows], z=z[rows])
            parts.append(part.float().cpu())
            bar.update(len(part))
    samples = torch.cat(parts)
    if fmt == "npz":
        import numpy as np

        arrays = {"samples": samples.numpy()}
        if labels is not None:
            arrays["labels"] = labels.cpu().numpy()
        with writing(out) as local:
            np.savez_compressed(local, **arrays)
    elif samples.dim() == 4:
        from torchvision.utils import save_image

        with writing(out) as local:
            nrow = args.nrow or module.grid_width(args.n)
            save_image(samples, local, nrow=nrow, normalize=True, value_range=(-1, 1))
        if args.interpolate:
            save_interpolation_gif(samples, args.interpolate, with_suffix(out, ".gif"))
    elif args.interpolate:
        raise ValueError("--interpolate needs an image model (this checkpoint generates points)")
    else:
        from gan_lightning.plotting import scatter_2d

        real = datamodule.sample(args.n) if hasattr(datamodule, "sample") else samples[:0]
        with writing(out) as local:
            scatter_2d(module, real, samples, local, f"{Path(args.ckpt_path).name}: {args.n} samples")
    print(f"Saved {args.n} samples to {out}")
    return out


def save_interpolation_gif(
    samples: torch.Tensor, steps: int, path: PathOrURL, seconds: float = 2.0
) -> PathOrURL:
    """An animated GIF of interpolation paths: frame t shows every path's t-th image, as a square grid, and the
    animation runs forth and back."""
    from PIL import Image
    from torchvision.utils import make_grid

    paths = samples.reshape(-1, steps, *samples.shape[1:])
    frames = []
    for t in [*range(steps), *range(steps - 2, 0, -1)]:
        grid = make_grid(
            paths[:, t], nrow=max(1, int(len(paths) ** 0.5)), normalize=True, value_range=(-1, 1)
        )
        pixels = grid.mul(255).round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
        frames.append(Image.fromarray(pixels))
    duration = max(20, int(1000 * seconds / steps))
    with writing(path) as local:
        frames[0].save(local, save_all=True, append_images=frames[1:], duration=duration, loop=0)
    print(f"Saved the interpolation animation to {path}")
    return path
