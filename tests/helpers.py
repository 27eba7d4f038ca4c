"""Shared builders: repository paths, quiet trainers, small networks and data, tiny generated data files.

Tests import them as ``from tests.helpers import ...`` (tests/ is a package); fixtures live in conftest.py. The
data writers pack bytes by hand (struct), independently of the readers under test.
"""

from __future__ import annotations

import gzip
import socket
import struct
from pathlib import Path

import lightning as L
import numpy as np
import torch
import yaml
from PIL import Image
from torch import Tensor, nn

from gan_lightning.data import MNISTDataModule, ToyDataModule
from gan_lightning.data.toy import toy_modes
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from gan_lightning.variants import NSGAN

# ------------------------------------------------------------------------------------------------ paths
ROOT = Path(__file__).resolve().parents[1]  # the repository
CONFIGS = ROOT / "configs"
RING_CONFIG = CONFIGS / "toy" / "wgan_gp_ring.yaml"
MNIST_CONFIG = CONFIGS / "mnist" / "nsgan.yaml"
BENCHMARKS = ROOT / "benchmarks"
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


# ------------------------------------------------------------------------------------------------ trainers
def quiet_trainer(**kwargs: object) -> L.Trainer:
    """A Trainer that writes nothing (no logger, checkpoints, progress bar or model summary); every other
    argument is Lightning's default unless given, and given ones (these four too) win."""
    quiet = dict(
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False
    )
    return L.Trainer(**{**quiet, **kwargs})


def cpu_trainer(**kwargs: object) -> L.Trainer:
    """:func:`quiet_trainer` for one epoch in one CPU process (even where a GPU exists), unless told otherwise."""
    return quiet_trainer(**{"max_epochs": 1, "accelerator": "cpu", "devices": 1, **kwargs})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------------ models
def mlp_nets(
    hidden_dim: int = 16,
    depth: int = 2,
    *,
    d_depth: int | None = None,
    spectral_norm: bool = False,
    seed: int | None = None,
) -> tuple[MLPGenerator, MLPDiscriminator]:
    """A 2D MLP generator (latent dim 2) and critic of one width (the critic's depth ``d_depth`` if given),
    built in that order, after ``torch.manual_seed(seed)`` if given: the parameters are those of
    ``MLPGenerator(hidden_dim=..., depth=...), MLPDiscriminator(hidden_dim=..., depth=...)`` written inline."""
    if seed is not None:
        torch.manual_seed(seed)
    generator = MLPGenerator(hidden_dim=hidden_dim, depth=depth)
    critic = MLPDiscriminator(
        hidden_dim=hidden_dim, depth=depth if d_depth is None else d_depth, spectral_norm=spectral_norm
    )
    return generator, critic


def small_nsgan(**kwargs: object) -> NSGAN:
    """NSGAN on :func:`mlp_nets` (16 wide, depth 2)."""
    return NSGAN(*mlp_nets(), **kwargs)


def tiny_dcgan() -> NSGAN:
    """NSGAN with 8-channel DCGAN networks for 28x28 grey images (latent dim 8), seeded."""
    torch.manual_seed(0)
    return NSGAN(DCGANGenerator(latent_dim=8, width=8), DCGANDiscriminator(width=8))


class PixelProjection(nn.Module):
    """A fixed random linear map of 28x28 images to 8 features (a tiny stand-in for LeNet)."""

    num_features = 8

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("weight", torch.randn(784, 8, generator=torch.Generator().manual_seed(0)) / 28)

    def forward(self, images: Tensor) -> Tensor:
        return images.flatten(1) @ self.weight


def tiny_ring_config(num_samples: int, batch_size: int, **trainer: object) -> dict:
    """A ``gan-lightning fit`` config: NSGAN with 16-wide MLPs (depth 3) on ``num_samples`` ring points;
    ``trainer`` is the config's trainer section."""
    return {
        "model": {
            "class_path": "gan_lightning.variants.NSGAN",
            "init_args": {
                "generator": {
                    "class_path": "gan_lightning.networks.MLPGenerator",
                    "init_args": {"hidden_dim": 16},
                },
                "discriminator": {
                    "class_path": "gan_lightning.networks.MLPDiscriminator",
                    "init_args": {"hidden_dim": 16},
                },
            },
        },
        "data": {
            "class_path": "gan_lightning.data.ToyDataModule",
            "init_args": {"num_samples": num_samples, "batch_size": batch_size},
        },
        "trainer": trainer,
    }


def fit_config(config: dict, folder: Path, *args: str) -> Path:
    """``gan-lightning fit`` of ``config`` (written to ``folder``) with extra arguments ``args``; the run lands
    under ``folder/runs``. Returns its last checkpoint."""
    from gan_lightning.cli import main

    path = folder / "config_under_test.yaml"
    path.write_text(yaml.safe_dump(config))
    main(["fit", "--config", str(path), "--trainer.logger.init_args.save_dir", str(folder / "runs"), *args])
    return max((folder / "runs").rglob("*.ckpt"), key=lambda p: p.stat().st_mtime)


# ------------------------------------------------------------------------------------------------ 2D data
def ring_data(num_samples: int = 320, batch_size: int = 32) -> ToyDataModule:
    """The 8-mode ring (data seed 0)."""
    return ToyDataModule("ring", num_samples=num_samples, batch_size=batch_size)


def train_on_ring(model, steps: int = 600) -> tuple[float, float]:  # any GANModule
    """Mean distance of 2,000 generated points to the nearest ring mode before and after `steps` optimiser
    steps (batch 256, plain Trainer, no logger): the short 2D run each objective family must improve."""
    centres, _ = toy_modes("ring")

    def distance() -> float:
        return torch.cdist(model.generate(2000), centres).min(1).values.mean().item()

    before = distance()
    quiet_trainer(max_steps=steps).fit(model, ring_data(num_samples=256 * 50, batch_size=256))
    return before, distance()


# ------------------------------------------------------------------------------------------------ data files
CELEBA_ATTRIBUTES = ["5_o_Clock_Shadow", "Male", "Smiling", "Young"]  # a few of the 40 real names


def write_idx(path: Path, values: np.ndarray) -> Path:
    """An IDX file of unsigned bytes (gzipped when the name ends in .gz)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, values.ndim) + struct.pack(f">{values.ndim}I", *values.shape)
    payload = header + values.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return path


def tiny_digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n known 28x28 'digits' (pixel (i, r, c) = (7 i + 28 r + c) mod 256) and labels i mod 10."""
    i, r, c = np.meshgrid(np.arange(n), np.arange(28), np.arange(28), indexing="ij")
    return ((7 * i + 28 * r + c) % 256).astype(np.uint8), (np.arange(n) % 10).astype(np.uint8)


def write_tiny_idx(
    folder: Path, n: int = 128, split: str = "train", gz: bool = True, torchvision_layout: bool = False
) -> Path:
    """The two IDX files of an MNIST split holding ``tiny_digits(n)``; returns the ``data_dir`` to pass."""
    prefix = "train" if split == "train" else "t10k"
    target = folder / "MNIST" / "raw" if torchvision_layout else folder
    suffix = ".gz" if gz else ""
    images, labels = tiny_digits(n)
    write_idx(target / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(target / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return folder


def write_tiny_celeba(
    root: Path,
    n: int = 12,
    partition_file: bool = True,
    attribute_file: bool = True,
    size: tuple[int, int] = (178, 218),
) -> Path:
    """A CelebA manual layout: ``n`` solid-colour JPEGs (width, height = size) and the two list files.

    Image k has colour (20 k mod 256, 128, 255 - 20 k mod 256); its partition is k mod 3 (0 train, 1 valid,
    2 test); attribute j of image k is 1 when bit j of k is set, else -1.
    """
    (root / "img_align_celeba").mkdir(parents=True, exist_ok=True)
    names = [f"{k + 1:06d}.jpg" for k in range(n)]
    for k, name in enumerate(names):
        colour = ((20 * k) % 256, 128, 255 - (20 * k) % 256)
        Image.new("RGB", size, colour).save(root / "img_align_celeba" / name, quality=95)
    if partition_file:
        (root / "list_eval_partition.txt").write_text(
            "".join(f"{name} {k % 3}\n" for k, name in enumerate(names))
        )
    if attribute_file:
        rows = [
            f"{name} " + " ".join("1" if k >> j & 1 else "-1" for j in range(len(CELEBA_ATTRIBUTES)))
            for k, name in enumerate(names)
        ]
        (root / "list_attr_celeba.txt").write_text(
            f"{n}\n{' '.join(CELEBA_ATTRIBUTES)}\n" + "\n".join(rows) + "\n"
        )
    return root


def write_image_folder(
    root: Path, classes: dict[str, list[tuple[int, int, int]]], size: tuple[int, int]
) -> Path:
    """``root/<class>/<i>.png``: one solid-colour PNG of ``size`` (width, height) per listed RGB colour."""
    for name, colours in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i, colour in enumerate(colours):
            Image.new("RGB", size, colour).save(root / name / f"{i}.png")
    return root


def tiny_mnist(folder: Path) -> MNISTDataModule:
    """An MNIST data module on 96 generated digits written under ``folder/mnist`` (batch 32, no download)."""
    return MNISTDataModule(str(write_tiny_idx(folder / "mnist", n=96)), download=False, batch_size=32)


def dcgan_networks(latent_dim: int, width: int) -> dict:
    """The generator and discriminator entries of an unconditional DCGAN config (28x28, one channel)."""
    return {
        "generator": {
            "class_path": "gan_lightning.networks.DCGANGenerator",
            "init_args": {"latent_dim": latent_dim, "width": width},
        },
        "discriminator": {
            "class_path": "gan_lightning.networks.DCGANDiscriminator",
            "init_args": {"width": width},
        },
    }


def conditional_dcgan(num_classes: int, latent_dim: int, width: int) -> dict:
    """The generator and discriminator entries of a conditional DCGAN config (28x28, one channel)."""
    return {
        "generator": {
            "class_path": "gan_lightning.networks.ConditionalDCGANGenerator",
            "init_args": {"num_classes": num_classes, "latent_dim": latent_dim, "width": width},
        },
        "discriminator": {
            "class_path": "gan_lightning.networks.ConditionalDCGANDiscriminator",
            "init_args": {"num_classes": num_classes, "width": width},
        },
    }
