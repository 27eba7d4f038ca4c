"""Latent tools: seeded latents, truncation and spherical interpolation."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.latents import interpolation_latents, seeded_latents, slerp, truncate


def test_seeded_latents_repeat_for_a_seed_and_differ_between_seeds() -> None:
    assert_close(seeded_latents(4, 3, seed=7), seeded_latents(4, 3, seed=7))
    assert not torch.equal(seeded_latents(4, 3, seed=7), seeded_latents(4, 3, seed=8))


def test_truncation_scales_towards_the_prior_mean_and_refuses_psi_outside_0_1() -> None:
    z = torch.tensor([[2.0, -4.0]])
    assert_close(truncate(z, 0.5), torch.tensor([[1.0, -2.0]]))
    assert_close(truncate(z, 1.0), z)
    with pytest.raises(ValueError, match=r"--truncation must lie in \[0, 1\], got 1.5"):
        truncate(z, 1.5)


def test_slerp_follows_the_great_circle_between_orthogonal_latents() -> None:
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    path = slerp(a, b, torch.tensor([0.0, 0.5, 1.0]))
    half = math.sqrt(0.5)
    assert_close(path, torch.tensor([[[1.0, 0.0], [half, half], [0.0, 1.0]]]))


def test_slerp_of_parallel_latents_is_the_straight_line() -> None:
    a = torch.tensor([[1.0, 2.0]])
    assert_close(
        slerp(a, 2 * a, torch.tensor([0.0, 0.5, 1.0])), torch.tensor([[[1.0, 2.0], [1.5, 3.0], [2.0, 4.0]]])
    )


def test_interpolation_latents_run_path_by_path_between_seeded_ends() -> None:
    z = interpolation_latents(paths=3, steps=4, latent_dim=5, seed=1).reshape(3, 4, 5)
    ends = seeded_latents(6, 5, seed=1)
    assert_close(z[:, 0], ends[:3])
    assert_close(z[:, -1], ends[3:])
    with pytest.raises(ValueError, match="at least 2 steps"):
        interpolation_latents(1, 1, 5, seed=0)
