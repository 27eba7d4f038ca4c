"""Measuring what a GAN learned, outside any training loop: the :class:`Evaluator` and its reports.

* Image data: FID, KID, Inception Score and precision/recall (:mod:`gan_lightning.metrics.image`) of
  ``num_generated`` generated images (default 10,000) against the first ``num_real`` images (default 10,000)
  of the data module's held-out set (its ``val_dataloader``; the training set when nothing is held out).
  The real statistics are extracted once and reused at every evaluation.
* 2D mixtures (a data module with ``mode_centers`` and ``mode_std``, e.g. ``ToyDataModule``): VEEGAN/PacGAN
  mode coverage of 2,500 generated points (:mod:`gan_lightning.metrics.mode_coverage`).
* A data module may name the extractor that ``auto`` resolves to (``default_feature_extractor``) and the
  default number of generated samples (``default_num_generated``): ``StackedMNISTDataModule`` names the LeNet,
  whose ``classes`` metric reads each of the three channels (modes covered of 1,000, KL to uniform), and
  PacGAN's 26,000 samples.
* Conditional models: every sample is generated with a uniformly drawn label; with a classifier extractor
  (the LeNet), ``label_accuracy`` is the fraction of samples classified as their label.

Samples are drawn by ``GANModule.generate`` (eval mode, no gradients, the EMA generator when there is one)
from seeded latents, so two evaluations of the same weights give the same numbers. Under DDP every rank
generates and extracts its share and torchmetrics gathers the states. The feature extractor lives in the
evaluator, never in the LightningModule, so model checkpoints do not carry its weights.

Used by the training callback (:class:`gan_lightning.callbacks.Evaluation`) and by the commands
``gan-lightning evaluate`` and ``gan-lightning real-floor`` (:mod:`gan_lightning.commands`), which write
their results with :func:`write_report`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities.model_helpers import is_overridden
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from gan_lightning.data.loading import collate
from gan_lightning.metrics.image import IMAGE_METRICS, ImageMetrics, build_feature_extractor
from gan_lightning.metrics.mode_coverage import NUM_POINTS, ModeCoverage
from gan_lightning.networks.conditional import draw_labels, self_conditioned
from gan_lightning.paths import PathOrURL, is_url, with_suffix, writing

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
    "classes_covered": "Classes covered (predicted)",
    "class_kl": "KL(predicted classes || uniform)",
    "label_accuracy": "Label accuracy (LeNet)",
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


def generated_batches_with_labels(
    module: L.LightningModule, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1
) -> Iterator[tuple[Tensor, Tensor | None]]:
    """n samples of ``module.generate`` in batches, with the labels they were generated with (``None`` for an
    unconditional model), from latents and labels (uniform, or a self-conditioned model's cluster prior) drawn with
    ``seed``.

    Under DDP every rank draws the same global latents and labels and generates rows ``rank::world`` of each
    batch, so the ranks together generate exactly the samples one process would.
    """
    generator = torch.Generator().manual_seed(seed)
    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        z = torch.randn(size, module.generator.latent_dim, generator=generator)[rank::world]
        labels = (
            draw_labels(module.generator, size, generator)[rank::world].to(module.device)
            if module.num_classes
            else None
        )
        if len(z):
            yield module.generate(len(z), labels=labels, z=z), labels


def generated_batches(
    module: L.LightningModule, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1
) -> Iterator[Tensor]:
    """The samples of :func:`generated_batches_with_labels`, without their labels."""
    for samples, _ in generated_batches_with_labels(module, n, batch_size, seed, rank, world):
        yield samples


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
    for batch in DataLoader(
        Subset(dataset, indices), batch_size=batch_size, shuffle=False, collate_fn=collate
    ):
        yield batch[0] if isinstance(batch, (list, tuple)) else batch


def resolve_extractor(name: str, data_shape: tuple[int, ...], datamodule: object = None) -> str:
    """``auto`` -> the data module's ``default_feature_extractor`` when it names one (Stacked MNIST: ``lenet``),
    else ``lenet`` for one-channel (MNIST-like) images and ``inception`` otherwise."""
    if name != "auto":
        return name
    preferred = getattr(datamodule, "default_feature_extractor", None)
    if isinstance(preferred, str):
        return preferred
    return "lenet" if data_shape[0] == 1 else "inception"


def default_num_generated(datamodule: object) -> int:
    """Generated images of an evaluation unless configured: the data module's ``default_num_generated``
    (Stacked MNIST: 26,000), else 10,000."""
    n = getattr(datamodule, "default_num_generated", None)
    return n if isinstance(n, int) and n >= 2 else NUM_GENERATED_IMAGES


# ------------------------------------------------------------------------------------------ evaluator
class Evaluator:
    """Computes the metrics of a GANModule against its data module; keeps the real statistics between calls.

    Args:
        image_metrics: for image data, which of ``fid``, ``kid``, ``is``, ``pr`` (precision/recall),
            ``classes`` and ``label_accuracy`` (conditional models; both need a classifier extractor).
        num_generated: generated samples per evaluation; ``None``: 10,000 images (or the data module's
            ``default_num_generated``, e.g. 26,000 for Stacked MNIST), or the 2,500 points of the
            mode-coverage protocol for 2D data.
        num_real: real images in the reference set (the first ones of the held-out set).
        feature_extractor: ``auto`` (the data module's ``default_feature_extractor``, else ``lenet`` for
            one-channel images and ``inception`` otherwise), ``lenet``, ``inception``, or any extractor module
            (see :mod:`gan_lightning.metrics.image`).
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

    def _extractor(self, module: L.LightningModule, datamodule: L.LightningDataModule | None) -> nn.Module:
        if isinstance(self.feature_extractor, nn.Module):
            self.extractor_name = type(self.feature_extractor).__name__
            return self.feature_extractor
        shape = _image_shape(module)
        self.extractor_name = resolve_extractor(self.feature_extractor, shape, datamodule)
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
        if "label_accuracy" in self.image_metrics and (
            not module.num_classes or self_conditioned(module.generator)
        ):
            raise ValueError(
                "evaluation.image_metrics 'label_accuracy' needs a class-conditional model (a generator with "
                "num_classes, trained on class labels); this one is unconditional or self-conditioned"
            )
        if self.metrics is None:  # first call: build the extractor and extract the real set once
            self.metrics = ImageMetrics(
                self._extractor(module, datamodule),
                self.image_metrics,
                kid_subset_size=self.kid_subset_size,
                channels=_image_shape(module)[0],  # sizes the `classes` histogram (per channel: K^C)
            )
            self.metrics.to(module.device)
            for images in real_batches(real_dataset(datamodule), self.num_real, self.batch_size, rank, world):
                self.metrics.update(images.to(module.device), real=True)
        self.metrics.to(module.device)
        n = self.num_generated or default_num_generated(datamodule)
        for images, labels in generated_batches_with_labels(
            module, n, self.batch_size, self.seed, rank, world
        ):
            self.metrics.update(images.float(), real=False, labels=labels)
        # KID and IS draw random subsets: a fixed seed keeps them reproducible and the training RNG untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            results = self.metrics.compute()
        self.metrics.reset_generated()
        return results


def _image_shape(module: L.LightningModule) -> tuple[int, ...]:
    return tuple(getattr(module.generator, "out_shape", None) or module.generate(1).shape[1:])


def real_vs_real(
    images: Tensor,
    extractor: torch.nn.Module,
    metrics: list[str] | tuple[str, ...] = ("fid", "kid", "is", "pr", "classes"),
    seed: int = 0,
    batch_size: int = 1000,
) -> dict[str, float]:
    """The metrics between two random halves of a real image set: the floor a perfect generator would reach.

    Args:
        images: real images in [-1, 1] ``(N, C, H, W)``.
        extractor: the feature extractor.
        metrics: which image metrics (``is`` is the Inception Score of the second half); not
            ``label_accuracy``, which needs generated images and their labels.
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


# ------------------------------------------------------------------------------------------ reports
def format_table(results: dict[str, float], title: str = "") -> str:
    """A Markdown table of metric values."""
    lines = ([f"**{title}**", ""] if title else []) + ["| metric | value |", "|---|---:|"]
    for key, value in results.items():
        shown = f"{value:.0f}" if key == "modes" else ("nan" if math.isnan(value) else f"{value:.4g}")
        lines.append(f"| {METRIC_NAMES.get(key, key)} | {shown} |")
    return "\n".join(lines)


def _write_text_atomically(path: Path, text: str) -> None:
    """``path`` holds ``text`` or what it held before: a temporary file in its folder, then ``os.replace``."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as file:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(file.fileno(), 0o666 & ~umask)  # as an ordinary write would leave it (mkstemp: 0o600)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_report(results: dict[str, float], info: dict[str, Any], out: PathOrURL, title: str) -> None:
    """The table printed, then ``out``.json (``info`` plus the metrics) and ``out``.md (the table).

    The table is printed first, so that a destination that cannot be written loses no metric; each file is
    written atomically (a temporary file in its folder, then renamed into place).

    Raises:
        OSError: a file could not be written; one line naming it.
    """
    table = format_table(results, title)
    print(table, flush=True)
    files = {
        with_suffix(out, ".json"): json.dumps({**info, "metrics": results}, indent=2) + "\n",
        with_suffix(out, ".md"): table + "\n",
    }
    for path, text in files.items():
        try:
            if is_url(path):  # an object store puts a whole object at once
                with writing(path) as local:
                    local.write_text(text)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_text_atomically(path, text)
        except OSError as error:
            raise OSError(
                f"could not write the report {path}: {error.strerror or error} (the metrics are printed above)"
            ) from error
    print(f"Saved {with_suffix(out, '.json')} and {with_suffix(out, '.md')}")
