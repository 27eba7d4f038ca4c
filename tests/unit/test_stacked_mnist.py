"""Stacked MNIST: the seeded table of digit triples, images assembled on access, labels, padding, splits, resuming,
one-line errors; the per-channel mode metric (K^C classes) and its real-data floor; the Evaluator's hints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.data import StackedMNISTDataModule
from gan_lightning.data.loading import ResumableDataLoader
from gan_lightning.data.stacked_mnist import real_mode_floor, stacked_labels
from gan_lightning.evaluator import Evaluator, default_num_generated, resolve_extractor
from gan_lightning.metrics.class_histogram import combine_digits, combined_classes
from gan_lightning.metrics.image import ImageMetrics, class_histogram_of
from gan_lightning.metrics.lenet import LeNet
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.variants import NSGAN
from tests.helpers import tiny_digits, write_tiny_idx


def stacked(folder: Path, n_digits: int = 40, **kwargs: object) -> StackedMNISTDataModule:
    """A Stacked MNIST module on ``tiny_digits(n_digits)`` (train split, no download), set up."""
    args = {"num_samples": 96, "batch_size": 16, **kwargs}
    data = StackedMNISTDataModule(str(write_tiny_idx(folder / "mnist", n=n_digits)), download=False, **args)
    data.setup("fit")
    return data


# ------------------------------------------------------------------------------------------------ data
def test_images_stack_three_digits_and_labels_read_them_as_a_three_digit_number(tmp_path: Path) -> None:
    data = stacked(tmp_path)
    digits, labels = (torch.from_numpy(a) for a in tiny_digits(40))
    assert data.data_shape == (3, 28, 28) and data.num_classes == 1000 and len(data.train_set) == 96
    triples = data.dataset.triples
    assert triples.shape == (96, 3) and 0 <= triples.min() and triples.max() < 40
    for i in (0, 17, 95):
        image, mode = data.train_set[i]
        assert image.shape == (3, 28, 28) and image.dtype == torch.float32
        for c in range(3):  # channel c is digit triples[i, c], scaled to [-1, 1]
            assert_close(image[c], digits[triples[i, c]].float() / 127.5 - 1)
        d = labels[triples[i]].tolist()
        assert int(mode) == 100 * d[0] + 10 * d[1] + d[2]
    assert_close(stacked_labels(torch.tensor([[1, 2, 3], [9, 0, 7]])), torch.tensor([123, 907]))
    images, modes = next(iter(data.train_dataloader()))
    assert (
        images.shape == (16, 3, 28, 28) and modes.shape == (16,) and images.min() >= -1 and images.max() <= 1
    )


def test_the_table_is_seeded_and_images_are_not_materialised(tmp_path: Path) -> None:
    a, b = stacked(tmp_path / "a"), stacked(tmp_path / "b")
    assert torch.equal(a.dataset.triples, b.dataset.triples)
    assert not torch.equal(a.dataset.triples, stacked(tmp_path / "c", seed=1).dataset.triples)
    # Only uint8 digits and an integer table are held: no float image tensor of the table's size.
    assert a.dataset.digits.dtype == torch.uint8 and a.dataset.triples.dtype == torch.long
    default = StackedMNISTDataModule(str(tmp_path / "a" / "mnist"), download=False)
    default.setup()
    assert len(default.train_set) == 128_000 and default.data_shape == (3, 28, 28)


def test_pad_to_32_surrounds_the_digits_with_minus_one(tmp_path: Path) -> None:
    small, padded = stacked(tmp_path / "a"), stacked(tmp_path / "b", image_size=32)
    assert padded.data_shape == (3, 32, 32)
    image = padded.train_set[5][0]
    assert image.shape == (3, 32, 32)
    assert_close(image[:, 2:30, 2:30], small.train_set[5][0])
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert (image[:, border] == -1).all()


def test_held_out_rows_and_sample_follow_the_mnist_semantics(tmp_path: Path) -> None:
    data = stacked(tmp_path, val_fraction=0.25)
    assert len(data.train_set) == 72 and len(data.val_set) == 24
    assert set(data.train_set.indices).isdisjoint(data.val_set.indices)
    assert len(data.val_dataloader().dataset) == 24
    images = data.sample(10, seed=3)
    assert images.shape == (10, 3, 28, 28)
    order = torch.randperm(24, generator=torch.Generator().manual_seed(3))[:10].tolist()
    assert_close(images, torch.stack([data.val_set[i][0] for i in order]))  # from the held-out rows
    assert stacked(tmp_path / "b").val_dataloader() == []


def test_loader_resumes_mid_epoch_at_the_next_batch(tmp_path: Path) -> None:
    data = stacked(tmp_path)
    loader = data.train_dataloader()
    assert isinstance(loader, ResumableDataLoader)
    iterator = iter(loader)
    next(iterator), next(iterator)
    state = loader.state_dict()
    expected = next(iterator)
    resumed = stacked(tmp_path).train_dataloader()
    resumed.load_state_dict(state)
    got = next(iter(resumed))
    assert_close(got[0], expected[0]) and assert_close(got[1], expected[1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image_size": 64}, "data.image_size must be 28 or 32"),
        ({"num_samples": 0}, "data.num_samples must be a positive integer"),
        ({"split": "valid"}, "data.split must be 'train' or 'test'"),
        ({"val_fraction": 1.0}, r"data.val_fraction must be in \[0, 1\)"),
        ({"batch_size": 0}, "data.batch_size must be a positive integer"),
        ({"cluster_labels": 1}, "data.cluster_labels must be at least 2 clusters or null, got 1"),
    ],
)
def test_bad_arguments_fail_in_one_line_naming_the_key(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        StackedMNISTDataModule(download=False, **kwargs)
    assert "\n" not in str(error.value)


def test_missing_files_and_a_too_large_batch_are_named(tmp_path: Path) -> None:
    write_tiny_idx(tmp_path / "only_test", n=20, split="test")
    data = StackedMNISTDataModule(str(tmp_path / "only_test"), download=False)
    with pytest.raises(
        FileNotFoundError, match="Stacked MNIST: MNIST train split not found.*--data.split test"
    ):
        data.setup()
    with pytest.raises(
        ValueError, match=r"data.batch_size \(64\) is larger than the training set \(10 images\)"
    ):
        StackedMNISTDataModule(str(tmp_path / "only_test"), "test", False, num_samples=10).setup()


# ------------------------------------------------------------------------------------------------ metric
class DigitOfMean(torch.nn.Module):
    """A one-channel 'classifier' of 10 classes: the class of an image is its mean pixel in [0, 9], rounded."""

    num_features, num_classes, in_channels = 2, 10, 1

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = images.float().mean((1, 2, 3))
        return torch.stack([mean, -mean], 1), torch.nn.functional.one_hot(mean.round().long(), 10).float()


def images_of(modes: list[tuple[int, int, int]]) -> torch.Tensor:
    """3-channel images whose channel c is constant at digit c of the mode."""
    return torch.tensor(modes, dtype=torch.float32)[:, :, None, None].expand(-1, -1, 4, 4).contiguous()


def test_digits_combine_base_k_first_channel_most_significant() -> None:
    assert_close(combine_digits(torch.tensor([[1, 2, 3], [0, 0, 9]]), 10), torch.tensor([123, 9]))
    assert_close(combine_digits(torch.tensor([[1, 0], [1, 1]]), 2), torch.tensor([2, 3]))
    assert combined_classes(10, 3) == 1000 and combined_classes(10, 1) == 10
    with pytest.raises(ValueError, match="more than"):
        combined_classes(1000, 3)


@pytest.mark.parametrize("channels", [3, None])  # given by the Evaluator, or sized from the first batch
def test_a_one_channel_classifier_classifies_each_channel_into_k_to_the_c_classes(
    channels: int | None,
) -> None:
    metrics = ImageMetrics(DigitOfMean(), ("classes",), channels=channels)
    metrics.update(images_of([(9, 9, 9)] * 5), real=True)  # real images are not counted
    metrics.update(images_of([(1, 2, 3), (1, 2, 3), (0, 0, 7), (9, 0, 0)]), real=False)
    histogram = metrics.metrics["classes"]
    assert histogram.num_classes == 1000 and metrics.class_channels == 3
    assert histogram.counts.nonzero().flatten().tolist() == [7, 123, 900]
    scores = metrics.compute()
    assert scores["classes_covered"] == 3
    assert math.isclose(scores["class_kl"], 0.5 * math.log(250) + 0.5 * math.log(500))  # q = (1/4, 1/2, 1/4)
    with pytest.raises(ValueError, match="images of 1 channels after images of 3"):
        metrics.update(torch.zeros(2, 1, 4, 4), real=False)


def test_one_channel_images_and_classifiers_without_in_channels_keep_k_classes() -> None:
    grey = ImageMetrics(DigitOfMean(), ("classes",), channels=1)
    grey.update(torch.full((2, 1, 4, 4), 4.0), real=False)
    assert grey.metrics["classes"].num_classes == 10 and grey.compute()["classes_covered"] == 1

    class Joint(DigitOfMean):  # reads all channels at once (no in_channels): one class per image
        in_channels = None

    joint = ImageMetrics(Joint(), ("classes",))
    joint.update(images_of([(1, 2, 3)]), real=False)  # mean 2
    assert joint.metrics["classes"].num_classes == 10
    assert joint.metrics["classes"].counts.nonzero().flatten().tolist() == [2]


def test_lenet_is_a_one_channel_classifier_and_fid_features_still_average_the_channels() -> None:
    torch.manual_seed(0)
    lenet = LeNet().eval()
    assert lenet.in_channels == 1
    images = torch.rand(6, 3, 28, 28) * 2 - 1
    metrics = ImageMetrics(lenet, ("fid", "classes"), channels=3)
    assert_close(metrics.features(images)[0], lenet(images.mean(1, keepdim=True))[0])  # FID: channel mean
    digits = torch.stack([lenet(images[:, c : c + 1])[1].argmax(1) for c in range(3)], 1)
    assert_close(metrics.channel_classes(images), digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])


def test_class_histogram_of_applies_the_generated_side_metric_to_any_images() -> None:
    batches = [images_of([(1, 2, 3)]), images_of([(4, 5, 6), (1, 2, 3)])]
    scores = class_histogram_of(batches, DigitOfMean())
    assert scores["classes_covered"] == 2
    assert math.isclose(scores["class_kl"], (2 / 3) * math.log(2000 / 3) + (1 / 3) * math.log(1000 / 3))


def test_real_mode_floor_classifies_a_fresh_seeded_table(tmp_path: Path, monkeypatch) -> None:
    data_dir = write_tiny_idx(tmp_path / "mnist", n=30, split="test")
    seen = []

    def recording(batches, extractor=None):
        seen.extend(batches)
        return {"classes_covered": 1.0, "class_kl": 0.0}

    monkeypatch.setattr("gan_lightning.metrics.image.class_histogram_of", recording)
    real_mode_floor(data_dir, "test", num_samples=2500, seed=4, batch_size=1000)
    assert [len(b) for b in seen] == [1000, 1000, 500]
    table = StackedMNISTDataModule(str(data_dir), "test", False, num_samples=2500, seed=4, batch_size=1)
    table.setup()
    assert_close(torch.cat(seen), table.dataset.images(list(range(2500))))


# ------------------------------------------------------------------------------------------------ evaluator
def test_the_evaluator_takes_lenet_and_26000_samples_from_the_data_module(tmp_path: Path) -> None:
    data = stacked(tmp_path)
    assert resolve_extractor("auto", (3, 28, 28), data) == "lenet"
    assert resolve_extractor("auto", (3, 28, 28)) == "inception" and resolve_extractor(
        "inception", (3,), data
    )
    assert default_num_generated(data) == 26_000 and default_num_generated(None) == 10_000

    torch.manual_seed(0)
    module = NSGAN(DCGANGenerator(latent_dim=8, channels=3, width=8), DCGANDiscriminator(channels=3, width=8))
    evaluator = Evaluator(["fid", "classes"], num_generated=64, num_real=48, batch_size=32)
    results = evaluator.evaluate(module, data)
    assert evaluator.extractor_name == "lenet" and evaluator.metrics.metrics["classes"].num_classes == 1000
    assert results.keys() == {"fid", "classes_covered", "class_kl"}
    assert 1 <= results["classes_covered"] <= 64 and 0 <= results["class_kl"] <= math.log(1000)
