"""Bad input through the command line: one line that names the key (or file) and what is allowed, exit code 2,
no traceback unless --debug (or GAN_LIGHTNING_DEBUG=1) asks for one, and the files saved before (checkpoints,
data files) unchanged. The data files are damaged on purpose (tests/unit/test_data_checks.py checks the same
errors one by one)."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image

import gan_lightning.variants as variants
from gan_lightning.cli import main, one_line
from tests.helpers import (
    CONFIGS,
    MNIST_CONFIG,
    RING_CONFIG,
    mlp_nets,
    quiet_trainer,
    ring_data,
    tiny_digits,
    write_idx,
    write_tiny_celeba,
)

RING = str(RING_CONFIG)
MNIST = str(MNIST_CONFIG)
FIT = ["fit", "--config", RING, "--trainer.max_steps", "1", "--trainer.logger", "false"]
QUIET = ["--trainer.max_steps", "1", "--trainer.logger", "false"]
# MNIST from a folder of the fixture (the path follows): nothing is downloaded
MNIST_FROM = ["fit", "--config", MNIST, *QUIET, "--data.download", "false", "--data.data_dir"]
IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"


def saved_checkpoint(model: L.LightningModule, path: Path) -> str:
    trainer = quiet_trainer(max_steps=1)
    trainer.fit(model, datamodule=ring_data(num_samples=64, batch_size=32))
    trainer.save_checkpoint(path)
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("bad_input")
    (folder / "bad.yaml").write_text("model: [\n  unclosed")
    (folder / "random.ckpt").write_bytes(b"\x00not a checkpoint" * 64)
    torch.save({"weights": torch.zeros(3)}, folder / "foreign.ckpt")
    ring = mlp_nets(256, 3)  # the networks of configs/toy/wgan_gp_ring.yaml
    nsgan = saved_checkpoint(variants.NSGAN(*ring), folder / "nsgan.ckpt")
    small = saved_checkpoint(variants.WGANGP(*mlp_nets(16, 3)), folder / "small.ckpt")
    ring_ckpt = saved_checkpoint(variants.WGANGP(*mlp_nets(256, 3)), folder / "ring.ckpt")  # fits RING
    data = Path(nsgan).read_bytes()
    (folder / "truncated.ckpt").write_bytes(data[: len(data) // 2])
    write_damaged_data(folder)
    names = ("bad.yaml", "random.ckpt", "foreign.ckpt", "truncated.ckpt")
    return {
        "nsgan": nsgan,
        "small": small,
        "ring": ring_ckpt,
        "folder": str(folder),
        **{n.split(".")[0]: str(folder / n) for n in names},
    }


def write_damaged_data(folder: Path) -> None:
    """MNIST folders with one fault each, a folder with a fake JPEG, CelebA with garbled list files."""
    images, labels = tiny_digits(64)

    def mnist(name: str, images_bytes: bytes | None, labels_array: np.ndarray | None = labels) -> None:
        (folder / name).mkdir()
        if images_bytes is not None:
            (folder / name / f"{IMAGES}.gz").write_bytes(images_bytes)
        if labels_array is not None:
            write_idx(folder / name / f"{LABELS}.gz", labels_array)

    good = write_idx(folder / "images.idx", images).read_bytes()
    packed = gzip.compress(good)
    corrupt = bytearray(packed)
    corrupt[20:40] = bytes(20)
    mnist("mnist_truncated_gz", packed[: len(packed) // 2])
    mnist("mnist_corrupt_gz", bytes(corrupt))
    mnist("mnist_wrong_magic", gzip.compress(b"\x00\x00\x0c\x03" + good[4:]))  # 0x0c: float values
    mnist("mnist_short", gzip.compress(good[:-100]))  # the header promises 100 bytes more
    mnist("mnist_count", packed, labels[:60])
    mnist("mnist_no_labels", packed, None)
    out_of_range = labels.copy()
    out_of_range[5] = 200
    mnist("mnist_label_200", packed, out_of_range)

    (folder / "fake_jpg").mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(folder / "fake_jpg" / f"{i}.png")
    (folder / "fake_jpg" / "fake.jpg").write_text("a text file named .jpg")

    root = write_tiny_celeba(folder / "celeba_partition", n=3, size=(40, 50))
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg train\n000003.jpg 2\n")
    root = write_tiny_celeba(folder / "celeba_attributes", n=3, size=(40, 50))
    lines = (root / "list_attr_celeba.txt").read_text().splitlines()
    (root / "list_attr_celeba.txt").write_text("\n".join(lines[:-1]) + "\n")  # cut off: 2 rows of 3


def saved_files(folder: str) -> dict[str, str]:
    """path -> sha256 of every file under the fixture's folder."""
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def saved_before(files: dict[str, str]) -> dict[str, str]:
    return saved_files(files["folder"])


# (case, arguments after `fit --config RING ...` or a whole command line, substrings the error line must hold)
CASES = [
    ("invalid YAML", ["fit", "--config", "{bad}"], ["bad.yaml", "not valid YAML", "line 2"]),
    ("missing config file", ["fit", "--config", "{folder}/none.yaml"], ["config", "none.yaml", "not exist"]),
    (
        "unknown variant",
        ["--model.class_path", "gan_lightning.variants.Nope"],
        ["model.class_path", "Nope", "known:", "WGANGP"],
    ),
    ("unknown short class name", ["--model.class_path", "Nope"], ["model.class_path", "'Nope'", "NSGAN"]),
    (
        "unknown network",
        ["--model.generator.class_path", "gan_lightning.networks.Nope"],
        ["model.generator.class_path", "known:", "MLPGenerator"],
    ),
    ("unknown data module", ["--data.class_path", "Nope"], ["data.class_path", "ToyDataModule"]),
    ("wrong type", ["--model.n_critic", "abc"], ["model.n_critic", "expected int", "'abc'"]),
    ("n_critic 0", ["--model.n_critic", "0"], ["model.n_critic", "positive integer", "got 0"]),
    (
        "misspelt option",
        ["--model.gp_weightt", "3"],
        ["model.gp_weightt", "not an option of WGANGP", "--model.help"],
    ),
    ("unknown toy dataset", ["--data.dataset", "rings"], ["data.dataset", "one of ring, grid", "'rings'"]),
    ("batch size 0", ["--data.batch_size", "0"], ["data.batch_size", "positive integer", "got 0"]),
    (
        "negative learning rate",
        ["--model.g_optimizer.init_args.lr", "-0.1"],
        ["model.g_optimizer", "learning rate", "-0.1", ">= 0"],
    ),
    (
        "bad on_nonfinite",
        ["--model.on_nonfinite", "ignore"],
        ["model.on_nonfinite", "raise, skip", "'ignore'"],
    ),
    ("trainer type", ["--trainer.max_epochs", "many"], ["trainer.max_epochs", "expected int", "'many'"]),
    ("unknown trainer flag", ["--trainer.max_stepz", "3"], ["unrecognized arguments", "--trainer.max_stepz"]),
    ("bad precision", ["--trainer.precision", "17"], ["trainer.precision", "bf16-mixed", "'17'"]),
    ("unknown subcommand", ["fitt"], ["unknown command", "'fitt'", "did you mean fit?"]),
    (
        "image size a DCGAN cannot make",
        ["fit", "--config", MNIST, "--model.generator.init_args.image_size", "48"],
        ["image_size", "power of two", "48"],
    ),
    (
        "generator output differs from the data",
        ["--model.generator.init_args.out_dim", "3"],
        ["model.generator", "shape (3,)", "(2,)"],
    ),
    (
        "data folder that does not exist",
        ["--data.class_path", "ImageFolderDataModule", "--data.data_dir", "{folder}/no_such_folder"],
        ["no_such_folder"],
    ),
    (
        "unknown f-divergence",
        ["--model.class_path", "gan_lightning.variants.fgan.FGAN", "--model.divergence", "kll"],
        ["model.divergence", "kl, reverse_kl", "'kll'"],
    ),
    ("checkpoint missing", ["--ckpt_path", "{folder}/none.ckpt"], ["ckpt_path", "none.ckpt"]),
    ("checkpoint of random bytes", ["--ckpt_path", "{random}"], ["random.ckpt", "not a readable checkpoint"]),
    ("truncated checkpoint", ["--ckpt_path", "{truncated}"], ["truncated.ckpt", "not a readable checkpoint"]),
    ("foreign checkpoint", ["--ckpt_path", "{foreign}"], ["foreign.ckpt", "not a Lightning checkpoint"]),
    ("checkpoint of another variant", ["--ckpt_path", "{nsgan}"], ["nsgan.ckpt", "NSGAN", "builds WGANGP"]),
    (
        "checkpoint of other networks",
        ["--ckpt_path", "{small}"],
        ["small.ckpt", "generator.net.0.weight", "(16, 2)", "(256, 2)"],
    ),
    (
        "learning rate nan",
        ["--model.g_optimizer.init_args.lr", "nan"],
        ["model.g_optimizer.init_args.lr", "learning rate must be a finite positive number", "'nan'"],
    ),
    (
        "unknown optimizer class",
        ["--model.g_optimizer", "torch.optim.Adamm"],
        ["model.g_optimizer", "'torch.optim.Adamm'", "known: torch.optim.", "torch.optim.Adam,", "SGD"],
    ),
    (
        "DCGAN image size 0",
        ["fit", "--config", MNIST, "--model.generator.init_args.image_size", "0"],
        ["image_size", "power of two >= 8", "got 0"],
    ),
    ("negative gp_weight", ["--model.gp_weight", "-1"], ["model.gp_weight must be >= 0", "-1"]),
    (
        "negative gp_weight of WGANOneSided",
        ["--model.class_path", "WGANOneSided", "--model.gp_weight", "-0.5"],
        ["model.gp_weight must be >= 0", "-0.5"],
    ),
    (
        "negative dragan_weight",
        ["--model.class_path", "DRAGAN", "--model.dragan_weight", "-2"],
        ["model.dragan_weight must be >= 0", "-2"],
    ),
    (
        "negative clip_value",
        ["--model.class_path", "WGAN", "--model.clip_value", "-0.01"],
        ["model.clip_value", "positive", "-0.01"],
    ),
    (
        "sample: checkpoint of other networks than the config's",
        ["sample", "--ckpt_path", "{small}", "--config", RING, "--out", "{folder}/never.png"],
        ["small.ckpt", "generator.net.0.weight", "(16, 2)", "(256, 2)"],
    ),
    (
        "evaluate: report that cannot be written",
        ["evaluate", "--ckpt_path", "{ring}", "--config", RING, "--num_generated", "64", "--quiet"]
        + ["--out", "{random}/metrics"],  # under a file: no folder can be made there, even by root
        ["could not write the report", "random.ckpt/metrics.json", "printed above"],
    ),
    # ---------------------------------------------------------------------------------- damaged data files
    (
        "MNIST: truncated .gz",
        [*MNIST_FROM, "{folder}/mnist_truncated_gz"],
        [f"mnist_truncated_gz/{IMAGES}.gz is a damaged gzip file", "end-of-stream marker"],
    ),
    (
        "MNIST: corrupt .gz",
        [*MNIST_FROM, "{folder}/mnist_corrupt_gz"],
        [f"mnist_corrupt_gz/{IMAGES}.gz is a damaged gzip file", "complete copy"],
    ),
    (
        "MNIST: wrong magic number",
        [*MNIST_FROM, "{folder}/mnist_wrong_magic"],
        [f"mnist_wrong_magic/{IMAGES}.gz is not an IDX file", "0x00000c03", "expected 0x00000801"],
    ),
    (
        "MNIST: header sizes larger than the file",
        [*MNIST_FROM, "{folder}/mnist_short"],
        [f"mnist_short/{IMAGES}.gz holds 50076 values but its header promises 50176", "64 x 28 x 28"],
    ),
    (
        "MNIST: images and labels of different counts",
        [*MNIST_FROM, "{folder}/mnist_count"],
        [f"{IMAGES}.gz holds 64 images but", f"mnist_count/{LABELS}.gz holds 60 labels"],
    ),
    (
        "MNIST: only the labels file missing",
        ["fit", "--config", MNIST, *QUIET, "--data.data_dir", "{folder}/mnist_no_labels"],  # download: true
        [
            f"MNIST train split incomplete: no {LABELS}[.gz] in",
            f"(found {{folder}}/mnist_no_labels/{IMAGES}.gz)",
            "nothing is downloaded into a folder that already holds MNIST files",
        ],
    ),
    (
        "conditional MNIST: label 200 of 10 classes",
        ["fit", "--config", str(CONFIGS / "mnist" / "cgan_nsgan.yaml"), *QUIET, "--data.download", "false"]
        + ["--data.data_dir", "{folder}/mnist_label_200"],
        [f"mnist_label_200/{LABELS}.gz holds label 200, outside 0..9", "num_classes 10"],
    ),
    (
        "conditional toy: 25 modes for 8 classes",
        ["fit", "--config", str(CONFIGS / "toy" / "cgan_ring.yaml"), *QUIET, "--data.dataset", "grid"],
        ["data.dataset 'grid' (25 modes) holds label 24, outside 0..7", "num_classes 8"],
    ),
    (
        "image folder: fake JPEG with strict",
        ["--data.class_path", "ImageFolderDataModule", "--data.data_dir", "{folder}/fake_jpg"]
        + ["--data.strict", "true", "--data.batch_size", "2"],
        [
            "image {folder}/fake_jpg/fake.jpg cannot be read",
            "cannot identify image file",
            "data.strict is true",
        ],
    ),
    (
        "CelebA: garbled partition file",
        ["--data.class_path", "CelebADataModule", "--data.data_dir", "{folder}/celeba_partition"]
        + ["--data.download", "false", "--data.batch_size", "1"],
        ["celeba_partition/list_eval_partition.txt line 2", "'000002.jpg train'"],
    ),
    (
        "CelebA: attribute file cut off",
        ["--data.class_path", "CelebADataModule", "--data.data_dir", "{folder}/celeba_attributes"]
        + ["--data.download", "false", "--data.batch_size", "1", "--data.attributes", "[Male]"],
        ["celeba_attributes/list_attr_celeba.txt has 2 image rows but its first line says 3", "cut off"],
    ),
    # ---------------------------------------------------------------------------------- preflight
    (
        "unwritable output folder",
        ["--trainer.default_root_dir", "{random}/run"],  # under a file: no folder can be made there
        ["the run folder '{random}/run' is not writable", "Not a directory", "before training"],
    ),
    (
        "unwritable checkpoint folder",
        ["--trainer.callbacks+=ModelCheckpoint", "--trainer.callbacks.dirpath", "{random}/checkpoints"],
        ["the checkpoint folder '{random}/checkpoints' is not writable", "Not a directory"],
    ),
    (
        "negative preflight threshold",
        ["--preflight.min_free_checkpoints", "-1"],
        ["preflight.min_free_checkpoints must be >= 0", "-1"],
    ),
]

# Substrings the error line must not hold (it would claim what is not so).
ABSENT = {
    "MNIST: only the labels file missing": [f"{IMAGES}[.gz]", "download failed", "data.download is false"],
}


def command(args: list[str], files: dict[str, str]) -> list[str]:
    args = [a.format(**files) for a in args]
    return args if args[0] in ("fit", "fitt", "sample", "evaluate") else [*FIT, *args]


@pytest.mark.parametrize(("case", "args", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_naming_the_key_and_exit_code_2(
    case: str,
    args: list[str],
    expected: list[str],
    files: dict[str, str],
    saved_before: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    if "fgan" in " ".join(args):
        pytest.importorskip(
            "gan_lightning.variants.fgan"
        )  # written beside this test; skipped until it exists
    with pytest.raises(SystemExit) as exit_info:
        main(command(args, files))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("gan-lightning: error: ") and lines[0].endswith(
        "(run with --debug for the traceback)"
    )
    for part in expected:
        part = part.format(**files)
        assert part in lines[0], f"{case}: {part!r} missing from {lines[0]!r}"
    for part in ABSENT.get(case, []):
        assert part not in lines[0], f"{case}: {part!r} should not be in {lines[0]!r}"
    assert saved_files(files["folder"]) == saved_before  # nothing saved before was changed, added or removed


def test_debug_flag_and_environment_variable_give_the_traceback(
    monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="model.n_critic must be a positive integer"):
        main([*FIT, "--model.n_critic", "0", "--debug"])
    monkeypatch.setenv("GAN_LIGHTNING_DEBUG", "1")
    with pytest.raises(ValueError, match="random.ckpt"):
        main([*FIT, "--ckpt_path", files["random"]])


def test_one_line_joins_nested_keys_and_keeps_the_innermost_problem() -> None:
    nested = (
        'Parser key "data":\n  Does not validate against any of the Union subtypes\n'
        "  Subtypes: [...]\n  Errors:\n"
        "    - Problem with given class_path 'gan_lightning.data.ToyDataModule':\n"
        "        Parser key \"num_samples\":\n          Expected a <class 'int'>. Got value: lots\n"
        "    - Expected a <class 'NoneType'>\n  Given value type: <class 'str'>\n  Given value: lots"
    )
    assert one_line(ValueError(nested)) == "data.num_samples: expected int, got 'lots'"
    assert one_line(ValueError("model.n_critic must be >= 1\nsecond line")) == "model.n_critic must be >= 1"
    assert one_line(RuntimeError()) == "RuntimeError"
