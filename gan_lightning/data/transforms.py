"""Pixels to model inputs: every image data module scales to [-1, 1], the range of a tanh generator."""

from __future__ import annotations

from PIL import Image
from torch import Tensor
from torchvision.transforms.functional import center_crop, pil_to_tensor, resize


def to_signed_unit(images: Tensor) -> Tensor:
    """uint8 pixels in [0, 255] -> float32 in [-1, 1]; 0 -> -1 and 255 -> 1 exactly."""
    return images.float() / 127.5 - 1.0


def prepare_image(image: Image.Image, mode: str, image_size: int, crop_size: int | None = None) -> Tensor:
    """PIL image -> float32 (C, image_size, image_size) in [-1, 1].

    Converted to ``mode`` ("L" or "RGB"), center-cropped to ``crop_size`` first when given, then resized so
    the shorter side is ``image_size`` (antialiased bilinear) and center-cropped to a square.
    """
    image = image.convert(mode)
    if crop_size is not None:
        image = center_crop(image, [crop_size, crop_size])
    image = center_crop(resize(image, image_size, antialias=True), [image_size, image_size])
    return to_signed_unit(pil_to_tensor(image))
