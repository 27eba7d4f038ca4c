"""The predicted-class histogram: classes covered and KL to uniform, by hand."""

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.metrics import ClassHistogram, ImageMetrics, class_histogram_scores


def test_scores_by_hand():
    # q = (1/2, 1/4, 1/4, 0): KL = 1/2 log 2 + 2 * 1/4 log 1 = 1/2 log 2; three of four classes covered.
    scores = class_histogram_scores(torch.tensor([2, 1, 1, 0]))
    assert_close(scores["class_kl"], 0.5 * math.log(2))
    assert_close(scores["classes_covered"], 3.0)


def test_uniform_is_zero_and_one_class_is_log_k():
    assert_close(class_histogram_scores(torch.full((10,), 7))["class_kl"], 0.0)
    assert_close(class_histogram_scores(torch.tensor([0, 0, 5, 0]))["class_kl"], math.log(4))


def test_metric_accumulates_and_refuses_bad_labels():
    metric = ClassHistogram(3)
    metric.update(torch.tensor([0, 0]))
    metric.update(torch.tensor([1, 2]))
    assert_close(metric.compute()["class_kl"], 0.5 * math.log(1.5) + 2 * 0.25 * math.log(0.75))
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        metric.update(torch.tensor([3]))
    with pytest.raises(ValueError, match="at least 2 classes"):
        ClassHistogram(1)


def test_empty_histogram_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        class_histogram_scores(torch.zeros(4))


class _Fixed(torch.nn.Module):
    """An 'extractor' whose predicted class is the image's mean pixel, rounded (0, 1 or 2)."""

    num_features, num_classes = 2, 3

    def forward(self, images):
        mean = images.flatten(1).mean(1)
        return torch.stack([mean, -mean], 1), torch.nn.functional.one_hot(mean.round().long(), 3).float()


def test_image_metrics_histogram_of_generated_images_only():
    metrics = ImageMetrics(_Fixed(), ("classes",))
    metrics.update(torch.full((5, 1, 2, 2), 2.0), real=True)  # real images are not counted
    metrics.update(torch.cat([torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)]), real=False)
    scores = metrics.compute()
    assert_close(scores["classes_covered"], 2.0)
    assert_close(scores["class_kl"], math.log(3 / 2))
    metrics.reset_generated()
    metrics.update(torch.full((1, 1, 2, 2), 2.0), real=False)
    assert_close(metrics.compute()["class_kl"], math.log(3))
