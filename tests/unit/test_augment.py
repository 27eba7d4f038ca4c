"""DiffAugment's transforms on hand-made images, and the wrapper that applies them to a discriminator's input."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.networks import DCGANDiscriminator, DiffAugmentDiscriminator
from gan_lightning.networks.augment import adjust_color, cut_out, translate

GRID = torch.arange(9.0).view(1, 1, 3, 3)


def test_translate_shifts_each_image_and_fills_what_comes_in() -> None:
    images = torch.cat([GRID, GRID])
    shifted = translate(images, dy=torch.tensor([1, 0]), dx=torch.tensor([0, -1]), fill=-1.0)
    down = [[-1.0, -1.0, -1.0], [0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    left = [[1.0, 2.0, -1.0], [4.0, 5.0, -1.0], [7.0, 8.0, -1.0]]
    assert_close(shifted, torch.tensor([[down], [left]]))


def test_cut_out_clips_a_hole_that_sticks_out_of_the_image() -> None:
    images = torch.ones(2, 2, 4, 4)
    holed = cut_out(images, top=torch.tensor([-1, 1]), left=torch.tensor([2, 0]), size=(2, 2), fill=0.0)
    first = torch.ones(4, 4)
    first[0, 2:] = 0.0  # rows -1..0, columns 2..3
    second = torch.ones(4, 4)
    second[1:3, 0:2] = 0.0
    assert_close(holed, torch.stack([first.expand(2, 4, 4), second.expand(2, 4, 4)]))


def test_adjust_color_by_hand() -> None:
    image = torch.tensor([[[[0.0, 2.0]], [[4.0, 6.0]]]])  # 2 channels, 1x2 pixels
    # brightness +1: [[1, 3]], [[5, 7]]; channel mean per pixel [3, 5]; saturation 0.5: [[2, 4]], [[4, 6]];
    # image mean 4; contrast 2: [[0, 4]], [[4, 8]].
    out = adjust_color(image, torch.tensor([1.0]), torch.tensor([0.5]), torch.tensor([2.0]))
    assert_close(out, torch.tensor([[[[0.0, 4.0]], [[4.0, 8.0]]]]))


def test_wrapper_is_the_identity_outside_training_and_with_nothing_to_do() -> None:
    torch.manual_seed(0)
    d = DCGANDiscriminator(image_size=28, channels=1, width=8, norm="none")
    x = torch.randn(4, 1, 28, 28)
    wrapped = DiffAugmentDiscriminator(d, policy=["translation", "cutout"]).eval()
    assert_close(wrapped(x), d(x))
    still = DiffAugmentDiscriminator(d, translation_ratio=0.0, cutout_ratio=0.0).train()
    assert_close(still.augment(x), x)


def test_wrapper_draws_one_transform_per_image_and_passes_gradients() -> None:
    torch.manual_seed(0)
    wrapped = DiffAugmentDiscriminator(torch.nn.Identity(), policy=["translation", "cutout"]).train()
    x = torch.randn(64, 1, 28, 28, requires_grad=True)
    out = wrapped(x)
    # cutout zeroes a hole of 14x14 (clipped) in every image; translation differs from image to image
    assert bool(((out == 0).flatten(1).sum(1) >= 49).all())
    assert len({tuple(row.tolist()) for row in (out == 0).flatten(1)}) > 32
    out.sum().backward()
    assert_close(x.grad.sum(), (out != 0).sum().to(x.grad.dtype))  # d out / d x is 1 where a pixel survives


def test_unknown_policy_names_the_key() -> None:
    with pytest.raises(ValueError, match=r"model.discriminator.policy: unknown \['flip'\]"):
        DiffAugmentDiscriminator(torch.nn.Identity(), policy=["flip"])
    with pytest.raises(ValueError, match="model.discriminator.cutout_ratio"):
        DiffAugmentDiscriminator(torch.nn.Identity(), cutout_ratio=1.5)


def test_conditional_critic_keeps_its_labels() -> None:
    from gan_lightning.networks import ConditionalDCGANDiscriminator

    torch.manual_seed(0)
    d = ConditionalDCGANDiscriminator(num_classes=10, image_size=28, channels=1, width=8)
    wrapped = DiffAugmentDiscriminator(d).eval()
    x, labels = torch.randn(4, 1, 28, 28), torch.tensor([0, 3, 3, 9])
    assert wrapped.num_classes == 10
    assert_close(wrapped(x, labels), d(x, labels))
