"""PacGAN packing: which samples form a pack, for vectors and images; refusals."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.networks import (
    ConditionalMLPDiscriminator,
    DCGANDiscriminator,
    MLPDiscriminator,
    PackedDiscriminator,
)


def test_consecutive_samples_form_a_pack_along_the_first_dimension() -> None:
    torch.manual_seed(0)
    for inner, x in (
        (MLPDiscriminator(in_dim=4, hidden_dim=8, depth=2), torch.randn(6, 2)),
        (DCGANDiscriminator(channels=2, width=8, norm="none"), torch.randn(4, 1, 28, 28)),
    ):
        d = PackedDiscriminator(inner, pack=2)
        by_hand = torch.cat([x[0::2], x[1::2]], dim=1)  # pack i = (sample 2i, sample 2i + 1)
        assert_close(d(x), inner(by_hand))
        assert_close(d.features(x), inner.features(by_hand))
        assert d(x).shape == (x.shape[0] // 2,)


def test_pack_of_four_and_pack_of_one() -> None:
    torch.manual_seed(0)
    x = torch.randn(8, 2)
    inner = MLPDiscriminator(in_dim=8, hidden_dim=8, depth=1)
    assert_close(PackedDiscriminator(inner, 4)(x), inner(torch.cat([x[k::4] for k in range(4)], 1)))
    single = MLPDiscriminator(in_dim=2, hidden_dim=8, depth=1)
    assert_close(PackedDiscriminator(single, 1)(x), single(x))


def test_refusals_name_the_fix() -> None:
    d = PackedDiscriminator(MLPDiscriminator(in_dim=4, hidden_dim=8, depth=1), pack=2)
    with pytest.raises(ValueError, match="batch_size a multiple of the pack size"):
        d(torch.randn(5, 2))
    with pytest.raises(ValueError, match="at least 1"):
        PackedDiscriminator(MLPDiscriminator(), pack=0)
    with pytest.raises(ValueError, match="unconditional"):
        PackedDiscriminator(ConditionalMLPDiscriminator(num_classes=8), pack=2)
