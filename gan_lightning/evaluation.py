"""Measuring what a GAN learned: metrics during training (the :class:`Evaluation` callback) and on demand.

* Image data: FID, KID, Inception Score and precision/recall (:mod:`gan_lightning.metrics.image`) of
  ``num_generated`` generated images (default 10,000) against the first ``num_real`` images (default 10,000)
  of the data module's held-out set (its ``val_dataloader``; the training set when nothing is held out).
  The real statistics are extracted once and reused at every evaluation.
* 2D mixtures (a data module with ``mode_centers`` and ``mode_std``, e.g. ``ToyDataModule``): VEEGAN/PacGAN
  mode coverage of 2,500 generated points (:mod:`gan_lightning.metrics.mode_coverage`).

Samples are drawn by ``GANModule.generate`` (eval mode, no gradients, the EMA generator when there is one)
from seeded latents, so two evaluations of the same weights give the same numbers. Under DDP every rank
generates and extracts its share and torchmetrics gathers the states. The feature extractor lives in the
callback, never in the LightningModule, so model checkpoints do not carry its weights.

Commands (registered in ``gan_lightning.cli.COMMANDS``)::

    gan-lightning evaluate --ckpt_path runs/x/version_0/checkpoints/last.ckpt [--config CONFIG]
    gan-lightning sample --ckpt_path CKPT --n 64 --out grid.png        (or --out samples.npz)
    gan-lightning train-evaluator --data ../shared/data/mnist --out evaluator.pt
    gan-lightning real-floor --data ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities.model_helpers import is_overridden
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from gan_lightning.metrics.image import IMAGE_METRICS, ImageMetrics, build_feature_extractor
from gan_lightning.metrics.mode_coverage import NUM_POINTS, ModeCoverage

#: Generated images per image evaluation unless configured (the usual FID sample size is 10k-50k).
NUM_GENERATED_IMAGES = 10_000
#: Real images of the reference set unless configured.
NUM_REAL_IMAGES = 10_000

METRIC_NAMES = {
    "fid": "FID",
    "kid_mean": "KID",
    "kid_std": "KID std",
    "is_mean": "Inception Score",
    "is_std": "IS std",
    "precision": "Precision (k=3)",
    "recall": "Recall (k=3)",
    "modes": "Modes captured",
    "high_quality": "High-quality samples (%)",
    "reverse_kl": "Reverse KL (modes vs uniform)",
}


# ------------------------------------------------------------------------------------------ sample sources
def _rank_and_world() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def is_image_model(module: L.LightningModule) -> bool:
    """Whether the generator makes images (C, H, W) rather than points."""
    shape = getattr(module.generator, "out_shape", None)
    return len(shape if shape is not None else module.generate(1).shape[1:]) == 3


def generated_batches(
    module: L.LightningModule, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1
) -> Iterator[Tensor]:
    """n samples of ``module.generate`` in batches, from latents (and uniform labels) drawn with ``seed``.

    Under DDP every rank draws the same global latents and generates rows ``rank::world`` of each batch,
    so the ranks together generate exactly the samples one process would.
    """
    generator = torch.Generator().manual_seed(seed)
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        z = torch.randn(size, module.generator.latent_dim, generator=generator)[rank::world]
        labels = (
            torch.randint(module.num_classes, (size,), generator=generator)[rank::world]
            if module.num_classes
            else None
        )
        if len(z):
            yield module.generate(len(z), labels=None if labels is None else labels.to(module.device), z=z)


def real_dataset(datamodule: L.LightningDataModule) -> Dataset:
    """The held-out real set of a data module (its val loader's dataset), else its training set."""
    if is_overridden("val_dataloader", datamodule, L.LightningDataModule):
        loader = datamodule.val_dataloader()
        if isinstance(loader, DataLoader) and len(loader.dataset):
            return loader.dataset
    return datamodule.train_dataloader().dataset


def real_batches(
    dataset: Dataset, n: int, batch_size: int, rank: int = 0, world: int = 1
) -> Iterator[Tensor]:
    """The first n samples of ``dataset`` (rank r takes every world-th of them), without labels."""
    indices = list(range(min(n, len(dataset))))[rank::world]
    for batch in DataLoader(Subset(dataset, indices), batch_size=batch_size, shuffle=False):
        yield batch[0] if isinstance(batch, (list, tuple)) else batch


def resolve_extractor(name: str, data_shape: tuple[int, ...]) -> str:
    """``auto`` -> ``lenet`` for one-channel (MNIST-like) images, ``inception`` otherwise."""
    if name != "auto":
        return name
    return "lenet" if data_shape[0] == 1 else "inception"


# ------------------------------------------------------------------------------------------ evaluator
class Evaluator:
    """Computes the metrics of a GANModule against its data module; keeps the real statistics between calls.

    Args:
        image_metrics: for image data, which of ``fid``, ``kid``, ``is``, ``pr`` (precision/recall).
        num_generated: generated samples per evaluation; ``None``: 10,000 images, or the 2,500 points of the
            mode-coverage protocol for 2D data.
        num_real: real images in the reference set (the first ones of the held-out set).
        feature_extractor: ``auto`` (``lenet`` for one-channel images, else ``inception``), ``lenet``,
            ``inception``, or any extractor module (see :mod:`gan_lightning.metrics.image`).
        feature_extractor_weights: a local weights file for the extractor (see ``docs/evaluation.md``).
        batch_size: images per generation / extraction batch.
        seed: seed of the latents.
        kid_subset_size: KID's subset size (lowered to the number of samples when there are fewer).
    """

    def __init__(
        self,
        image_metrics: list[str] | tuple[str, ...] = ("fid", "kid"),
        num_generated: int | None = None,
        num_real: int = NUM_REAL_IMAGES,
        feature_extractor: str | nn.Module = "auto",
        feature_extractor_weights: str | None = None,
        batch_size: int = 500,
        seed: int = 0,
        kid_subset_size: int = 1000,
    ) -> None:
        unknown = sorted(set(image_metrics) - set(IMAGE_METRICS))
        if unknown:
            raise ValueError(
                f"evaluation.image_metrics must be a list of {', '.join(IMAGE_METRICS)}; got {unknown}"
            )
        if not isinstance(feature_extractor, nn.Module) and feature_extractor not in (
            "auto",
            "lenet",
            "inception",
        ):
            raise ValueError(
                f"evaluation.feature_extractor must be auto, lenet or inception; got {feature_extractor!r}"
            )
        for key, value in (
            ("num_real", num_real),
            ("batch_size", batch_size),
            ("num_generated", num_generated or 2),
        ):
            if value < 2:
                raise ValueError(f"evaluation.{key} must be at least 2, got {value}")
        self.image_metrics = tuple(image_metrics)
        self.num_generated, self.num_real = num_generated, num_real
        self.feature_extractor, self.feature_extractor_weights = feature_extractor, feature_extractor_weights
        self.batch_size, self.seed, self.kid_subset_size = batch_size, seed, kid_subset_size
        self.metrics: ImageMetrics | None = None
        self.extractor_name: str | None = None

    def _extractor(self, module: L.LightningModule) -> nn.Module:
        if isinstance(self.feature_extractor, nn.Module):
            self.extractor_name = type(self.feature_extractor).__name__
            return self.feature_extractor
        shape = tuple(getattr(module.generator, "out_shape", None) or module.generate(1).shape[1:])
        self.extractor_name = resolve_extractor(self.feature_extractor, shape)
        return build_feature_extractor(self.extractor_name, self.feature_extractor_weights)

    @torch.no_grad()
    def evaluate(
        self, module: L.LightningModule, datamodule: L.LightningDataModule | None
    ) -> dict[str, float]:
        """The metrics of the module's current generator (an empty dict when none applies)."""
        if is_image_model(module):
            return self._images(module, datamodule) if self.image_metrics and datamodule is not None else {}
        if getattr(datamodule, "mode_centers", None) is not None:
            return self._modes(module, datamodule)
        return {}

    def _modes(self, module: L.LightningModule, datamodule: L.LightningDataModule) -> dict[str, float]:
        rank, world = _rank_and_world()
        metric = ModeCoverage(datamodule.mode_centers, datamodule.mode_std).to(module.device)
        n = self.num_generated or NUM_POINTS
        for points in generated_batches(module, n, max(self.batch_size, NUM_POINTS), self.seed, rank, world):
            metric.update(points.float())
        return metric.compute()

    def _images(self, module: L.LightningModule, datamodule: L.LightningDataModule) -> dict[str, float]:
        rank, world = _rank_and_world()
        if self.metrics is None:  # first call: build the extractor and extract the real set once
            self.metrics = ImageMetrics(
                self._extractor(module), self.image_metrics, kid_subset_size=self.kid_subset_size
            )
            self.metrics.to(module.device)
            for images in real_batches(real_dataset(datamodule), self.num_real, self.batch_size, rank, world):
                self.metrics.update(images.to(module.device), real=True)
        self.metrics.to(module.device)
        n = self.num_generated or NUM_GENERATED_IMAGES
        for images in generated_batches(module, n, self.batch_size, self.seed, rank, world):
            self.metrics.update(images.float(), real=False)
        # KID and IS draw random subsets: a fixed seed keeps them reproducible and the training RNG untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            results = self.metrics.compute()
        self.metrics.reset_generated()
        return results


class Evaluation(Callback):
    """Evaluates the generator after every ``every_n_epochs``-th training epoch and logs ``eval/<metric>``.

    2D mixtures (data modules with ``mode_centers``): modes captured, % high-quality points and reverse KL of
    2,500 points, every time (cheap). Image data: the ``image_metrics`` listed (none by default, since 10,000
    generated images cost about an epoch of generator passes), e.g.
    ``--evaluation.image_metrics [fid,kid] --evaluation.every_n_epochs 5``. Values are synced over DDP ranks,
    so ``ModelCheckpoint(monitor="eval/fid", mode="min")`` works.

    Args:
        every_n_epochs: how often to evaluate (0: never).
        image_metrics: for image data, which of ``fid``, ``kid``, ``is``, ``pr``.
        num_generated: generated samples per evaluation (``None``: 10,000 images or 2,500 points).
        num_real: real images in the reference set.
        feature_extractor: ``auto`` (``lenet`` for one-channel images, else ``inception``), ``lenet``,
            ``inception``.
        feature_extractor_weights: a local weights file for the extractor.
        batch_size: images per generation / extraction batch.
        seed: seed of the latents.
    """

    def __init__(
        self,
        every_n_epochs: int = 1,
        image_metrics: list[str] | None = None,
        num_generated: int | None = None,
        num_real: int = NUM_REAL_IMAGES,
        feature_extractor: str = "auto",
        feature_extractor_weights: str | None = None,
        batch_size: int = 500,
        seed: int = 0,
    ) -> None:
        if every_n_epochs < 0:
            raise ValueError(f"evaluation.every_n_epochs must be 0 (never) or positive, got {every_n_epochs}")
        self.every_n_epochs = every_n_epochs
        self.evaluator = Evaluator(
            image_metrics or (), num_generated, num_real, feature_extractor, feature_extractor_weights,
            batch_size, seed,
        )  # fmt: skip

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.every_n_epochs or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        results = self.evaluator.evaluate(pl_module, getattr(trainer, "datamodule", None))
        if results:
            values = {f"eval/{k}": torch.tensor(v, dtype=torch.float32) for k, v in results.items()}
            # Equal on every rank already (torchmetrics synced them); sync_dist spares Lightning's warning.
            pl_module.log_dict(values, on_step=False, on_epoch=True, batch_size=1, sync_dist=True)


# ------------------------------------------------------------------------------------------ loading runs
def default_config(ckpt_path: Path) -> Path:
    """The config LightningCLI saved with a run: ``<run>/config.yaml`` for ``<run>/checkpoints/x.ckpt``."""
    return ckpt_path.parent.parent / "config.yaml"


def load_run(
    ckpt_path: str | Path, config: str | Path | None = None, device: str | torch.device = "cpu"
) -> tuple[L.LightningModule, L.LightningDataModule]:
    """The model (weights from the checkpoint, eval mode) and the data module of a run, built from its config.

    Args:
        ckpt_path: a Lightning checkpoint of a GANModule.
        config: the run's YAML config; ``None`` uses the ``config.yaml`` LightningCLI saved next to the run.
        device: where to put the model.
    """
    from lightning.pytorch.cli import LightningArgumentParser

    import gan_lightning.cli  # noqa: F401 - registers the library's classes under their short names
    from gan_lightning.module import GANModule

    ckpt_path = Path(ckpt_path)
    if not ckpt_path.is_file():
        raise FileNotFoundError(f"checkpoint {ckpt_path} does not exist")
    config = Path(config) if config is not None else default_config(ckpt_path)
    if not config.is_file():
        raise FileNotFoundError(f"config {config} does not exist: pass the run's config with --config")
    settings = yaml.safe_load(config.read_text()) or {}
    # A saved `fit` config also holds keys of the fit subcommand only; keep what builds model and data.
    settings = {k: v for k, v in settings.items() if k in ("model", "data")}
    # LightningCLI's own parser for the two groups: no Trainer is built.
    parser = LightningArgumentParser(exit_on_error=False)
    parser.add_lightning_class_args(GANModule, "model", subclass_mode=True)
    parser.add_lightning_class_args(L.LightningDataModule, "data", subclass_mode=True)
    built = parser.instantiate_classes(parser.parse_object(settings))
    module, datamodule = built.model, built.data
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    module.on_load_checkpoint(checkpoint)  # gives an EMA generator a home before the weights load
    module.load_state_dict(checkpoint["state_dict"])
    return module.to(device).eval(), datamodule


def _device(name: str) -> torch.device:
    return torch.device(("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name)


# ------------------------------------------------------------------------------------------ commands
def format_table(results: dict[str, float], title: str = "") -> str:
    """A Markdown table of metric values."""
    lines = ([f"**{title}**", ""] if title else []) + ["| metric | value |", "|---|---:|"]
    for key, value in results.items():
        shown = f"{value:.0f}" if key == "modes" else ("nan" if math.isnan(value) else f"{value:.4g}")
        lines.append(f"| {METRIC_NAMES.get(key, key)} | {shown} |")
    return "\n".join(lines)


def _write_report(results: dict[str, float], info: dict[str, Any], out: Path, title: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    table = format_table(results, title)
    out.with_suffix(".json").write_text(json.dumps({**info, "metrics": results}, indent=2) + "\n")
    out.with_suffix(".md").write_text(table + "\n")
    print(table)
    print(f"Saved {out.with_suffix('.json')} and {out.with_suffix('.md')}")


def _metric_list(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


def evaluate_command(argv: list[str]) -> dict[str, float]:
    """`gan-lightning evaluate`: metrics of a checkpoint, printed and saved as JSON and Markdown."""
    parser = argparse.ArgumentParser(prog="gan-lightning evaluate", description=evaluate_command.__doc__)
    parser.add_argument("--ckpt_path", required=True, help="checkpoint of a GANModule")
    parser.add_argument("--config", default=None, help="the run's config (default: <run>/config.yaml)")
    parser.add_argument("--num_generated", type=int, default=None, help="default: 10000 images / 2500 points")
    parser.add_argument("--num_real", type=int, default=NUM_REAL_IMAGES)
    parser.add_argument(
        "--image_metrics", default="fid,kid,is,pr", help="comma-separated subset of fid,kid,is,pr"
    )
    parser.add_argument("--feature_extractor", default="auto", choices=["auto", "lenet", "inception"])
    parser.add_argument(
        "--feature_extractor_weights", default=None, help="local weights file of the extractor"
    )
    parser.add_argument("--batch_size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--out", default=None, help="output path without suffix (default: next to the checkpoint)"
    )
    args = parser.parse_args(argv)

    module, datamodule = load_run(args.ckpt_path, args.config, _device(args.device))
    datamodule.prepare_data()
    datamodule.setup("fit")
    evaluator = Evaluator(
        _metric_list(args.image_metrics), args.num_generated, args.num_real, args.feature_extractor,
        args.feature_extractor_weights, args.batch_size, args.seed,
    )  # fmt: skip
    results = evaluator.evaluate(module, datamodule)
    ckpt = Path(args.ckpt_path)
    image = is_image_model(module)
    info = {
        "checkpoint": str(ckpt),
        "generator_steps": getattr(module, "generator_steps", None),
        "ema": getattr(module, "ema_generator", None) is not None,
        "feature_extractor": evaluator.extractor_name,
        "num_generated": args.num_generated or (NUM_GENERATED_IMAGES if image else NUM_POINTS),
        "num_real": min(args.num_real, len(real_dataset(datamodule))) if image else None,
    }
    title = f"{ckpt.name}" + (f" ({evaluator.extractor_name} features)" if image else "")
    out = Path(args.out) if args.out else ckpt.with_name(f"{ckpt.stem}_metrics")
    _write_report(results, info, out, title)
    return results


def sample_command(argv: list[str]) -> Path:
    """`gan-lightning sample`: n samples of a checkpoint as a PNG grid (or scatter plot) or an .npz file."""
    parser = argparse.ArgumentParser(prog="gan-lightning sample", description=sample_command.__doc__)
    parser.add_argument("--ckpt_path", required=True, help="checkpoint of a GANModule")
    parser.add_argument("--config", default=None, help="the run's config (default: <run>/config.yaml)")
    parser.add_argument("--n", type=int, default=64, help="number of samples")
    parser.add_argument("--out", default="samples.png", help="output file")
    parser.add_argument("--format", default=None, choices=["png", "npz"], help="default: from --out's suffix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--nrow", type=int, default=None, help="images per grid row (default: square / per class)"
    )
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    if args.n < 1:
        raise ValueError(f"--n must be a positive number of samples, got {args.n}")
    fmt = args.format or ("npz" if args.out.endswith(".npz") else "png")
    out = Path(args.out)
    out = out if out.suffix == f".{fmt}" else out.with_suffix(f".{fmt}")
    out.parent.mkdir(parents=True, exist_ok=True)

    module, datamodule = load_run(args.ckpt_path, args.config, _device(args.device))
    generator = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.n, module.generator.latent_dim, generator=generator)
    # Conditional models: one class per grid row, in order.
    labels = module.grid_labels(args.n).to(module.device) if module.num_classes else None
    samples = module.generate(args.n, labels=labels, z=z).float().cpu()
    if fmt == "npz":
        import numpy as np

        arrays = {"samples": samples.numpy()}
        if labels is not None:
            arrays["labels"] = labels.cpu().numpy()
        np.savez_compressed(out, **arrays)
    elif samples.dim() == 4:
        from torchvision.utils import save_image

        save_image(
            samples, out, nrow=args.nrow or module.grid_width(args.n), normalize=True, value_range=(-1, 1)
        )
    else:
        from gan_lightning.callbacks import scatter_2d

        real = datamodule.sample(args.n) if hasattr(datamodule, "sample") else samples[:0]
        scatter_2d(module, real, samples, out, f"{Path(args.ckpt_path).name}: {args.n} samples")
    print(f"Saved {args.n} samples to {out}")
    return out


def train_evaluator_command(argv: list[str]) -> float:
    """`gan-lightning train-evaluator`: train the MNIST LeNet extractor and report its test accuracy."""
    from gan_lightning.data.mnist import load_mnist
    from gan_lightning.metrics.lenet import accuracy, save_lenet, train_lenet

    parser = argparse.ArgumentParser(
        prog="gan-lightning train-evaluator", description=train_evaluator_command.__doc__
    )
    parser.add_argument("--data", required=True, help="folder of MNIST IDX files (train and/or t10k)")
    parser.add_argument("--out", default="evaluator.pt", help="where to save the weights")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument(
        "--holdout", type=int, default=2000, help="test images held out when only one split exists"
    )
    parser.add_argument("--seed", type=int, default=0)
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
    model = train_lenet(*train, epochs=args.epochs, seed=args.seed)
    acc = accuracy(model, *test)
    save_lenet(model, args.out, accuracy=acc, trained_on=source)
    size_kb = Path(args.out).stat().st_size / 1024
    print(f"LeNet test accuracy: {100 * acc:.2f}% on {len(test[0])} images; trained on {source}")
    print(f"Saved {args.out} ({size_kb:.0f} KB)")
    return acc


def real_vs_real(
    images: Tensor,
    extractor: torch.nn.Module,
    metrics: list[str] | tuple[str, ...] = IMAGE_METRICS,
    seed: int = 0,
    batch_size: int = 1000,
) -> dict[str, float]:
    """The metrics between two random halves of a real image set: the floor a perfect generator would reach.

    Args:
        images: real images in [-1, 1] ``(N, C, H, W)``.
        extractor: the feature extractor.
        metrics: which image metrics (``is`` is the Inception Score of the second half).
        seed: seed of the split (and of KID/IS's random subsets).
        batch_size: images per extraction batch.
    """
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    half = len(images) // 2
    scores = ImageMetrics(extractor, metrics, kid_subset_size=min(1000, half))
    for idx in order[:half].split(batch_size):
        scores.update(images[idx], real=True)
    for idx in order[half : 2 * half].split(batch_size):
        scores.update(images[idx], real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return scores.compute()


def real_floor_command(argv: list[str]) -> dict[str, float]:
    """`gan-lightning real-floor`: metrics between two random halves of the real MNIST images."""
    from gan_lightning.data.mnist import load_mnist

    parser = argparse.ArgumentParser(prog="gan-lightning real-floor", description=real_floor_command.__doc__)
    parser.add_argument("--data", required=True, help="folder of MNIST IDX files")
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument("--image_metrics", default="fid,kid,is,pr")
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
    results = real_vs_real(images, extractor, _metric_list(args.image_metrics), args.seed)
    title = (
        f"real vs real: random halves of {len(images)} MNIST {args.split} images ({args.feature_extractor})"
    )
    if args.out:
        _write_report(
            results, {"data": args.data, "split": args.split, "seed": args.seed}, Path(args.out), title
        )
    else:
        print(format_table(results, title))
    return results
