"""Conditional networks: labels change outputs, grids have one row per class (a conditional run learns:
tests/integration/test_conditional.py)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from PIL import Image
from torch import nn

from gan_lightning.callbacks import SampleGrid
from gan_lightning.networks import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    ConditionalMLPDiscriminator,
    ConditionalMLPGenerator,
)
from gan_lightning.variants import NSGAN, WGANGP


def differ(a: torch.Tensor, b: torch.Tensor) -> bool:
    return (a - b).abs().max().item() > 1e-6


def test_generators_depend_on_the_label() -> None:
    torch.manual_seed(0)
    for g, z in (
        (ConditionalMLPGenerator(num_classes=8, latent_dim=2, hidden_dim=16), torch.randn(4, 2)),
        (ConditionalDCGANGenerator(num_classes=10, latent_dim=8, width=8), torch.randn(4, 8)),
    ):
        g.eval()
        zeros, ones = torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long)
        assert g.num_classes > 0 and g.latent_dim == z.shape[1]
        assert differ(g(z, zeros), g(z, ones))


@pytest.mark.parametrize("projection", [False, True], ids=["concat", "projection"])
def test_discriminators_depend_on_the_label(projection: bool) -> None:
    torch.manual_seed(0)
    for d, x in (
        (ConditionalMLPDiscriminator(num_classes=8, hidden_dim=16, projection=projection), torch.randn(4, 2)),
        (
            ConditionalDCGANDiscriminator(num_classes=10, width=8, norm="none", projection=projection),
            torch.randn(4, 1, 28, 28),
        ),
    ):
        zeros, ones = torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long)
        scores = d(x, zeros)
        assert scores.shape == (4,)
        assert differ(scores, d(x, ones))
        assert d.features(x, zeros).shape == (4, d.feature_dim)


def test_projection_is_psi_plus_inner_product_with_the_class_embedding() -> None:
    torch.manual_seed(0)
    d = ConditionalMLPDiscriminator(num_classes=3, hidden_dim=16, depth=2, projection=True)
    x, y = torch.randn(5, 2), torch.tensor([0, 1, 2, 1, 0])
    phi = d.net[:-1](x)
    expected = d.net[-1](phi).squeeze(-1) + (d.embed.weight[y] * phi).sum(1)
    torch.testing.assert_close(d(x, y), expected)


def test_spectral_norm_reaches_the_projection_embedding() -> None:
    d = ConditionalDCGANDiscriminator(
        num_classes=10, width=8, norm="none", projection=True, spectral_norm=True
    )
    assert hasattr(d.embed, "parametrizations")


def test_conditional_grid_has_one_row_per_class(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = NSGAN(
        ConditionalDCGANGenerator(num_classes=10, latent_dim=8, width=8),
        ConditionalDCGANDiscriminator(num_classes=10, width=8),
        num_samples=30,
    )
    assert module.num_classes == 10
    # Row r of the grid holds class r only.
    assert torch.equal(module.fixed_labels.view(10, 3), torch.arange(10)[:, None].expand(10, 3))
    path = SampleGrid().save(L.Trainer(default_root_dir=tmp_path, logger=False), module, "grid")
    # make_grid(nrow=3): 3 columns and 10 rows of 28x28 images with 2-pixel padding.
    assert Image.open(path).size == (3 * 30 + 2, 10 * 30 + 2)
    images = module.generate(30, labels=module.fixed_labels, z=module.fixed_z)
    # The same latent with another class gives another image.
    assert differ(images[0], module.generate(1, labels=torch.tensor([5]), z=module.fixed_z[:1])[0])


def test_grid_rows_stay_one_class_when_samples_are_not_a_multiple_of_classes() -> None:
    module = NSGAN(
        ConditionalDCGANGenerator(num_classes=10, latent_dim=8, width=8),
        ConditionalDCGANDiscriminator(num_classes=10, width=8),
        num_samples=64,
    )
    # 64 samples, 10 classes: rows of 6, classes 0-9 then a partial row of class 0.
    assert module.grid_width(64) == 6
    expected = torch.cat([torch.arange(10).repeat_interleave(6), torch.zeros(4, dtype=torch.long)])
    torch.testing.assert_close(module.fixed_labels, expected)
    # Fewer samples than classes: one per row, classes in order.
    assert module.grid_width(4) == 1
    torch.testing.assert_close(module.grid_labels(4), torch.arange(4))


def test_gradient_penalty_variant_passes_labels_to_the_critic() -> None:
    torch.manual_seed(0)
    module = WGANGP(
        ConditionalMLPGenerator(num_classes=8, hidden_dim=16),
        ConditionalMLPDiscriminator(num_classes=8, hidden_dim=16, projection=True),
    )
    real, labels = torch.randn(6, 2), torch.randint(8, (6,))
    terms = module.discriminator_loss(real, module(torch.randn(6, 2), labels), labels)
    assert torch.isfinite(terms["gradient_penalty"])


def test_bad_class_count() -> None:
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalMLPGenerator(num_classes=1)
    assert isinstance(ConditionalMLPGenerator(num_classes=2).embed, nn.Embedding)
