"""`gan-lightning export` (safetensors, TorchScript, ONNX) and the Hugging Face Hub round trip of a generator.

The checkpoints are untrained models written by hand as `fit` writes them (the config in hparams), with EMA
weights that differ from the generator's: every export must give the EMA generator's samples in eval mode.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch.testing import assert_close

from gan_lightning import load_generator
from gan_lightning.cli import main
from gan_lightning.hub import HubGenerator
from gan_lightning.loading import SAFETENSORS_KEY, build_generator
from gan_lightning.variants import NSGAN
from tests.helpers import conditional_dcgan

MLP = {
    "generator": {
        "class_path": "gan_lightning.networks.MLPGenerator",
        "init_args": {"latent_dim": 2, "hidden_dim": 8, "depth": 2, "out_dim": 2},
    },
    "discriminator": {
        "class_path": "gan_lightning.networks.MLPDiscriminator",
        "init_args": {"hidden_dim": 8},
    },
}
# Conditional, with BatchNorm: eval mode matters (running statistics) and so do the labels.
CONDITIONAL_DCGAN = conditional_dcgan(num_classes=3, latent_dim=4, width=4)
MODELS = {"mlp": MLP, "conditional_dcgan": CONDITIONAL_DCGAN}


def build_module(networks: dict) -> NSGAN:
    """NSGAN on ``networks`` (seeded) with an EMA generator whose weights and BatchNorm statistics differ."""
    torch.manual_seed(0)
    module = NSGAN(**{role: build_generator(**spec) for role, spec in networks.items()})
    module.ema_generator = copy.deepcopy(module.generator).requires_grad_(False)
    with torch.no_grad():
        for value in module.ema_generator.state_dict().values():
            if value.is_floating_point():
                value.add_(0.1 * torch.rand_like(value))  # >= 0: BatchNorm variances stay positive
    return module.eval()


def write_checkpoint(module: NSGAN, networks: dict, folder: Path, hparams: bool = True) -> Path:
    """``folder/checkpoints/last.ckpt`` of ``module``, holding the config in hparams as `fit` writes it."""
    path = folder / "checkpoints" / "last.ckpt"
    path.parent.mkdir(parents=True)
    config = {"_class_path": "gan_lightning.variants.NSGAN", **networks}
    torch.save({"state_dict": module.state_dict(), **({"hyper_parameters": config} if hparams else {})}, path)
    return path


def fixed_inputs(module: NSGAN, n: int = 5) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Seeded z and (conditional) labels; n differs from the traced batch of 2, so the batch axis must be free."""
    z = torch.randn(n, module.generator.latent_dim, generator=torch.Generator().manual_seed(1))
    return z, (torch.arange(n) % module.num_classes if module.num_classes else None)


@pytest.fixture(params=list(MODELS), ids=list(MODELS))
def model(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[NSGAN, Path, dict]:
    networks = MODELS[request.param]
    module = build_module(networks)
    return module, write_checkpoint(module, networks, tmp_path / "run"), networks


def run_export(ckpt: Path, fmt: str, out: Path) -> Path:
    main(["export", "--ckpt_path", str(ckpt), "--format", fmt, "--out", str(out)])
    assert out.is_file()
    return out


def expected_samples(module: NSGAN, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """The EMA generator's samples in eval mode; checked to differ from the plain generator's."""
    samples = module.generate(len(z), labels=labels, z=z)
    plain = module.generator.eval()(z, labels) if labels is not None else module.generator.eval()(z)
    assert not torch.allclose(samples, plain)
    return samples


def test_safetensors_export_rebuilds_the_ema_generator_from_the_file_alone(model, tmp_path: Path) -> None:
    module, ckpt, networks = model
    out = run_export(ckpt, "safetensors", tmp_path / "G.safetensors")
    from safetensors import safe_open

    with safe_open(str(out), framework="pt") as file:
        assert json.loads(file.metadata()[SAFETENSORS_KEY]) == networks["generator"]
    generator = load_generator(out)
    z, labels = fixed_inputs(module)
    got = generator(z, labels) if labels is not None else generator(z)
    assert not generator.training
    assert_close(got, expected_samples(module, z, labels))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_export_samples_as_the_ema_generator(model, tmp_path: Path) -> None:
    module, ckpt, _ = model
    scripted = torch.jit.load(str(run_export(ckpt, "torchscript", tmp_path / "G.pt")))
    z, labels = fixed_inputs(module)
    got = scripted(z, labels) if labels is not None else scripted(z)
    assert_close(got, expected_samples(module, z, labels))


def test_onnx_export_has_a_dynamic_batch_and_samples_as_the_ema_generator(model, tmp_path: Path) -> None:
    import onnx
    import onnxruntime

    module, ckpt, _ = model
    out = run_export(ckpt, "onnx", tmp_path / "onnx" / "G.onnx")
    onnx.checker.check_model(onnx.load(str(out)))
    assert list(out.parent.iterdir()) == [out]  # the weights are inside, no G.onnx.data beside it
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    z, labels = fixed_inputs(module)
    feeds = {"z": z.numpy()} | ({"labels": labels.numpy()} if labels is not None else {})
    assert [i.name for i in session.get_inputs()] == list(feeds)
    (got,) = session.run(["samples"], feeds)
    assert_close(torch.from_numpy(np.asarray(got)), expected_samples(module, z, labels), rtol=1e-4, atol=1e-5)


def test_export_without_hparams_takes_the_generator_from_the_run_config(tmp_path: Path) -> None:
    module = build_module(MLP)
    ckpt = write_checkpoint(module, MLP, tmp_path / "run", hparams=False)
    model = {"class_path": "gan_lightning.variants.NSGAN", "init_args": MLP}
    data = {
        "class_path": "gan_lightning.data.ToyDataModule",
        "init_args": {"num_samples": 64, "batch_size": 32},
    }
    (tmp_path / "run" / "config.yaml").write_text(yaml.safe_dump({"model": model, "data": data}))
    generator = load_generator(run_export(ckpt, "safetensors", tmp_path / "G.safetensors"))
    z, _ = fixed_inputs(module)
    assert_close(generator(z), expected_samples(module, z, None))


def test_hub_save_pretrained_and_from_pretrained_round_trip(model, tmp_path: Path) -> None:
    module, ckpt, networks = model
    HubGenerator.from_checkpoint(ckpt).save_pretrained(tmp_path / "hub")
    assert json.loads((tmp_path / "hub" / "config.json").read_text()) == networks["generator"]
    loaded = HubGenerator.from_pretrained(tmp_path / "hub")
    z, labels = fixed_inputs(module)
    assert not loaded.training and loaded.latent_dim == module.generator.latent_dim
    assert_close(loaded(z, labels), expected_samples(module, z, labels))
    # Its weights file is the export's: load_generator reads it too.
    generator = load_generator(tmp_path / "hub" / "model.safetensors")
    assert_close(loaded.generator.state_dict(), generator.state_dict())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "pickle"], ["--format", "safetensors, torchscript, onnx", "'pickle'"]),
        (["--format", "onnx", "--ckpt_path", "{folder}/none.ckpt"], ["ckpt_path", "none.ckpt"]),
    ],
    ids=["unknown format", "missing checkpoint"],
)
def test_export_errors_are_one_line(
    args: list[str], expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = write_checkpoint(build_module(MLP), MLP, tmp_path / "run")
    args = ["export", "--ckpt_path", str(ckpt), *[a.format(folder=tmp_path) for a in args]]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gan-lightning: error: "), lines
    for part in expected:
        assert part in lines[0]


def test_safetensors_without_the_generator_config_is_refused_naming_the_file(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"weight": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match=r"plain\.safetensors.*has no gan_lightning\.generator metadata"):
        load_generator(path)
