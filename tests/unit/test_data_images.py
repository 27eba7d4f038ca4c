"""Image data modules on tiny generated files: values, labels, layouts, splits and the one-line errors (as the
command line prints them: tests/cli/test_data_images.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close
from torch.utils.data import Dataset
from torchvision.datasets import MNIST, CelebA

from gan_lightning.data import CelebADataModule, ImageDataModule, ImageFolderDataModule, MNISTDataModule
from gan_lightning.data import mnist as mnist_module
from gan_lightning.data.mnist import read_idx
from gan_lightning.data.transforms import to_signed_unit
from tests.helpers import (
    SHARED_MNIST,
    tiny_digits,
    write_idx,
    write_image_folder,
    write_tiny_celeba,
    write_tiny_idx,
)


def exact(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert_close(actual, expected, rtol=0, atol=0)


# ------------------------------------------------------------------------------------------------ IDX / MNIST
@pytest.mark.parametrize("name", ["x-images-idx3-ubyte", "x-images-idx3-ubyte.gz"])
def test_read_idx_returns_the_written_bytes(tmp_path: Path, name: str) -> None:
    images, labels = tiny_digits(3)
    read = read_idx(write_idx(tmp_path / name, images))
    assert read.dtype == torch.uint8 and read.shape == (3, 28, 28)
    exact(read, torch.from_numpy(images))
    assert read[1, 0, 1].item() == 8 and read[2, 9, 3].item() == (14 + 252 + 3) % 256
    exact(
        read_idx(write_idx(tmp_path / "l-idx1-ubyte.gz", labels)), torch.tensor([0, 1, 2], dtype=torch.uint8)
    )


def test_read_idx_rejects_bad_and_truncated_files(tmp_path: Path) -> None:
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x02ab")  # type 0x0d = float
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05abc")
    with pytest.raises(ValueError, match="holds 3 values but its header promises 5"):
        read_idx(tmp_path / "short")


def test_mnist_scales_to_signed_unit_exactly(tmp_path: Path) -> None:
    dm = MNISTDataModule(str(write_tiny_idx(tmp_path, n=128)), download=False)
    assert dm.data_shape == (1, 28, 28) and dm.num_classes == 10
    dm.setup("fit")
    images, labels = dm.train_set.tensors
    raw = torch.from_numpy(tiny_digits(128)[0]).unsqueeze(1)
    exact(images, raw.float() / 127.5 - 1)
    assert images.dtype == torch.float32 and images.min().item() == -1.0 and images.max().item() == 1.0
    assert_close(images[1, 0, 0, 1], torch.tensor(8 / 127.5 - 1))  # pixel value 8 -> -0.937...
    exact(labels, torch.arange(128) % 10)
    exact(to_signed_unit(torch.tensor([0, 51, 255], dtype=torch.uint8)), torch.tensor([-1.0, -0.6, 1.0]))


def test_mnist_torchvision_layout_uncompressed_and_batches(tmp_path: Path) -> None:
    data_dir = write_tiny_idx(tmp_path, n=100, split="test", gz=False, torchvision_layout=True)
    dm = MNISTDataModule(str(data_dir), split="test", batch_size=32, download=False)
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert len(batches) == 3  # drop_last: 100 = 3 * 32 + 4
    images, labels = batches[0]
    assert images.shape == (32, 1, 28, 28) and images.dtype == torch.float32 and labels.dtype == torch.long
    assert dm.val_dataloader() == []


def test_mnist_resize_keeps_range_and_values(tmp_path: Path) -> None:
    constant = np.full((4, 28, 28), 51, dtype=np.uint8)
    step = np.zeros((4, 28, 28), dtype=np.uint8)
    step[:, :, 14:] = 255
    write_idx(tmp_path / "const" / "train-images-idx3-ubyte", constant)
    write_idx(tmp_path / "step" / "train-images-idx3-ubyte", step)
    for folder in ("const", "step"):
        write_idx(tmp_path / folder / "train-labels-idx1-ubyte", np.arange(4))

    dm = MNISTDataModule(str(tmp_path / "const"), resize=32, batch_size=4, download=False)
    assert dm.data_shape == (1, 32, 32)
    dm.setup()
    assert_close(dm.train_set.tensors[0], torch.full((4, 1, 32, 32), 51 / 127.5 - 1))

    dm = MNISTDataModule(str(tmp_path / "step"), resize=14, batch_size=4, download=False)
    dm.setup()
    images = dm.train_set.tensors[0]
    assert images.shape == (4, 1, 14, 14) and images.min() >= -1 and images.max() <= 1
    exact(images[..., :6], torch.full((4, 1, 14, 6), -1.0))  # far from the edge: untouched by the filter
    exact(images[..., 8:], torch.full((4, 1, 14, 6), 1.0))


def test_mnist_val_fraction_holds_out_a_seeded_disjoint_part(tmp_path: Path) -> None:
    dm = MNISTDataModule(
        str(write_tiny_idx(tmp_path, n=128)), val_fraction=0.25, batch_size=16, download=False
    )
    dm.setup()
    train, val = dm.train_set.indices, dm.val_set.indices
    assert len(train) == 96 and len(val) == 32 and sorted(train + val) == list(range(128))
    assert sum(len(x) for x, _ in dm.val_dataloader()) == 32
    again = MNISTDataModule(str(tmp_path), val_fraction=0.25, download=False)
    again.setup()
    assert again.val_set.indices == val
    samples = dm.sample(5)
    all_images = dm.train_set.dataset.tensors[0]
    assert samples.shape == (5, 1, 28, 28)
    assert all(
        any(torch.equal(s, all_images[i]) for i in val) for s in samples
    )  # drawn from the held-out part


def test_mnist_missing_files_and_failed_download_is_one_sentence(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(
        MNIST, "mirrors", ["http://127.0.0.1:9/"]
    )  # refused at once: the real download code fails
    data_dir = tmp_path / "nothing"
    dm = MNISTDataModule(str(data_dir))
    dm.prepare_data()
    with pytest.raises(FileNotFoundError) as error:
        dm.setup("fit")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("MNIST train split not found: no train-images-idx3-ubyte[.gz]")
    assert "the download failed (" in message and "--data.data_dir" in message
    assert not data_dir.exists()  # the failed download left no empty folders behind


def test_mnist_other_split_present_suggests_it_and_downloads_nothing(tmp_path: Path, monkeypatch) -> None:
    def no_download(*_: object) -> None:
        raise AssertionError("must not download into a folder that holds the other split")

    monkeypatch.setattr(mnist_module, "download_mnist", no_download)
    dm = MNISTDataModule(str(write_tiny_idx(tmp_path, split="test")), split="train")
    dm.prepare_data()
    with pytest.raises(FileNotFoundError, match=r"holds the test split: add --data.split test"):
        dm.setup()
    with pytest.raises(FileNotFoundError, match="data.download is false"):
        MNISTDataModule(str(tmp_path / "empty"), download=False).setup()


def test_mnist_reads_what_torchvision_downloaded(tmp_path: Path, monkeypatch) -> None:
    def fake_download(self: MNIST) -> None:  # what the real download leaves in raw/: the four unpacked files
        for prefix, n in (("train", 64), ("t10k", 16)):
            write_tiny_idx(Path(self.raw_folder), n=n, split=prefix, gz=False)

    monkeypatch.setattr(MNIST, "download", fake_download)
    dm = MNISTDataModule(str(tmp_path / "mnist"), batch_size=8)
    dm.prepare_data()
    dm.setup()
    assert (tmp_path / "mnist" / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    assert len(dm.train_set) == 64


def test_workers_compute_with_one_thread(tmp_path: Path) -> None:
    class Threads(Dataset):
        def __len__(self) -> int:
            return 2

        def __getitem__(self, i: int) -> torch.Tensor:
            return torch.tensor(torch.get_num_threads())

    dm = ImageDataModule()
    dm.batch_size, dm.num_workers = 2, 1
    loader = dm._loader(Threads(), train=True)
    assert loader.persistent_workers and loader.drop_last
    exact(next(iter(loader)), torch.tensor([1, 1]))


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="../shared/data/mnist is not present")
def test_real_mnist_test_split_from_the_shared_folder() -> None:
    dm = MNISTDataModule(str(SHARED_MNIST), split="test")
    dm.prepare_data()
    dm.setup("fit")
    images, labels = dm.train_set.tensors
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.float32
    assert images.min().item() == -1.0 and images.max().item() == 1.0
    exact(labels[:10], torch.tensor([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]))  # the well-known first test digits
    exact(torch.bincount(labels).sum(), torch.tensor(10_000))
    assert torch.bincount(labels).min() > 800
    assert len(list(SHARED_MNIST.iterdir())) == 2  # nothing was written into the shared folder


# ------------------------------------------------------------------------------------------------ CelebA
def test_celeba_manual_layout_with_attribute_labels(tmp_path: Path) -> None:
    root = write_tiny_celeba(tmp_path, n=12)
    dm = CelebADataModule(
        str(root), attributes=["Male", "Smiling"], val_split="valid", batch_size=2, download=False
    )
    assert dm.data_shape == (3, 64, 64) and dm.num_classes == 4
    dm.setup("fit")
    # train partition = images k with k % 3 == 0; label = bit1(k) + 2 * bit2(k) (Male is column 1, Smiling 2)
    assert [p.name for p in dm.train_set.paths] == ["000001.jpg", "000004.jpg", "000007.jpg", "000010.jpg"]
    exact(dm.train_set.labels, torch.tensor([0, 1, 3, 0]))
    assert len(dm.val_set) == 4 and dm.val_set.paths[0].name == "000002.jpg"
    image, label = dm.train_set[1]  # k = 3: a solid colour (60, 128, 195)
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32 and label.item() == 1
    expected = torch.tensor([60, 128, 195]).float().div(127.5).sub(1).view(3, 1, 1).expand(3, 64, 64)
    assert_close(image, expected, rtol=0, atol=3 / 127.5)  # JPEG rounding
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (2, 3, 64, 64) and labels.dtype == torch.long


def test_celeba_torchvision_layout_and_split_all_without_lists(tmp_path: Path) -> None:
    write_tiny_celeba(tmp_path / "celeba", n=6, partition_file=False, attribute_file=False, size=(40, 50))
    dm = CelebADataModule(
        str(tmp_path), split="all", image_size=16, crop_size=40, batch_size=2, download=False
    )
    dm.setup()
    assert len(dm.train_set) == 6 and dm.num_classes == 0
    assert dm.train_set[0][0].shape == (3, 16, 16)
    exact(dm.train_set.labels, torch.zeros(6, dtype=torch.long))


def test_celeba_names_the_missing_file(tmp_path: Path, monkeypatch) -> None:
    root = write_tiny_celeba(tmp_path, n=3, partition_file=False)
    with pytest.raises(FileNotFoundError) as error:
        CelebADataModule(str(root), download=False).setup()
    message = str(error.value)
    assert "\n" not in message
    assert f"missing {root / 'list_eval_partition.txt'} (needed for data.split='train')" in message
    assert "img_align_celeba" not in message.split(", and")[0]  # the images are there: not reported missing

    def quota(self: CelebA) -> None:
        raise RuntimeError("Too many users have viewed or downloaded this file recently.\nTry again later.")

    monkeypatch.setattr(CelebA, "download", quota)
    with pytest.raises(FileNotFoundError, match=r"the download failed \(Try again later.\)"):
        CelebADataModule(str(tmp_path / "empty")).setup()
    assert not (tmp_path / "empty").exists()


def test_celeba_unknown_attribute_lists_the_allowed_ones(tmp_path: Path) -> None:
    dm = CelebADataModule(str(write_tiny_celeba(tmp_path, n=3)), attributes=["Smilling"], download=False)
    with pytest.raises(
        ValueError, match="data.attributes: unknown Smilling; allowed: 5_o_Clock_Shadow, Male"
    ):
        dm.setup()


# ------------------------------------------------------------------------------------------------ ImageFolder
def test_image_folder_with_class_labels_and_center_crop(tmp_path: Path) -> None:
    write_image_folder(tmp_path, {"b": [(0, 0, 255)] * 3, "a": [(255, 0, 0), (0, 255, 0)]}, size=(40, 20))
    dm = ImageFolderDataModule(str(tmp_path), image_size=16, labels=True, batch_size=5)
    assert dm.classes == ["a", "b"] and dm.num_classes == 2 and dm.data_shape == (3, 16, 16)
    dm.setup()
    exact(dm.train_set.labels, torch.tensor([0, 0, 1, 1, 1]))
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (5, 3, 16, 16)
    red = torch.tensor([1.0, -1.0, -1.0]).view(3, 1, 1).expand(3, 16, 16)
    exact(dm.train_set[0][0], red)  # 40x20 -> 32x16 -> center 16x16, a solid colour stays exact

    # the center crop: a 40x20 image with red, blue, green thirds of width 10, 20, 10 keeps only the blue
    array = np.zeros((20, 40, 3), dtype=np.uint8)
    array[:, :10, 0], array[:, 10:30, 2], array[:, 30:, 1] = 255, 255, 255
    (tmp_path / "c").mkdir()
    Image.fromarray(array).save(tmp_path / "c" / "thirds.png")
    dm = ImageFolderDataModule(str(tmp_path / "c"), image_size=20, batch_size=1)
    dm.setup()
    exact(dm.train_set[0][0], torch.tensor([-1.0, -1.0, 1.0]).view(3, 1, 1).expand(3, 20, 20))


def test_image_folder_grey_without_labels_and_errors(tmp_path: Path) -> None:
    write_image_folder(
        tmp_path / "imgs", {"x": [(37, 128, 201)], "y/deeper": [(37, 128, 201)] * 3}, size=(30, 30)
    )
    dm = ImageFolderDataModule(
        str(tmp_path / "imgs"), image_size=8, channels=1, val_fraction=0.25, batch_size=2
    )
    assert dm.num_classes == 0 and dm.data_shape == (1, 8, 8)
    dm.setup()
    assert len(dm.train_set) == 3 and len(dm.val_set) == 1
    grey = round((299 * 37 + 587 * 128 + 114 * 201) / 1000)  # PIL's L = 0.299 R + 0.587 G + 0.114 B
    exact(dm.sample(1), torch.full((1, 1, 8, 8), float(grey)) / 127.5 - 1)

    with pytest.raises(FileNotFoundError, match="is not a folder"):
        ImageFolderDataModule(str(tmp_path / "missing"))
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "flat" / "only.png")
    with pytest.raises(ValueError, match="data.labels is true but .* has no subfolders"):
        ImageFolderDataModule(str(tmp_path / "flat"), labels=True)
    (tmp_path / "void").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        ImageFolderDataModule(str(tmp_path / "void")).setup()
    with pytest.raises(ValueError, match="data.channels must be 1 or 3"):
        ImageFolderDataModule(str(tmp_path / "void"), channels=2)
    with pytest.raises(
        ValueError, match=r"data.batch_size \(64\) is larger than the training set \(1 images\)"
    ):
        ImageFolderDataModule(str(tmp_path / "flat")).setup()
