"""Tiny generated data sets in the layouts the image data modules read (IDX files, CelebA, image folders).

The IDX writer packs bytes by hand (struct), independently of the reader under test.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
from PIL import Image

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


def train_on_ring(model, steps: int = 600) -> tuple[float, float]:  # noqa: ANN001 - any GANModule
    """Mean distance of 2,000 generated points to the nearest ring mode before and after `steps` optimiser
    steps (batch 256, plain Trainer, no logger): the short 2D run each objective family must improve."""
    import lightning as L
    import torch

    from gan_lightning.data import ToyDataModule
    from gan_lightning.data.toy import toy_modes

    centres, _ = toy_modes("ring")

    def distance() -> float:
        return torch.cdist(model.generate(2000), centres).min(1).values.mean().item()

    before = distance()
    trainer = L.Trainer(
        max_steps=steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, ToyDataModule("ring", batch_size=256, num_samples=256 * 50))
    return before, distance()
