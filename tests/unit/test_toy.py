"""The 2D mixtures: mode centres, stds and samples as the papers define them."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.data import ToyDataModule
from gan_lightning.data.toy import sample_toy, toy_modes


def test_ring_has_eight_modes_on_the_unit_circle_with_std_001() -> None:
    centres, std = toy_modes("ring")
    assert centres.shape == (8, 2) and std == 0.01
    assert_close(centres.norm(dim=1), torch.ones(8))
    assert_close(centres[2], torch.tensor([0.0, 1.0]), atol=1e-6, rtol=0)


def test_grid_has_twenty_five_modes_two_apart_with_std_005() -> None:
    centres, std = toy_modes("grid")
    assert centres.shape == (25, 2) and std == 0.05
    assert set(centres[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_wgan_gp_sets_use_that_codes_scaling() -> None:
    centres, std = toy_modes("8gaussians")
    assert_close(centres.norm(dim=1), torch.full((8,), 2 / 1.414))
    assert std == pytest.approx(0.02 / 1.414)
    centres, std = toy_modes("25gaussians")
    assert_close(centres.max(), torch.tensor(4 / 2.828))


@pytest.mark.parametrize("name", ["ring", "grid", "8gaussians", "25gaussians"])
def test_samples_scatter_around_their_mode_with_the_stated_std(name: str) -> None:
    points, modes = sample_toy(name, 20_000, torch.Generator().manual_seed(0))
    centres, std = toy_modes(name)
    offsets = points - centres[modes]
    assert_close(offsets.std(), torch.tensor(std), rtol=0.03, atol=0)
    counts = torch.bincount(modes, minlength=len(centres)).float()
    assert counts.min() > 0.7 * counts.mean()  # every mode drawn, roughly uniformly


def test_swissroll_has_no_modes_and_the_documented_extent() -> None:
    points, _ = sample_toy("swissroll", 5000, torch.Generator().manual_seed(0))
    assert toy_modes("swissroll")[0] is None
    assert points.abs().max() < (4.5 * math.pi + 1.5) / 7.5


def test_data_module_batches_and_reproducibility() -> None:
    dm = ToyDataModule("grid", num_samples=1024, batch_size=64, seed=3)
    dm.setup("fit")
    points, modes = next(iter(dm.train_dataloader()))
    assert points.shape == (64, 2) and modes.dtype == torch.long
    other = ToyDataModule("grid", num_samples=1024, batch_size=64, seed=3)
    other.setup("fit")
    assert_close(dm.train_set.tensors[0], other.train_set.tensors[0])
    assert dm.data_shape == (2,) and dm.num_classes == 25


def test_unknown_dataset_names_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="data.dataset must be one of ring, grid"):
        ToyDataModule("rings")
