"""Damaged, missing or inconsistent data files: one-line errors naming the file at setup; unreadable images
skipped or refused; labels a conditional model cannot take; 16-bit and float images scaled to [-1, 1]. (The
same errors through the command line: tests/cli/test_bad_input.py.)"""

from __future__ import annotations

import gzip
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close

from gan_lightning.data import CelebADataModule, ImageFolderDataModule, MNISTDataModule, ToyDataModule
from gan_lightning.data import mnist as mnist_module
from gan_lightning.data.base import ImageFiles, check_labels_fit_model
from gan_lightning.data.mnist import load_mnist, read_idx
from gan_lightning.data.transforms import prepare_image
from tests.helpers import tiny_digits, write_idx, write_tiny_celeba

IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"


def one_line_error(error: pytest.ExceptionInfo, *parts: str) -> str:
    message = str(error.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, f"{part!r} missing from {message!r}"
    return message


def attach_model(datamodule, num_classes: int) -> None:
    """What setup sees under a Trainer: a model whose networks take labels 0..num_classes-1."""
    networks = {name: SimpleNamespace(num_classes=num_classes) for name in ("generator", "discriminator")}
    datamodule.trainer = SimpleNamespace(lightning_module=SimpleNamespace(**networks))


# ------------------------------------------------------------------------------------------------ IDX files
def test_damaged_gzip_files_are_named_in_one_line(tmp_path: Path) -> None:
    good = gzip.compress(write_idx(tmp_path / "plain", tiny_digits(4)[0]).read_bytes())
    corrupt = bytearray(good)
    corrupt[20:40] = bytes(20)  # zeros inside the deflate stream
    cases = {
        "truncated.gz": good[: len(good) // 2],  # a download cut off: EOFError
        "corrupt.gz": bytes(corrupt),  # zlib.error or a CRC mismatch
        "plain.gz": b"\x00\x00\x08\x01\x00\x00\x00\x02ab",  # not gzip at all: BadGzipFile
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError) as error:
            read_idx(tmp_path / name)
        one_line_error(
            error, str(tmp_path / name), "is a damaged gzip file", "replace it with a complete copy"
        )
    (tmp_path / "packed").write_bytes(good)  # gzip content without .gz in the name
    with pytest.raises(ValueError) as error:
        read_idx(tmp_path / "packed")
    one_line_error(error, str(tmp_path / "packed"), "gzip-compressed but its name does not end in .gz")


def test_wrong_magic_number_and_header_sizes_are_refused(tmp_path: Path) -> None:
    cases = {
        "text": (b"hello world!", "magic number is 0x68656c6c, expected 0x00000801 (labels) or 0x00000803"),
        "empty": (b"", "it is empty"),
        "floats": (b"\x00\x00\x0d\x01\x00\x00\x00\x01abcd", "magic number is 0x00000d01"),
        "short_header": (b"\x00\x00\x08\x03\x00\x00\x00\x02", "ends inside its header"),
        "extra_bytes": (
            b"\x00\x00\x08\x01\x00\x00\x00\x02abc",
            "holds 3 values but its header promises 2 (2)",
        ),
        "cut_images": (
            b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x02" + bytes(5),
            "holds 5 values but its header promises 8 (2 x 2 x 2)",
        ),
    }
    for name, (data, expected) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError) as error:
            read_idx(tmp_path / name)
        one_line_error(error, str(tmp_path / name), expected)


def test_images_and_labels_that_do_not_fit_each_other(tmp_path: Path) -> None:
    images, labels = tiny_digits(10)
    write_idx(tmp_path / "count" / IMAGES, images)
    write_idx(tmp_path / "count" / LABELS, labels[:7])
    with pytest.raises(ValueError) as error:
        load_mnist(tmp_path / "count", "train")
    one_line_error(error, f"{tmp_path / 'count' / IMAGES} holds 10 images but", f"{LABELS} holds 7 labels")

    write_idx(tmp_path / "size" / IMAGES, np.zeros((10, 32, 32), dtype=np.uint8))
    write_idx(tmp_path / "size" / LABELS, labels)
    with pytest.raises(ValueError) as error:
        load_mnist(tmp_path / "size", "train")
    one_line_error(error, str(tmp_path / "size" / IMAGES), "shape (10, 32, 32), not N images of 28x28")

    write_idx(tmp_path / "swapped" / IMAGES, images)
    write_idx(tmp_path / "swapped" / LABELS, images)  # an images file under the labels name
    with pytest.raises(ValueError) as error:
        load_mnist(tmp_path / "swapped", "train")
    one_line_error(error, str(tmp_path / "swapped" / LABELS), "not N labels")


def test_only_the_labels_file_missing_names_just_that_file_and_downloads_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    def no_download(*_: object) -> None:
        raise AssertionError("must not download into a folder that holds the user's MNIST files")

    monkeypatch.setattr(mnist_module, "download_mnist", no_download)
    write_idx(tmp_path / f"{IMAGES}.gz", tiny_digits(64)[0])
    dm = MNISTDataModule(str(tmp_path))  # download=True: still nothing is downloaded
    dm.prepare_data()
    with pytest.raises(FileNotFoundError) as error:
        dm.setup()
    message = one_line_error(
        error,
        f"MNIST train split incomplete: no {LABELS}[.gz] in {tmp_path} or {tmp_path / 'MNIST' / 'raw'}",
        f"(found {tmp_path / IMAGES}.gz)",
        "nothing is downloaded into a folder that already holds MNIST files",
    )
    assert f"{IMAGES}[.gz]" not in message and "download failed" not in message
    with pytest.raises(FileNotFoundError) as error:
        MNISTDataModule(str(tmp_path), download=False).setup()
    message = one_line_error(error, f"no {LABELS}[.gz]", "data.download is false")
    assert f"{IMAGES}[.gz]" not in message


def test_a_download_is_tried_and_reported_only_where_none_of_the_files_is(
    tmp_path: Path, monkeypatch
) -> None:
    tried = []

    def failing_download(data_dir: object, split: str) -> None:
        tried.append(split)
        raise OSError("<urlopen error offline>")

    monkeypatch.setattr(mnist_module, "download_mnist", failing_download)
    with pytest.raises(FileNotFoundError) as error:
        MNISTDataModule(str(tmp_path / "empty")).setup()
    one_line_error(
        error, f"no {IMAGES}[.gz] and {LABELS}[.gz]", "the download failed (<urlopen error offline>)"
    )
    assert tried == ["train"]


# ------------------------------------------------------------------------------------------------ labels
def test_labels_outside_a_conditional_models_classes_are_refused_at_setup(tmp_path: Path) -> None:
    images, labels = tiny_digits(64)
    labels[5] = 200
    write_idx(tmp_path / IMAGES, images)
    write_idx(tmp_path / LABELS, labels)
    dm = MNISTDataModule(str(tmp_path), download=False, batch_size=8)
    dm.setup()  # no trainer: nothing to check against
    attach_model(dm, 10)
    with pytest.raises(ValueError) as error:
        dm.setup("fit")  # already loaded: checked again against this model
    one_line_error(error, f"{tmp_path / LABELS} holds label 200, outside 0..9", "num_classes 10")
    attach_model(dm, 0)  # an unconditional model ignores the labels
    dm.setup("fit")

    toy = ToyDataModule("grid", num_samples=256, batch_size=32)
    attach_model(toy, 8)
    with pytest.raises(ValueError) as error:
        toy.setup("fit")
    one_line_error(error, "data.dataset 'grid' (25 modes) holds label 24, outside 0..7")


def test_check_labels_fit_model_takes_the_smaller_network_and_negative_labels() -> None:
    dm = SimpleNamespace()
    networks = {"generator": SimpleNamespace(num_classes=10), "discriminator": SimpleNamespace(num_classes=4)}
    dm.trainer = SimpleNamespace(lightning_module=SimpleNamespace(**networks))
    check_labels_fit_model(dm, torch.tensor([0, 3]), "labels")
    with pytest.raises(ValueError, match=r"labels holds label 4, outside 0..3"):
        check_labels_fit_model(dm, torch.tensor([0, 4]), "labels")
    with pytest.raises(ValueError, match=r"labels holds label -1, outside 0..3"):
        check_labels_fit_model(dm, torch.tensor([-1, 2]), "labels")


# ------------------------------------------------------------------------------------------------ image depth
@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, -1.0), (32768, 32768 / 65535 * 2 - 1), (65535, 1.0)],
    ids=["0", "32768", "65535"],
)
def test_16_bit_png_scales_by_65535(tmp_path: Path, value: int, expected: float) -> None:
    Image.fromarray(np.full((20, 30), value, dtype=np.uint16)).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as image:
        assert image.mode == "I;16"
        grey = prepare_image(image, "L", image_size=8)
        rgb = prepare_image(image, "RGB", image_size=8)
    assert_close(grey, torch.full((1, 8, 8), expected), rtol=0, atol=1e-6)
    assert_close(rgb, torch.full((3, 8, 8), expected), rtol=0, atol=1e-6)


def test_16_bit_png_of_32768_loads_as_zero_through_the_image_folder(tmp_path: Path) -> None:
    Image.fromarray(np.full((16, 16), 32768, dtype=np.uint16)).save(tmp_path / "mid.png")
    dm = ImageFolderDataModule(str(tmp_path), image_size=16, channels=1, batch_size=1)
    dm.setup()
    assert_close(dm.train_set[0][0], torch.zeros(1, 16, 16), rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    ("value", "expected"), [(0.0, -1.0), (0.5, 0.0), (1.0, 1.0), (2.0, 1.0), (-3.0, -1.0)]
)
def test_float_tiff_is_taken_in_0_1_and_clamped(tmp_path: Path, value: float, expected: float) -> None:
    Image.fromarray(np.full((12, 12), value, dtype=np.float32)).save(tmp_path / "float.tif")
    with Image.open(tmp_path / "float.tif") as image:
        assert image.mode == "F"
        values = prepare_image(image, "RGB", image_size=6)
    assert_close(values, torch.full((3, 6, 6), expected), rtol=0, atol=1e-6)


def test_high_depth_images_keep_their_pattern_through_crop_and_resize(tmp_path: Path) -> None:
    array = np.zeros((20, 40), dtype=np.uint16)
    array[:, 20:] = 65535  # left half black, right half white
    Image.fromarray(array).save(tmp_path / "halves.png")
    with Image.open(tmp_path / "halves.png") as image:
        values = prepare_image(image, "L", image_size=20)  # 40x20 -> center 20x20: columns 10..29
    assert_close(values[..., :8], torch.full((1, 20, 8), -1.0))  # far from the edge: untouched by the filter
    assert_close(values[..., 12:], torch.full((1, 20, 8), 1.0))


# ------------------------------------------------------------------------------------------------ unreadable images
def write_colours(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i}.png" for i in range(n)]
    for i, path in enumerate(paths):
        Image.new("RGB", (8, 8), (10 * i, 0, 0)).save(path)
    return paths


def red_of(image: torch.Tensor) -> float:
    return round((image[0, 0, 0].item() + 1) * 127.5)


def test_fake_images_are_skipped_with_a_count_or_refused_with_strict(tmp_path: Path) -> None:
    write_colours(tmp_path, 4)
    (tmp_path / "fake.jpg").write_text("this is text, not a JPEG")
    dm = ImageFolderDataModule(str(tmp_path), image_size=8, batch_size=2)
    with pytest.warns(
        UserWarning, match=r"skipped 1 of 5 files .* \(first: .*fake.jpg: cannot identify image"
    ):
        dm.setup()
    assert [p.name for p in dm.train_set.paths] == ["0.png", "1.png", "2.png", "3.png"]
    assert [red_of(image) for image, _ in dm.train_set] == [0, 10, 20, 30]

    with pytest.raises(ValueError) as error:
        ImageFolderDataModule(str(tmp_path), image_size=8, batch_size=2, strict=True).setup()
    one_line_error(error, f"image {tmp_path / 'fake.jpg'} cannot be read", "data.strict is true")

    only_fakes = tmp_path / "fakes"
    only_fakes.mkdir()
    (only_fakes / "a.png").write_text("text")
    with pytest.raises(ValueError) as error:
        ImageFolderDataModule(str(only_fakes), image_size=8, batch_size=1).setup()
    one_line_error(error, "none of the 1 image files", "a.png")


def test_an_image_that_fails_when_decoded_is_replaced_by_the_next_or_refused(tmp_path: Path) -> None:
    paths = write_colours(tmp_path, 4)
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)  # a long pixel stream
    Image.fromarray(noise).save(paths[1])
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[: len(data) // 2])  # a valid header, then cut off
    dm = ImageFolderDataModule(str(tmp_path), image_size=8, batch_size=2)
    dm.setup()  # the header is readable: kept
    with pytest.warns(UserWarning, match=r"skipped unreadable image .*1.png .*; 1 skipped so far"):
        reds = [red_of(image) for image, _ in dm.train_set]
    assert reds == [0, 20, 20, 30]  # 1.png replaced by the next readable image, 2.png
    assert list(dm.train_set.unreadable) == [paths[1]]

    with pytest.raises(ValueError) as error:  # strict decodes every image at setup
        ImageFolderDataModule(str(tmp_path), image_size=8, batch_size=2, strict=True).setup()
    one_line_error(error, f"image {paths[1]} cannot be read", "truncated", "data.strict is true")

    strict_files = ImageFiles(
        paths, torch.zeros(4, dtype=torch.long), lambda image: torch.zeros(1), strict=True
    )
    with pytest.raises(ValueError, match=r"image .*1.png cannot be decoded"):
        strict_files[1]


# ------------------------------------------------------------------------------------------------ CelebA lists
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("000001.jpg 0\n000002.jpg x\n", "list_eval_partition.txt line 2: expected '<image name> <partition"),
        ("000001.jpg 0\n000002.jpg 5\n", "line 2"),
        ("000001.jpg\n", "line 1"),
        ("\n\n", "list_eval_partition.txt lists no images"),
        (b"\xff\xfe\x00garbage", "list_eval_partition.txt is not a text file"),
    ],
    ids=["letter", "partition 5", "no partition", "empty", "binary"],
)
def test_garbled_partition_file_is_named(tmp_path: Path, content: str | bytes, expected: str) -> None:
    root = write_tiny_celeba(tmp_path, n=3, size=(40, 50))
    path = root / "list_eval_partition.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ValueError) as error:
        CelebADataModule(str(root), download=False, image_size=8, crop_size=40, batch_size=1).setup()
    one_line_error(error, str(root), expected)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda lines: lines[:-1], "has 2 image rows but its first line says 3: the file is cut off"),
        (
            lambda lines: [*lines[:3], lines[3].replace("-1", "2", 1), *lines[4:]],
            "line 4: expected an image name",
        ),
        (lambda lines: [*lines[:3], "000002.jpg 1 -1", *lines[4:]], "line 4"),
        (lambda lines: lines[1:], "does not start with the number of images and a line of attribute names"),
    ],
    ids=["cut off", "value 2", "short row", "no count"],
)
def test_garbled_attribute_file_is_named(tmp_path: Path, edit, expected: str) -> None:
    root = write_tiny_celeba(tmp_path, n=3, size=(40, 50))
    path = root / "list_attr_celeba.txt"
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    dm = CelebADataModule(
        str(root), attributes=["Male"], download=False, image_size=8, crop_size=40, batch_size=1
    )
    with pytest.raises(ValueError) as error:
        dm.setup()
    one_line_error(error, str(path), expected)


def test_celeba_strict_refuses_a_damaged_image_at_setup_and_otherwise_replaces_it(tmp_path: Path) -> None:
    root = write_tiny_celeba(tmp_path, n=6)
    damaged = root / "img_align_celeba" / "000004.jpg"  # k = 3, train partition (k % 3 == 0)
    damaged.write_bytes(damaged.read_bytes()[:200])  # a valid header, pixels cut off
    with pytest.raises(ValueError, match=rf"image {damaged} cannot be read .*; data.strict is true"):
        CelebADataModule(str(root), download=False, strict=True, batch_size=2).setup("fit")
    data = CelebADataModule(str(root), download=False, batch_size=2)
    data.setup("fit")  # the default: training replaces it by the next readable image, with a warning
    with pytest.warns(UserWarning, match="000004.jpg"):
        replaced, _ = data.train_set[1]
    assert_close(replaced, data.train_set[0][0])  # the next readable train image, wrapping round to the first
