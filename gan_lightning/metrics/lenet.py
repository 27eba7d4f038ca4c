"""The MNIST domain feature extractor: a small LeNet-style classifier whose last hidden layer feeds FID/KID.

InceptionV3 features mean little for 28x28 grey digits and need downloaded weights; a classifier trained on
MNIST itself is the usual domain extractor (as the "MNIST score" of conditional-GAN papers). Its weights ship
with the package (``gan_lightning/assets/mnist_lenet.pt``, about 0.4 MB) so that evaluation works offline;
``gan-lightning train-evaluator --data DIR --out FILE`` trains a new one.

Architecture: conv 5x5 (32) - ReLU - max-pool 2 - conv 5x5 (64) - ReLU - max-pool 2 - linear (128) - ReLU
[features] - dropout - linear (10) [logits].
"""

from __future__ import annotations

import math
from importlib.resources import files
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: The weights that ship with the package.
DEFAULT_WEIGHTS = files("gan_lightning") / "assets" / "mnist_lenet.pt"


class LeNet(nn.Module):
    """MNIST classifier whose forward returns ``(features (B, num_features), logits (B, 10))``.

    Input: images ``(B, C, H, W)``. uint8 images are read as [0, 255]; float images as ``input_range``
    ([-1, 1] by default, the range of this library's data and generators; pass ``(0, 1)`` for [0, 1] images).
    Several channels are averaged to one (what FID/KID see); other sizes are resized to 28x28. ``in_channels
    = 1`` tells ``ImageMetrics``' ``classes`` metric to classify each channel of several-channel images on its
    own (Stacked MNIST: one digit per channel).

    Args:
        num_features: width of the feature layer.
        num_classes: number of classes.
        input_range: (low, high) of float inputs.
    """

    #: The classifier reads one channel (several are averaged): the per-channel ``classes`` metric's cue.
    in_channels = 1

    def __init__(
        self, num_features: int = 128, num_classes: int = 10, input_range: tuple[float, float] = (-1.0, 1.0)
    ) -> None:
        super().__init__()
        self.num_features, self.num_classes = num_features, num_classes
        self.input_range = tuple(input_range)
        self.trunk = nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 4 * 4, num_features), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(num_features, num_classes))

    def prepare(self, images: Tensor) -> Tensor:
        """Images of any supported range, channel count and size -> (B, 1, 28, 28) in [-1, 1]."""
        if images.dtype == torch.uint8:
            x = images.float() / 127.5 - 1
        else:
            low, high = self.input_range
            x = (images.float() - low) * (2 / (high - low)) - 1
        if x.shape[1] != 1:
            x = x.mean(1, keepdim=True)
        if tuple(x.shape[-2:]) != (28, 28):
            x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
        return x

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        features = self.trunk(self.prepare(images))
        return features, self.head(features)


def save_lenet(model: LeNet, path: str | Path, **info: object) -> None:
    """Save the weights in float16 (half the size; features change by < 1e-3) with extra ``info``."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "num_features": model.num_features, **info}, path)


def load_lenet(path: str | Path | None = None) -> LeNet:
    """A frozen LeNet in eval mode, from ``path`` or from the weights that ship with the package."""
    path = DEFAULT_WEIGHTS if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"LeNet weights not found at {path}: train them with `gan-lightning train-evaluator`"
        )
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = LeNet(num_features=saved["num_features"])
    model.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in saved["state_dict"].items()}
    )
    return model.eval().requires_grad_(False)


# ------------------------------------------------------------------------------------------ training
def _shift(images: Tensor, generator: torch.Generator, max_shift: int = 2) -> Tensor:
    """Random translations of up to ``max_shift`` pixels (the only augmentation)."""
    padded = F.pad(images, [max_shift] * 4, value=-1.0)
    dx, dy = torch.randint(0, 2 * max_shift + 1, (2,), generator=generator).tolist()
    return padded[..., dy : dy + images.shape[-2], dx : dx + images.shape[-1]]


@torch.no_grad()
def accuracy(model: LeNet, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """Fraction of correctly classified images."""
    model.eval()
    correct = sum(
        int((model(x)[1].argmax(1) == y).sum())
        for x, y in zip(images.split(batch_size), labels.split(batch_size), strict=True)
    )
    return correct / len(labels)


def train_lenet(
    train_images: Tensor,
    train_labels: Tensor,
    epochs: int = 15,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> LeNet:
    """Train a LeNet on uint8 images ``(N, 1, 28, 28)`` with Adam and a cosine learning-rate decay.

    Args:
        train_images: uint8 MNIST images.
        train_labels: their digits.
        epochs: passes over the images.
        batch_size: images per step.
        lr: Adam's initial learning rate.
        seed: seed of the initialisation, the shuffling and the shifts.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = LeNet()
    x_all = train_images.float() / 127.5 - 1
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(x_all) / batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(x_all), generator=generator).split(batch_size):
            logits = model(_shift(x_all[batch], generator))[1]
            loss = F.cross_entropy(logits, train_labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return model.eval().requires_grad_(False)
