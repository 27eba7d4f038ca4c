"""CelebA (Liu et al., 2015), aligned and cropped faces, read lazily from the JPEG files.

Layouts accepted in ``data_dir`` or ``data_dir/celeba`` (torchvision's download lands in the latter)::

    img_align_celeba/*.jpg      the 202,599 aligned faces (178x218)
    list_eval_partition.txt     "000001.jpg 0" per line: 0 train, 1 valid, 2 test (needed unless split=all)
    list_attr_celeba.txt        count, 40 attribute names, "000001.jpg -1 1 ..." lines (needed for attributes)

Images get the usual DCGAN preprocessing: center crop 178x178, then resize to ``image_size`` (64).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from gan_lightning.data.base import IMAGE_EXTENSIONS, ImageDataModule, ImageFiles, image_problem
from gan_lightning.data.download import failure_reason, remove_created_folders_on_error, socket_timeout
from gan_lightning.data.transforms import prepare_image
from gan_lightning.paths import local_data_dir

Partition = Literal["train", "valid", "test", "all"]
PARTITION_IDS = {"train": 0, "valid": 1, "test": 2}
IMAGES_DIR, PARTITION_FILE, ATTRIBUTE_FILE = (
    "img_align_celeba",
    "list_eval_partition.txt",
    "list_attr_celeba.txt",
)


def read_lines(path: Path) -> list[str]:
    """The non-blank lines of a text file; a file that is not text is refused naming it."""
    try:
        text = path.read_text()
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a text file ({error.reason} at byte {error.start})") from error
    return [line for line in text.splitlines() if line.strip()]


def read_partitions(path: Path) -> dict[str, int]:
    """file name -> partition id (0 train, 1 valid, 2 test) from list_eval_partition.txt.

    Every line must be ``<image name> <0, 1 or 2>``; the first that is not is named in a one-line ValueError.
    """
    partitions = {}
    for number, line in enumerate(read_lines(path), 1):
        row = line.split()
        if len(row) != 2 or row[1] not in ("0", "1", "2"):
            raise ValueError(
                f"{path} line {number}: expected '<image name> <partition 0, 1 or 2>', got {line.strip()!r}"
            )
        partitions[row[0]] = int(row[1])
    if not partitions:
        raise ValueError(f"{path} lists no images")
    return partitions


def read_attributes(path: Path) -> tuple[list[str], dict[str, list[int]]]:
    """(attribute names, file name -> values in {-1, 1}) from list_attr_celeba.txt.

    Layout: the number of images, the attribute names, then ``<image name> <value per attribute>`` per image.
    Anything else (a cut-off file whose row count differs from its first line, a row of the wrong length or
    with values other than -1 and 1) is named in a one-line ValueError.
    """
    lines = read_lines(path)
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise ValueError(f"{path} does not start with the number of images and a line of attribute names")
    names, rows = lines[1].split(), lines[2:]
    if int(lines[0]) != len(rows):
        raise ValueError(
            f"{path} has {len(rows)} image rows but its first line says {int(lines[0])}: the file is cut off"
        )
    values = {}
    for number, line in enumerate(rows, 3):
        row = line.split()
        if len(row) != len(names) + 1 or any(v not in ("-1", "1") for v in row[1:]):
            raise ValueError(
                f"{path} line {number}: expected an image name and {len(names)} values of -1 or 1, "
                f"got {line.strip()[:80]!r}"
            )
        values[row[0]] = [int(v) for v in row[1:]]
    return names, values


def attribute_labels(values: Tensor, columns: list[int]) -> Tensor:
    """One class per combination of the chosen binary attributes: sum_i [attribute i is 1] * 2^i.

    Args:
        values: (N, 40) attribute values in {-1, 1}.
        columns: indices of the chosen attributes, in order.
    """
    bits = (values[:, columns] == 1).long()
    return (bits * (2 ** torch.arange(len(columns)))).sum(1)


class CelebADataModule(ImageDataModule):
    """CelebA faces in [-1, 1]; batches are ``(images (B, 3, image_size, image_size), labels (B,))``.

    Labels are 0 without ``attributes``; with k attributes, the label is the integer whose bit i says whether
    attribute i is present (``num_classes = 2**k``), e.g. ``[Male, Smiling]``: 0 neither, 1 male, 2 smiling,
    3 both.

    Args:
        data_dir: folder of the layout above (or its parent, holding ``celeba/``); downloads go to
            ``data_dir/celeba``.
        split: official partition to train on (``train``, ``valid``, ``test``) or ``all`` images.
        attributes: attribute names of list_attr_celeba.txt (e.g. ``[Smiling]``) that become labels.
        image_size: side of the square images.
        crop_size: side of the center crop taken before resizing (178, DCGAN's usual choice).
        download: download with torchvision (from Google Drive; needs ``pip install gdown``) when files are
            missing.
        val_split: official partition served by ``val_dataloader`` and ``sample`` (``valid`` or ``test``), or
            None for no validation set.
        batch_size: images per batch (one critic step).
        num_workers: loader processes decoding JPEGs (one torch thread each); 0 decodes in the main process.
        strict: decode every image of the splits used at setup and refuse the first that cannot be read, naming
            it (minutes for the 202,599 files). By default an image that fails to decode during training is
            replaced by the next readable one with a warning naming it (the same in every run).
    """

    def __init__(
        self,
        data_dir: str = "data/celeba",
        split: Partition = "train",
        attributes: list[str] | None = None,
        image_size: int = 64,
        crop_size: int = 178,
        download: bool = True,
        val_split: Literal["valid", "test"] | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
        strict: bool = False,
    ) -> None:
        super().__init__()
        if split not in (*PARTITION_IDS, "all"):
            raise ValueError(f"data.split must be one of train, valid, test, all; got {split!r}")
        if val_split not in (None, "valid", "test") or (val_split is not None and val_split == split):
            raise ValueError(
                f"data.val_split must be valid, test or null and differ from data.split; got {val_split!r}"
            )
        if image_size < 1 or crop_size < 1:
            raise ValueError(
                f"data.image_size and data.crop_size must be positive, got {image_size}, {crop_size}"
            )
        self._check_loader_args(batch_size, num_workers)
        self.data_dir = local_data_dir(data_dir, "CelebADataModule")
        self.split, self.attributes = split, list(attributes or [])
        self.image_size, self.crop_size, self.download, self.val_split = (
            image_size,
            crop_size,
            download,
            val_split,
        )
        self.batch_size, self.num_workers, self.strict = batch_size, num_workers, strict
        self.data_shape = (3, image_size, image_size)
        self.num_classes = 2 ** len(self.attributes) if self.attributes else 0
        self._download_attempted = False
        self._download_error: str | None = None

    # ------------------------------------------------------------------ finding the files
    def root(self) -> Path:
        """The folder holding img_align_celeba/: data_dir/celeba (torchvision's layout) or data_dir itself."""
        for candidate in (self.data_dir / "celeba", self.data_dir):
            if (candidate / IMAGES_DIR).is_dir():
                return candidate
        return self.data_dir

    def missing(self) -> list[str]:
        """The files this configuration needs that are not there, with why they are needed."""
        root, missing = self.root(), []
        if not (root / IMAGES_DIR).is_dir():
            missing.append(f"{root / IMAGES_DIR}/ (the aligned JPEGs)")
        if (self.split != "all" or self.val_split) and not (root / PARTITION_FILE).is_file():
            missing.append(f"{root / PARTITION_FILE} (needed for data.split={self.split!r})")
        if self.attributes and not (root / ATTRIBUTE_FILE).is_file():
            missing.append(f"{root / ATTRIBUTE_FILE} (needed for data.attributes)")
        return missing

    def prepare_data(self) -> None:
        if not self.download or not self.missing():
            return
        from torchvision.datasets import CelebA

        self._download_attempted = True
        try:
            with remove_created_folders_on_error(self.data_dir, self.data_dir / "celeba"), socket_timeout():
                CelebA(str(self.data_dir), split="all", target_type=[], download=True)
        except (
            OSError,
            RuntimeError,
            ValueError,
        ) as error:  # network, gdown missing, Drive quota, bad checksum
            self._download_error = failure_reason(error)

    def _missing_message(self, missing: list[str]) -> str:
        if not self.download:
            attempt = "data.download is false"
        else:
            attempt = f"the download failed ({self._download_error or 'no files arrived'})"
        return (
            f"CelebA not found: missing {', '.join(missing)}, and {attempt}; put {IMAGES_DIR}/*.jpg, "
            f"{PARTITION_FILE} and {ATTRIBUTE_FILE} in {self.data_dir} (or {self.data_dir / 'celeba'}) "
            "or point --data.data_dir at the folder that holds them"
        )

    # ------------------------------------------------------------------ reading
    def _files_and_labels(self, root: Path) -> tuple[list[str], Tensor, Tensor | None]:
        """File names of all images (partition file order, else sorted), their labels and partition ids."""
        partitions = None
        if (root / PARTITION_FILE).is_file():
            ids = read_partitions(root / PARTITION_FILE)
            names, partitions = list(ids), torch.tensor(list(ids.values()))
        else:
            names = sorted(
                p.name for p in (root / IMAGES_DIR).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS
            )
        if not self.attributes:
            return names, torch.zeros(len(names), dtype=torch.long), partitions
        all_names, values = read_attributes(root / ATTRIBUTE_FILE)
        unknown = [a for a in self.attributes if a not in all_names]
        if unknown:
            raise ValueError(
                f"data.attributes: unknown {', '.join(unknown)}; allowed: {', '.join(all_names)}"
            )
        absent = [n for n in names if n not in values]
        if absent:
            raise ValueError(
                f"{root / ATTRIBUTE_FILE} has no row for {len(absent)} images (first: {absent[0]})"
            )
        table = torch.tensor([values[n] for n in names], dtype=torch.long).reshape(len(names), len(all_names))
        return names, attribute_labels(table, [all_names.index(a) for a in self.attributes]), partitions

    def _subset(
        self, root: Path, names: list[str], labels: Tensor, partitions: Tensor | None, partition: Partition
    ) -> ImageFiles:
        if partition == "all":
            keep = list(range(len(names)))
        else:
            keep = (partitions == PARTITION_IDS[partition]).nonzero().flatten().tolist()
        transform = partial(prepare_image, mode="RGB", image_size=self.image_size, crop_size=self.crop_size)
        paths = [root / IMAGES_DIR / names[i] for i in keep]
        if self.strict:
            for path in paths:
                if problem := image_problem(path, decode=True):
                    raise ValueError(f"image {path} cannot be read ({problem}); data.strict is true")
        return ImageFiles(paths, labels[keep], transform, strict=self.strict)

    def load(self) -> None:
        if (
            self.download and not self._download_attempted and self.missing()
        ):  # setup() without prepare_data()
            self.prepare_data()
        if missing := self.missing():
            raise FileNotFoundError(self._missing_message(missing))
        root = self.root()
        names, labels, partitions = self._files_and_labels(root)
        present = {p.name for p in (root / IMAGES_DIR).iterdir()}
        absent = [n for n in names if n not in present]
        if absent:
            raise FileNotFoundError(
                f"CelebA: {len(absent)} listed images are missing from {root / IMAGES_DIR} "
                f"(first: {absent[0]})"
            )
        self.train_set = self._subset(root, names, labels, partitions, self.split)
        self.val_set = (
            self._subset(root, names, labels, partitions, self.val_split) if self.val_split else None
        )
        if self.attributes:
            self.label_values = labels
            self.label_source = (
                f"data.attributes {self.attributes} ({2 ** len(self.attributes)} combinations)"
            )
