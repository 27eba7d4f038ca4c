"""Label accuracy of conditional generators: the metric by hand, through ImageMetrics and the Evaluator, with a
fake classifier whose predicted class is the image's mean pixel (a `classes` cousin: test_class_histogram.py);
the CLI on a tiny conditional checkpoint: tests/cli/test_label_accuracy.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import Tensor, nn
from torch.testing import assert_close

from gan_lightning.commands.evaluate import default_image_metrics
from gan_lightning.evaluator import Evaluator, generated_batches_with_labels
from gan_lightning.metrics import ImageMetrics, LabelAccuracy
from gan_lightning.networks import ConditionalDCGANDiscriminator
from gan_lightning.variants import NSGAN
from tests.helpers import PixelProjection, tiny_dcgan, tiny_mnist


class MeanPixelClassifier(nn.Module):
    """An 'extractor' of 3 classes whose predicted class is the image's mean pixel, rounded and clamped."""

    num_features, num_classes = 2, 3

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        mean = images.flatten(1).mean(1)
        classes = mean.round().long().clamp(0, 2)
        return torch.stack([mean, -mean], 1), nn.functional.one_hot(classes, 3).float()


class LabelPainter(nn.Module):
    """A conditional 'generator' of 28x28 images filled with its label (so the classifier reads it back), or
    with ``constant`` whatever the label."""

    latent_dim, num_classes, out_shape = 2, 3, (1, 28, 28)

    def __init__(self, constant: float | None = None) -> None:
        super().__init__()
        self.constant = constant

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        value = labels.float() if self.constant is None else torch.full((len(z),), self.constant)
        return value[:, None, None, None].expand(len(z), *self.out_shape) + 0 * z[:, :1, None, None]


def conditional(generator: nn.Module) -> NSGAN:
    return NSGAN(generator, ConditionalDCGANDiscriminator(num_classes=3, width=8, norm="none"))


def images_of(values: list[float]) -> Tensor:
    return torch.tensor(values)[:, None, None, None].expand(-1, 1, 4, 4)


@pytest.mark.filterwarnings("ignore:The ``compute`` method of metric LabelAccuracy was called before")
def test_metric_counts_predictions_equal_to_labels_by_hand() -> None:
    metric = LabelAccuracy(3)
    metric.update(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 0]))
    metric.update(torch.tensor([0]), torch.tensor([1]))
    assert_close(float(metric.compute()), 0.5)  # 2 of 4
    with pytest.raises(ValueError, match=r"in \[0, 2\]"):
        metric.update(torch.tensor([0]), torch.tensor([3]))
    metric.reset()
    with pytest.raises(ValueError, match="no labelled image"):
        metric.compute()


def test_image_metrics_reads_the_labels_of_generated_images_only() -> None:
    metrics = ImageMetrics(MeanPixelClassifier(), ("classes", "label_accuracy"))
    metrics.update(images_of([2.0] * 5), real=True)  # real images have no generation label: not counted
    metrics.update(images_of([0.0, 1.0, 2.0, 1.0]), real=False, labels=torch.tensor([0, 1, 2, 1]))
    assert_close(metrics.compute()["label_accuracy"], 1.0)
    metrics.reset_generated()
    # Wrong half the time: images of 0 and 2 asked to be 1.
    metrics.update(images_of([0.0, 1.0, 2.0, 1.0]), real=False, labels=torch.tensor([1, 1, 1, 1]))
    assert_close(metrics.compute()["label_accuracy"], 0.5)
    with pytest.raises(ValueError, match="labels the images were generated with"):
        metrics.update(images_of([0.0]), real=False)


def test_label_accuracy_needs_a_classifier_and_one_label_per_image() -> None:
    with pytest.raises(ValueError, match="'label_accuracy' needs a classifier"):
        ImageMetrics(PixelProjection(), ("label_accuracy",))
    one_channel = MeanPixelClassifier()
    one_channel.in_channels = 1  # like the LeNet: C-channel images would be read channel by channel
    with pytest.raises(ValueError, match="one-channel images"):
        ImageMetrics(one_channel, ("label_accuracy",), channels=3)
    with pytest.raises(ValueError, match="got 3 channels"):
        ImageMetrics(one_channel, ("label_accuracy",)).update(torch.zeros(2, 3, 4, 4), real=False)


def test_evaluator_scores_a_generator_that_draws_its_label_one(tmp_path: Path) -> None:
    data = tiny_mnist(tmp_path)
    data.setup("fit")
    evaluator = Evaluator(
        ["fid", "label_accuracy"], 30, 30, feature_extractor=MeanPixelClassifier(), batch_size=16
    )
    results = evaluator.evaluate(conditional(LabelPainter()), data)
    assert results.keys() == {"fid", "label_accuracy"}
    assert_close(results["label_accuracy"], 1.0)


def test_evaluator_scores_a_generator_that_ignores_its_label_by_the_labels_drawn(tmp_path: Path) -> None:
    data = tiny_mnist(tmp_path)
    data.setup("fit")
    module = conditional(LabelPainter(constant=0.0))  # always class 0: right only for the labels 0
    evaluator = Evaluator(["label_accuracy"], 50, 30, feature_extractor=MeanPixelClassifier(), batch_size=16)
    drawn = torch.cat([labels for _, labels in generated_batches_with_labels(module, 50, 16, seed=0)])
    assert 0 < (drawn == 0).sum() < 50
    assert_close(evaluator.evaluate(module, data)["label_accuracy"], float((drawn == 0).double().mean()))
    with pytest.raises(ValueError, match="needs a class-conditional model"):
        evaluator.evaluate(tiny_dcgan(), data)


def test_labels_are_split_over_ranks_with_their_latents() -> None:
    module = conditional(LabelPainter())
    alone = list(generated_batches_with_labels(module, 10, 4, seed=3))
    labels = torch.cat([batch[1] for batch in alone])
    for rank in (0, 1):
        shared = list(generated_batches_with_labels(module, 10, 4, seed=3, rank=rank, world=2))
        assert_close(torch.cat([batch[1] for batch in shared]), labels[rank::2])  # batches of 4: even split
        assert_close(torch.cat([batch[0] for batch in shared]), torch.cat([b[0] for b in alone])[rank::2])


def test_evaluate_adds_label_accuracy_by_default_for_conditional_models_on_the_lenet() -> None:
    assert default_image_metrics(conditional(LabelPainter()), "auto").endswith(",classes,label_accuracy")
    assert "label_accuracy" not in default_image_metrics(conditional(LabelPainter()), "inception")
    assert "label_accuracy" not in default_image_metrics(tiny_dcgan(), "auto")
