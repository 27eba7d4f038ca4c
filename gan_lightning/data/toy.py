"""2D mixtures used to measure mode collapse, with their mode centres and stds kept for the metrics.

* ``ring``: 8 Gaussians evenly spaced on a circle of radius 1, std 0.01 (PacGAN, VEEGAN).
* ``grid``: 25 Gaussians on {-4, -2, 0, 2, 4}^2, std 0.05 (PacGAN, VEEGAN).
* ``8gaussians``, ``25gaussians``, ``swissroll``: the WGAN-GP toy sets, with that code's scaling
  (8gaussians: radius 2 and std 0.02, both divided by 1.414; 25gaussians: spacing 2 and std 0.05, both divided by
  2.828; swissroll: the (x, z) plane of a swiss roll with noise 0.25, divided by 7.5, no modes).
"""

from __future__ import annotations

import math
from typing import Literal

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from gan_lightning.data.base import check_labels_fit_model
from gan_lightning.data.loading import InMemoryTensors, ResumableDataLoader

ToyName = Literal["ring", "grid", "8gaussians", "25gaussians", "swissroll"]


def toy_modes(name: ToyName) -> tuple[Tensor | None, float]:
    """(mode centres (K, 2), per-axis std) of a toy set; centres are None for the swiss roll."""
    if name == "ring":
        angles = torch.arange(8) * 2 * math.pi / 8
        return torch.stack([angles.cos(), angles.sin()], 1), 0.01
    if name == "grid":
        axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
        return torch.cartesian_prod(axis, axis), 0.05
    if name == "8gaussians":
        s = 1 / math.sqrt(2)
        unit = torch.tensor([[1, 0], [-1, 0], [0, 1], [0, -1], [s, s], [s, -s], [-s, s], [-s, -s]])
        return unit * 2 / 1.414, 0.02 / 1.414
    if name == "25gaussians":
        axis = torch.arange(-2, 3, dtype=torch.float32) * 2
        return torch.cartesian_prod(axis, axis) / 2.828, 0.05 / 2.828
    if name == "swissroll":
        return None, 0.0
    raise ValueError(
        f"data.dataset must be one of ring, grid, 8gaussians, 25gaussians, swissroll; got {name!r}"
    )


def sample_toy(name: ToyName, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """n points of a toy set and the index of the mode each was drawn from (0 for the swiss roll)."""
    centres, std = toy_modes(name)
    if centres is None:
        t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
        roll = torch.stack([t * t.cos(), t * t.sin()], 1) + 0.25 * torch.randn(n, 2, generator=generator)
        return roll / 7.5, torch.zeros(n, dtype=torch.long)
    modes = torch.randint(len(centres), (n,), generator=generator)
    return centres[modes] + std * torch.randn(n, 2, generator=generator), modes


class ToyDataModule(L.LightningDataModule):
    """A fixed, seeded sample of a 2D mixture; batches are ``(points (B, 2), mode index (B,))``.

    Args:
        dataset: which mixture (see the module docstring).
        num_samples: points per epoch (drawn once, reshuffled every epoch).
        batch_size: points per batch (one critic step).
        seed: seed of the sample, so that runs are reproducible.
    """

    def __init__(
        self, dataset: ToyName = "ring", num_samples: int = 51_200, batch_size: int = 256, seed: int = 0
    ) -> None:
        super().__init__()
        self.mode_centers, self.mode_std = toy_modes(dataset)  # also validates the name
        if batch_size < 1:
            raise ValueError(f"data.batch_size must be a positive integer, got {batch_size}")
        if num_samples < batch_size:
            raise ValueError(
                f"data.num_samples ({num_samples}) must be at least data.batch_size ({batch_size})"
            )
        self.dataset, self.num_samples, self.batch_size, self.seed = dataset, num_samples, batch_size, seed
        self.data_shape = (2,)
        self.num_classes = 0 if self.mode_centers is None else len(self.mode_centers)

    def setup(self, stage: str | None = None) -> None:
        points, modes = sample_toy(self.dataset, self.num_samples, torch.Generator().manual_seed(self.seed))
        self.train_set = InMemoryTensors(points, modes)
        check_labels_fit_model(self, modes, f"data.dataset {self.dataset!r} ({self.num_classes} modes)")

    def train_dataloader(self) -> DataLoader:
        # Resumable: a mid-epoch checkpoint continues with the same permutation at the next batch.
        return ResumableDataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, drop_last=True)

    def sample(self, n: int, seed: int = 1) -> Tensor:
        """n fresh points (for plots and metrics), independent of the training sample."""
        return sample_toy(self.dataset, n, torch.Generator().manual_seed(seed))[0]
