"""Pixels to model inputs: every image data module scales to [-1, 1], the range of a tanh generator."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torchvision.transforms.functional import center_crop, pil_to_tensor, resize

# PIL modes of more than 8 bits per pixel -> the value that maps to 1 (white). 16-bit PNGs open as I;16, and a
# 32-bit integer image (mode I) is taken to hold 16-bit values too; a float image (mode F) is taken to lie in
# [0, 1]. Values outside the range are clamped. (PIL's convert("L") would clip these to 255 or round them to 0.)
HIGH_DEPTH_WHITE = {
    "I;16": 65535.0,
    "I;16B": 65535.0,
    "I;16L": 65535.0,
    "I;16N": 65535.0,
    "I": 65535.0,
    "F": 1.0,
}


def to_signed_unit(images: Tensor) -> Tensor:
    """uint8 pixels in [0, 255] -> float32 in [-1, 1]; 0 -> -1 and 255 -> 1 exactly."""
    return images.float() / 127.5 - 1.0


def high_depth_to_signed_unit(image: Image.Image) -> Tensor:
    """A one-channel image of more than 8 bits (a mode of ``HIGH_DEPTH_WHITE``) -> float32 (1, H, W) in [-1, 1]."""
    values = torch.from_numpy(np.asarray(image, dtype=np.float32).copy())
    return (values / HIGH_DEPTH_WHITE[image.mode]).clamp_(0.0, 1.0).mul_(2.0).sub_(1.0).unsqueeze(0)


def prepare_image(image: Image.Image, mode: str, image_size: int, crop_size: int | None = None) -> Tensor:
    """PIL image -> float32 (C, image_size, image_size) in [-1, 1].

    Converted to ``mode`` ("L" or "RGB"), center-cropped to ``crop_size`` first when given, then resized so
    the shorter side is ``image_size`` (antialiased bilinear) and center-cropped to a square. Images of more
    than 8 bits per channel (16-bit and float one-channel images) keep their depth: see ``HIGH_DEPTH_WHITE``.
    """
    if image.mode in HIGH_DEPTH_WHITE:
        return _prepare_high_depth(image, mode, image_size, crop_size)
    image = image.convert(mode)
    if crop_size is not None:
        image = center_crop(image, [crop_size, crop_size])
    image = center_crop(resize(image, image_size, antialias=True), [image_size, image_size])
    return to_signed_unit(pil_to_tensor(image))


def _prepare_high_depth(image: Image.Image, mode: str, image_size: int, crop_size: int | None) -> Tensor:
    # The same geometry as for 8-bit images, on a float tensor (PIL cannot resize every such mode bilinearly).
    values = high_depth_to_signed_unit(image)
    if crop_size is not None:
        values = center_crop(values, [crop_size, crop_size])
    values = center_crop(resize(values, image_size, antialias=True), [image_size, image_size])
    values = values.clamp_(-1.0, 1.0)  # the filter's rounding may step a hair outside
    return values.expand(3, -1, -1).contiguous() if mode == "RGB" else values
