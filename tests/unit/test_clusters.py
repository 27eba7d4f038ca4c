"""k-means cluster labels and the label prior of self-conditioned generators (gan_lightning.data.clusters,
gan_lightning.networks.conditional)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.data import MNISTDataModule, StackedMNISTDataModule
from gan_lightning.data.clusters import kmeans, label_frequencies
from gan_lightning.networks import ConditionalDCGANGenerator, ConditionalMLPGenerator
from gan_lightning.networks.conditional import (
    draw_labels,
    grid_labels,
    grid_width,
    self_conditioned,
    set_label_prior,
)
from tests.helpers import tiny_digits, write_tiny_idx


def same_partition(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two labelings split the points alike (cluster indices are arbitrary)."""
    return torch.equal(a[:, None] == a[None, :], b[:, None] == b[None, :])


def test_kmeans_on_four_points_on_a_line_splits_them_into_the_two_pairs() -> None:
    # Any seeding gives {0, 1} and {10, 11}: the centres 0.5 and 10.5 are the only stable pair of means here.
    points = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    for seed in range(5):
        assert same_partition(kmeans(points, 2, seed=seed), torch.tensor([0, 0, 1, 1]))


def test_kmeans_recovers_well_separated_blobs_and_is_the_same_for_the_same_seed() -> None:
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    truth = torch.arange(400) % 4
    points = centres[truth] + 0.5 * torch.randn(400, 2, generator=g)
    labels = kmeans(points, 4, seed=3)
    assert same_partition(labels, truth)
    assert torch.equal(labels, kmeans(points, 4, seed=3))
    assert set(labels.tolist()) == {0, 1, 2, 3}


def test_kmeans_refuses_more_clusters_than_points() -> None:
    with pytest.raises(ValueError, match=r"1 <= k <= the number of points \(3\), got k = 4"):
        kmeans(torch.zeros(3, 2), 4)


def test_label_frequencies_are_the_share_of_each_label() -> None:
    assert_close(label_frequencies(torch.tensor([0, 0, 1, 2]), 4), torch.tensor([0.5, 0.25, 0.25, 0.0]))


def test_class_labels_are_drawn_uniformly_as_before_the_prior_existed() -> None:
    generator = ConditionalMLPGenerator(num_classes=5, latent_dim=2, hidden_dim=4, depth=1)
    assert not self_conditioned(generator)
    drawn = draw_labels(generator, 50, torch.Generator().manual_seed(7))
    assert torch.equal(drawn, torch.randint(5, (50,), generator=torch.Generator().manual_seed(7)))
    assert torch.equal(grid_labels(generator, 10), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]))
    assert grid_width(generator, 10) == 2  # a class a row


def test_cluster_labels_are_drawn_from_the_prior_and_grids_are_square() -> None:
    generator = ConditionalMLPGenerator(num_classes=3, latent_dim=2, hidden_dim=4, depth=1)
    set_label_prior(generator, torch.tensor([0.75, 0.25, 0.0]))
    assert self_conditioned(generator)
    drawn = draw_labels(generator, 4000, torch.Generator().manual_seed(0))
    assert 2 not in drawn.tolist()  # a cluster of no training image is never drawn
    # Binomial(4000, 0.25): standard deviation 0.007 in the share, so 0.03 is over 4 of them.
    assert_close((drawn == 1).float().mean(), torch.tensor(0.25), atol=0.03, rtol=0)
    assert grid_width(generator, 16) == 4
    assert torch.equal(grid_labels(generator, 16), grid_labels(generator, 16))  # seeded


def test_a_prior_of_another_size_or_for_an_unconditional_generator_is_refused_in_one_line() -> None:
    generator = ConditionalMLPGenerator(num_classes=3, latent_dim=2, hidden_dim=4, depth=1)
    with pytest.raises(ValueError, match="by 4 clusters .* num_classes 4 \\(it has 3\\)"):
        set_label_prior(generator, torch.full((4,), 0.25))
    with pytest.raises(ValueError, match="num_classes 2 \\(it has none\\)"):
        set_label_prior(torch.nn.Linear(2, 2), torch.full((2,), 0.5))


def test_a_state_dict_from_before_the_prior_loads_with_class_labels() -> None:
    generator = ConditionalDCGANGenerator(num_classes=4, latent_dim=3, width=4)
    old = {k: v for k, v in generator.state_dict().items() if k != "label_prior"}
    set_label_prior(generator, torch.tensor([0.5, 0.5, 0.0, 0.0]))
    generator.load_state_dict(old)  # strict
    assert_close(generator.label_prior, torch.zeros(4))
    assert not self_conditioned(generator)  # the flag follows the loaded buffer
    saved = ConditionalDCGANGenerator(num_classes=4, latent_dim=3, width=4)
    set_label_prior(saved, torch.tensor([0.5, 0.5, 0.0, 0.0]))
    generator.load_state_dict(saved.state_dict())
    assert_close(generator.label_prior, torch.tensor([0.5, 0.5, 0.0, 0.0]))
    assert self_conditioned(generator)


def test_mnist_with_cluster_labels_labels_each_digit_by_its_pixel_cluster(tmp_path: Path) -> None:
    data_dir = write_tiny_idx(tmp_path, n=60)
    data = MNISTDataModule(str(data_dir), download=False, cluster_labels=3, val_fraction=0.5, batch_size=8)
    data.setup("fit")
    assert data.num_classes == 3
    images, _ = data.train_set.dataset.tensors
    assert torch.equal(data.label_values, kmeans(images, 3, seed=0))
    train_labels = data.label_values[data.train_set.indices]
    assert_close(data.label_prior, label_frequencies(train_labels, 3))
    assert_close(data.label_prior.sum(), torch.tensor(1.0))
    with pytest.raises(ValueError, match="data.cluster_labels must be at least 2 clusters or null, got 1"):
        MNISTDataModule(str(data_dir), cluster_labels=1)


def test_stacked_mnist_with_cluster_labels_labels_each_image_by_its_triple_of_channel_clusters(
    tmp_path: Path,
) -> None:
    data_dir = write_tiny_idx(tmp_path, n=60)
    data = StackedMNISTDataModule(
        str(data_dir), download=False, num_samples=200, cluster_labels=3, val_fraction=0.25, batch_size=8
    )
    data.setup("fit")
    assert data.num_classes == 27 and data.label_source == "data.cluster_labels"
    digits, _ = (torch.from_numpy(a) for a in tiny_digits(60))
    clusters = kmeans(digits.float() / 127.5 - 1, 3, seed=0)  # MNISTDataModule's clusters of the same digits
    c = clusters[data.dataset.triples]
    assert torch.equal(data.label_values, 9 * c[:, 0] + 3 * c[:, 1] + c[:, 2])
    _, label = data.train_set[5]
    assert int(label) == int(data.label_values[data.train_set.indices[5]])
    assert_close(data.label_prior, label_frequencies(data.label_values[data.train_set.indices], 27))
    with pytest.raises(ValueError, match=r"data.cluster_labels \(61\) is more than the 60 digits to cluster"):
        StackedMNISTDataModule(str(data_dir), download=False, cluster_labels=61).setup("fit")
