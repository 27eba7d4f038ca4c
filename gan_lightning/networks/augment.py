"""Differentiable augmentation of everything a discriminator sees, real and generated alike.

DiffAugment (Zhao, Liu, Lin, Zhu, Han, "Differentiable Augmentation for Data-Efficient GAN Training", NeurIPS 2020):
the same family of random transforms T is applied to real and fake images in both the critic's and the
generator's steps, so D judges T(x) against T(G(z)) and cannot memorise a small training set, while G still gets
gradients through T. Each transform is a function of the image and its explicit random draws (tested on hand-made
images); the wrapper draws them, one per sample, from the device's global generator (seeded runs stay exact).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

POLICIES = ("color", "translation", "cutout")


def translate(x: Tensor, dy: Tensor, dx: Tensor, fill: float = 0.0) -> Tensor:
    """Shift each image of ``x`` (N, C, H, W) by ``dy[i]`` rows down and ``dx[i]`` columns right (integer
    tensors of shape (N,)); pixels shifted in from outside are ``fill``."""
    n, c, h, w = x.shape
    rows = torch.arange(h, device=x.device).view(1, h, 1) - dy.view(n, 1, 1)  # source row of each output row
    cols = torch.arange(w, device=x.device).view(1, 1, w) - dx.view(n, 1, 1)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    index = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).view(n, 1, h * w).expand(n, c, h * w)
    shifted = x.reshape(n, c, h * w).gather(2, index).view(n, c, h, w)
    return torch.where(inside.unsqueeze(1), shifted, torch.full_like(shifted, fill))


def cut_out(x: Tensor, top: Tensor, left: Tensor, size: tuple[int, int], fill: float = 0.0) -> Tensor:
    """Set a ``size`` = (height, width) rectangle of each image to ``fill``, its top-left corner at
    (``top[i]``, ``left[i]``); corners may lie outside the image, which clips the rectangle."""
    n, _, h, w = x.shape
    rows = torch.arange(h, device=x.device).view(1, h, 1) - top.view(n, 1, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w) - left.view(n, 1, 1)
    hole = (rows >= 0) & (rows < size[0]) & (cols >= 0) & (cols < size[1])
    return torch.where(hole.unsqueeze(1), torch.full_like(x, fill), x)


def adjust_color(x: Tensor, brightness: Tensor, saturation: Tensor, contrast: Tensor) -> Tensor:
    """DiffAugment's colour transform, per image (each factor of shape (N,)): add ``brightness``, scale each
    pixel's distance to its channel mean by ``saturation``, then the distance to the image mean by ``contrast``."""
    factor = lambda t: t.view(-1, 1, 1, 1).to(x.dtype)  # noqa: E731
    x = x + factor(brightness)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * factor(saturation) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * factor(contrast) + mean


class DiffAugmentDiscriminator(nn.Module):
    """Any image discriminator behind DiffAugment's random transforms (while training only).

    Args:
        discriminator: the network judging the augmented images; conditional ones get their labels unchanged.
        policy: transforms in the order applied, from ``color`` (brightness +-0.5, saturation x[0, 2], contrast
            x[0.5, 1.5]), ``translation`` (up to ``translation_ratio`` of the side, each way) and ``cutout`` (a
            square hole of ``cutout_ratio`` of the side); the paper's choice with little data is
            ``[color, translation, cutout]``, and ``[translation, cutout]`` for grey images.
        translation_ratio: the largest shift as a fraction of the image side (the paper's 1/8).
        cutout_ratio: the hole's side as a fraction of the image side (the paper's 1/2).
        fill: the value of shifted-in pixels and of the hole (the paper's 0: mid-grey for images in [-1, 1]).
    """

    def __init__(
        self,
        discriminator: nn.Module,
        policy: Sequence[str] = ("translation", "cutout"),
        translation_ratio: float = 0.125,
        cutout_ratio: float = 0.5,
        fill: float = 0.0,
    ) -> None:
        super().__init__()
        unknown = [p for p in policy if p not in POLICIES]
        if unknown:
            raise ValueError(
                f"model.discriminator.policy: unknown {unknown}; choose from {', '.join(POLICIES)}"
            )
        for key, ratio in (("translation_ratio", translation_ratio), ("cutout_ratio", cutout_ratio)):
            if not 0 <= ratio <= 1:
                raise ValueError(f"model.discriminator.{key} must be in [0, 1], got {ratio}")
        self.discriminator, self.policy = discriminator, tuple(policy)
        self.translation_ratio, self.cutout_ratio, self.fill = translation_ratio, cutout_ratio, fill
        self.num_classes = getattr(discriminator, "num_classes", 0)
        if hasattr(discriminator, "feature_dim"):
            self.feature_dim = discriminator.feature_dim

    def augment(self, x: Tensor) -> Tensor:
        """One random draw of the policy's transforms per image (the identity outside training)."""
        if not self.training:
            return x
        n, _, h, w = x.shape
        draw = lambda *shape: torch.rand(*shape, device=x.device)  # noqa: E731
        for name in self.policy:
            if name == "color":
                x = adjust_color(x, draw(n) - 0.5, 2 * draw(n), draw(n) + 0.5)
            elif name == "translation":
                sy, sx = int(h * self.translation_ratio + 0.5), int(w * self.translation_ratio + 0.5)
                dy = torch.randint(-sy, sy + 1, (n,), device=x.device)
                dx = torch.randint(-sx, sx + 1, (n,), device=x.device)
                x = translate(x, dy, dx, self.fill)
            else:  # cutout: the hole's centre anywhere in the image, so it may stick out of it
                size = (int(h * self.cutout_ratio + 0.5), int(w * self.cutout_ratio + 0.5))
                top = torch.randint(0, h + 1 - size[0] % 2, (n,), device=x.device) - size[0] // 2
                left = torch.randint(0, w + 1 - size[1] % 2, (n,), device=x.device) - size[1] // 2
                x = cut_out(x, top, left, size, self.fill)
        return x

    def features(self, x: Tensor) -> Tensor:
        """The wrapped network's features of the augmented images (for feature matching)."""
        return self.discriminator.features(self.augment(x))

    def forward(self, x: Tensor, *labels: Tensor) -> Tensor:
        return self.discriminator(self.augment(x), *labels)
