"""FID, KID, Inception Score and precision/recall of images through torchmetrics, with a pluggable extractor.

A *feature extractor* is any ``nn.Module`` with an ``int`` attribute ``num_features`` whose forward takes
images ``(B, C, H, W)`` in [-1, 1] (this library's range) and returns ``(features (B, num_features),
logits (B, classes))``, or only the features (then the Inception Score is unavailable). Two ship:

* ``lenet``: :class:`~gan_lightning.metrics.lenet.LeNet`, the MNIST domain extractor (bundled weights,
  works offline; the extractor of this project's MNIST benchmarks);
* ``inception``: :class:`InceptionV3Features`, torch-fidelity's FID InceptionV3 (2048 pool features and the
  1008 logits), fed uint8 3-channel images as the reference implementation expects.

The extractor runs once per batch; its features go to torchmetrics' ``FrechetInceptionDistance``,
``KernelInceptionDistance`` and ``InceptionScore`` through an identity "extractor" that declares
``num_features``, so the three metrics share one forward pass. Real statistics are kept across
``reset_generated()`` (``reset_real_features=False``): a fixed real set is extracted once and reused.

A classifier extractor (an ``int`` ``num_classes``, e.g. the LeNet) also gives ``classes``, the histogram of
the predicted classes, and, for a conditional generator, ``label_accuracy``: how often the predicted class is
the label the image was generated with (:mod:`gan_lightning.metrics.label_accuracy`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor, nn

#: Image metrics this module computes, as named in configs.
IMAGE_METRICS = ("fid", "kid", "is", "pr", "classes", "label_accuracy")
#: The metrics that read only generated images (the others compare them with the real set).
GENERATED_ONLY_METRICS = ("is", "classes", "label_accuracy")
INCEPTION_WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"


def inception_cache_path() -> Path:
    """Where torch-fidelity downloads (and looks for) the InceptionV3 weights (torch's hub cache)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS_FILE


def to_uint8(images: Tensor, value_range: tuple[float, float] = (-1.0, 1.0)) -> Tensor:
    """Float images in ``value_range`` -> uint8 in [0, 255] (rounded, clamped)."""
    low, high = value_range
    return ((images.float() - low) * (255 / (high - low))).round().clamp(0, 255).to(torch.uint8)


class InceptionV3Features(nn.Module):
    """torch-fidelity's FID InceptionV3: 2048 pool features and 1008 logits of images in [-1, 1].

    Grey images are repeated to three channels; images are mapped to uint8 and resized to 299x299 inside
    (bilinear, like TensorFlow 1's FID code).

    Args:
        weights: a local copy of ``weights-inception-2015-12-05-6726825d.pth``; ``None`` uses torch's hub
            cache (``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/checkpoints``),
            downloading the file there when the machine is online.
    """

    num_features = 2048

    def __init__(self, weights: str | None = None) -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        if weights is not None and not Path(weights).is_file():
            raise FileNotFoundError(f"InceptionV3 weights file {weights} does not exist")
        try:
            # torch-fidelity's network (torchmetrics wraps it) with its TF1-compatible resize: reference FID.
            self.inception = FeatureExtractorInceptionV3(
                "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=weights
            )
        except OSError as error:  # urllib's URLError when offline
            raise RuntimeError(
                f"InceptionV3 weights are not in {inception_cache_path()} and could not be downloaded "
                f"({getattr(error, 'reason', error)}): copy {INCEPTION_WEIGHTS_FILE} there or pass its path "
                "as evaluation.feature_extractor_weights, or use feature_extractor=lenet for MNIST"
            ) from error

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        x = to_uint8(images)
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        features, logits = self.inception(x)
        return features, logits


def build_feature_extractor(name: str, weights: str | None = None) -> nn.Module:
    """The extractor called ``name`` (``lenet`` or ``inception``), frozen and in eval mode.

    Args:
        name: which extractor.
        weights: a local weights file (``None``: LeNet's bundled weights; Inception's hub cache).
    """
    if name == "lenet":
        from gan_lightning.metrics.lenet import load_lenet

        return load_lenet(weights)
    if name == "inception":
        return InceptionV3Features(weights).eval().requires_grad_(False)
    raise ValueError(f"evaluation.feature_extractor must be 'auto', 'lenet' or 'inception', got {name!r}")


class _Precomputed(nn.Identity):
    """Identity 'extractor' for torchmetrics: the features are computed once, outside the metrics."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features


class ImageMetrics(nn.Module):
    """FID / KID / IS / precision-recall of generated images against a fixed real set, on one extractor.

    Call ``update(images, real=True)`` over the real set once, then for every evaluation
    ``update(images, real=False)`` over the generated images, ``compute()`` and ``reset_generated()``.
    Under DDP each rank updates with its share; ``compute()`` gathers all ranks (torchmetrics' sync).
    The extractor is a plain attribute of this object; keep this object out of a LightningModule so that its
    weights stay out of model checkpoints.

    Args:
        extractor: a feature extractor (see the module docstring).
        metrics: which of ``fid``, ``kid``, ``is`` (Inception Score of the generated images), ``pr``,
            ``classes`` (the histogram of the extractor's predicted classes of the generated images: classes
            covered and KL to uniform, :mod:`gan_lightning.metrics.class_histogram`; needs logits). With a
            one-channel classifier (``in_channels = 1``, e.g. the LeNet) and C-channel images, ``classes``
            classifies every channel on its own and combines the K classes as base-K digits, the first channel
            most significant: K^C classes (Stacked MNIST: 100 d_R + 10 d_G + d_B of 1,000).
            ``label_accuracy`` (the fraction of generated images whose predicted class is the label they were
            generated with; needs ``update(..., labels=...)``, i.e. a conditional model, a classifier with
            ``num_classes``, and one-channel images with a one-channel classifier).
        kid_subsets: KID's number of random subsets.
        kid_subset_size: KID's subset size (lowered to the number of samples when there are fewer).
        is_splits: Inception Score's number of splits.
        pr_k: the k of precision/recall's k-NN radii.
        channels: channels of the images (the Evaluator passes the data's), which sizes the ``classes``
            histogram; ``None``: sized from the first batch of images.
    """

    def __init__(
        self,
        extractor: nn.Module,
        metrics: tuple[str, ...] | list[str] = ("fid", "kid"),
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        is_splits: int = 10,
        pr_k: int = 3,
        channels: int | None = None,
    ) -> None:
        super().__init__()
        from torchmetrics.image import FrechetInceptionDistance, InceptionScore, KernelInceptionDistance

        from gan_lightning.metrics.class_histogram import ClassHistogram
        from gan_lightning.metrics.label_accuracy import LabelAccuracy
        from gan_lightning.metrics.precision_recall import PrecisionRecall

        unknown = sorted(set(metrics) - set(IMAGE_METRICS))
        if unknown or not metrics:
            raise ValueError(
                f"evaluation.image_metrics must be a non-empty list of {IMAGE_METRICS}, got {metrics}"
            )
        if not isinstance(getattr(extractor, "num_features", None), int):
            raise ValueError(
                f"the feature extractor {type(extractor).__name__} must have an int `num_features`"
            )
        self.names = tuple(m for m in IMAGE_METRICS if m in metrics)
        self.extractor = [extractor.eval()]  # in a list: not a submodule, so never in a state_dict
        self.kid_subset_size = kid_subset_size
        # Channel count the `classes` histogram was sized for (None: not yet; the first batch sizes it).
        self.class_channels: int | None = None
        d = extractor.num_features
        made = {
            "fid": lambda: FrechetInceptionDistance(_Precomputed(d), reset_real_features=False),
            "kid": lambda: KernelInceptionDistance(
                _Precomputed(d), subsets=kid_subsets, subset_size=kid_subset_size, reset_real_features=False
            ),
            "is": lambda: InceptionScore(_Precomputed(0), splits=is_splits),
            "pr": lambda: PrecisionRecall(k=pr_k, reset_real_features=False),
            "classes": lambda: ClassHistogram(_num_classes(extractor)),
            "label_accuracy": lambda: LabelAccuracy(_num_classes(extractor, "label_accuracy")),
        }
        with warnings.catch_warnings():  # "will save all extracted features in buffer": intended
            warnings.filterwarnings("ignore", ".*will save all extracted features.*")
            self.metrics = nn.ModuleDict({name: made[name]() for name in self.names})
        self.num_real = 0
        if "classes" in self.metrics and channels is not None:
            self._size_class_histogram(channels)
        if "label_accuracy" in self.metrics and channels is not None:
            self._check_one_label_per_image(channels)

    @property
    def splits_channels(self) -> bool:
        """Whether ``classes`` classifies each channel on its own (a one-channel classifier)."""
        return getattr(self.feature_extractor, "in_channels", None) == 1

    def _size_class_histogram(self, channels: int) -> None:
        """Size the ``classes`` histogram for images of ``channels`` channels (once; later batches must agree)."""
        from gan_lightning.metrics.class_histogram import ClassHistogram, combined_classes

        if self.class_channels is not None:
            if channels != self.class_channels and self.splits_channels:
                raise ValueError(
                    f"evaluation.image_metrics 'classes': images of {channels} channels after images of "
                    f"{self.class_channels}; the class histogram has one size"
                )
            return
        self.class_channels = channels
        if self.splits_channels and channels > 1:
            k = _num_classes(self.feature_extractor)
            old = self.metrics["classes"]
            self.metrics["classes"] = ClassHistogram(combined_classes(k, channels)).to(old.counts.device)

    def _check_one_label_per_image(self, channels: int) -> None:
        """A one-channel classifier reads C-channel images channel by channel (Stacked MNIST: three digits),
        so no single predicted class can match one label."""
        if self.splits_channels and channels > 1:
            raise ValueError(
                f"evaluation.image_metrics 'label_accuracy' needs one-channel images with a one-channel "
                f"classifier, got {channels} channels (leave it out; `classes` reads each channel)"
            )

    @property
    def feature_extractor(self) -> nn.Module:
        return self.extractor[0]

    def to(self, *args, **kwargs) -> ImageMetrics:  # nn.Module.to's signature
        self.extractor[0] = self.extractor[0].to(*args, **kwargs)
        return super().to(*args, **kwargs)

    @torch.no_grad()
    def features(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """(features, logits or None) of images in [-1, 1]."""
        out = self.feature_extractor.eval()(images)
        return out if isinstance(out, tuple) else (out, None)

    @torch.no_grad()
    def update(self, images: Tensor, real: bool, labels: Tensor | None = None) -> None:
        """Add real or generated images; ``labels``: the labels generated images were generated with (a
        conditional model's), which ``label_accuracy`` needs."""
        per_channel = False
        if "classes" in self.metrics:
            self._size_class_histogram(images.shape[1])
            per_channel = self.splits_channels and images.shape[1] > 1
        if "label_accuracy" in self.metrics:
            self._check_one_label_per_image(images.shape[1])
            if not real and labels is None:
                raise ValueError(
                    "evaluation.image_metrics 'label_accuracy' needs the labels the images were generated "
                    "with: a conditional model (a generator with num_classes)"
                )
        # One extractor pass serves every metric (several channels are averaged, e.g. LeNet.prepare); it is
        # skipped for real images that only generated-image metrics would see, and when the sole metric is a
        # histogram of per-channel classes.
        features = logits = None
        if real:
            needed = bool(set(self.metrics) - set(GENERATED_ONLY_METRICS))
        else:
            needed = set(self.metrics) != {"classes"} or not per_channel
        if needed:
            features, logits = self.features(images)
            features = features.float()
        for name, metric in self.metrics.items():
            if name in GENERATED_ONLY_METRICS:
                if logits is None and features is not None:
                    raise ValueError(
                        f"evaluation.image_metrics has {name!r} but the feature extractor returns no logits"
                    )
                if real:
                    continue
                if name == "classes" and per_channel:
                    metric.update(self.channel_classes(images))
                elif name == "label_accuracy":
                    metric.update(logits.argmax(1), labels)
                else:
                    metric.update(logits.float() if name == "is" else logits.argmax(1))
            else:
                metric.update(features, real=real)
        self.num_real += len(images) if real else 0

    @torch.no_grad()
    def channel_classes(self, images: Tensor) -> Tensor:
        """The combined class of each image: every channel classified alone, base-K digits (first most
        significant), e.g. 100 d_R + 10 d_G + d_B for Stacked MNIST and the LeNet."""
        from gan_lightning.metrics.class_histogram import combine_digits

        digits = []
        for c in range(images.shape[1]):
            logits = self.features(images[:, c : c + 1])[1]
            if logits is None:
                raise ValueError(
                    "evaluation.image_metrics has 'classes' but the feature extractor returns no logits"
                )
            digits.append(logits.argmax(1))
        return combine_digits(torch.stack(digits, 1), _num_classes(self.feature_extractor))

    def compute(self) -> dict[str, float]:
        """The metrics of the generated images seen since the last reset (synced across DDP ranks)."""
        results: dict[str, float] = {}
        for name, metric in self.metrics.items():
            if (
                name == "kid"
            ):  # torchmetrics needs subset_size <= the (gathered) number of samples of each set
                real, fake = (
                    _world_total(sum(len(f) for f in fs))
                    for fs in (metric.real_features, metric.fake_features)
                )
                metric.subset_size = min(self.kid_subset_size, real, fake)
            value = metric.compute()
            if name == "fid":
                results["fid"] = float(value)
            elif name == "kid":
                results["kid_mean"], results["kid_std"] = float(value[0]), float(value[1])
            elif name == "is":
                results["is_mean"], results["is_std"] = float(value[0]), float(value[1])
            elif name == "classes":
                results.update(value)
            elif name == "label_accuracy":
                results["label_accuracy"] = float(value)
            else:
                results["precision"], results["recall"] = float(value[0]), float(value[1])
        return results

    def reset_generated(self) -> None:
        """Forget the generated images; the real statistics stay."""
        for metric in self.metrics.values():
            metric.reset()


@torch.no_grad()
def class_histogram_of(
    batches: Iterable[Tensor], extractor: nn.Module | None = None, device: str | torch.device = "cpu"
) -> dict[str, float]:
    """``classes_covered`` and ``class_kl`` of images, computed exactly as ``ImageMetrics``' ``classes``
    metric computes them for generated images (per channel with a one-channel classifier).

    Args:
        batches: image batches ``(B, C, H, W)`` in [-1, 1] (one tensor is one batch).
        extractor: the classifier (``None``: the bundled MNIST LeNet).
        device: where to classify.
    """
    from gan_lightning.metrics.lenet import load_lenet

    metrics = ImageMetrics(load_lenet() if extractor is None else extractor, ("classes",)).to(device)
    for images in [batches] if isinstance(batches, Tensor) else batches:
        metrics.update(images.to(device), real=False)
    return metrics.compute()


def _num_classes(extractor: nn.Module, metric: str = "classes") -> int:
    """Classes of a classifier extractor (LeNet: the 10 digits); ImageNet's classes say nothing of modes."""
    if not isinstance(getattr(extractor, "num_classes", None), int):
        raise ValueError(
            f"evaluation.image_metrics {metric!r} needs a classifier of the data's classes with an int "
            f"`num_classes` (the MNIST LeNet), not {type(extractor).__name__}"
        )
    return extractor.num_classes


def _world_total(count: int) -> int:
    """Sum of ``count`` over DDP ranks (the count itself without DDP)."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return count
    device = "cuda" if torch.distributed.get_backend() == "nccl" else "cpu"
    total = torch.tensor([count], device=device)
    torch.distributed.all_reduce(total)
    return int(total)
