"""A checkpoint of `gan-lightning fit` rebuilds its model by itself: ``<Variant>.load_from_checkpoint(path)``
and ``gan_lightning.load_generator(path)``, with weights-only loading (the config is plain data in hparams)."""

from __future__ import annotations

from pathlib import Path

import lightning
import pytest
import torch
from torch.testing import assert_close

from gan_lightning import load_generator, load_module
from gan_lightning.cli import GANCLI
from gan_lightning.networks import MLPGenerator
from gan_lightning.variants import NSGAN
from tests.helpers import CONFIGS, cpu_trainer, fit_config, mlp_nets, ring_data, tiny_ring_config

TOY = tiny_ring_config(64, 32, max_steps=4)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    return fit_config(TOY, tmp_path_factory.mktemp("plain"), "--model.n_critic", "2")


@pytest.fixture(scope="module")
def ema_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    ema = str(CONFIGS / "trainer" / "ema.yaml")
    return fit_config(TOY, tmp_path_factory.mktemp("ema"), "--config", ema)


def saved_weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def test_fit_checkpoint_holds_the_config_as_plain_data(checkpoint: Path) -> None:
    hparams = torch.load(checkpoint, map_location="cpu", weights_only=True)["hyper_parameters"]
    assert hparams["_class_path"] == "gan_lightning.variants.NSGAN"
    assert hparams["generator"] == {
        "class_path": "gan_lightning.networks.MLPGenerator",
        "init_args": {"latent_dim": 2, "hidden_dim": 16, "depth": 3, "out_dim": 2},
    }
    assert hparams["n_critic"] == 2


def test_variant_load_from_checkpoint_gives_the_saved_weights(checkpoint: Path) -> None:
    module = NSGAN.load_from_checkpoint(checkpoint)
    steps = torch.load(checkpoint, map_location="cpu", weights_only=True)["gan_steps"]
    assert type(module) is NSGAN and module.n_critic == 2 and module.generator_steps == steps["generator"] > 0
    saved = saved_weights(checkpoint)
    assert set(module.state_dict()) == set(saved)
    for key, value in module.state_dict().items():
        assert_close(value, saved[key], rtol=0, atol=0, msg=key)


def test_load_generator_samples_as_the_module_does(checkpoint: Path) -> None:
    generator = load_generator(checkpoint)
    module = NSGAN.load_from_checkpoint(checkpoint)
    assert isinstance(generator, MLPGenerator) and not generator.training
    assert not any(p.requires_grad for p in generator.parameters())
    z = torch.randn(16, generator.latent_dim)
    assert_close(generator(z), module.generate(16, z=z), rtol=0, atol=0)
    assert module.ema_generator is None


def test_load_generator_returns_the_ema_weights_when_the_checkpoint_has_them(ema_checkpoint: Path) -> None:
    saved = saved_weights(ema_checkpoint)
    assert any(key.startswith("ema_generator.") for key in saved)
    generator = load_generator(ema_checkpoint)
    for key, value in generator.state_dict().items():
        assert_close(value, saved[f"ema_generator.{key}"], rtol=0, atol=0, msg=key)
    assert any(
        not torch.equal(saved[f"ema_generator.{k}"], saved[f"generator.{k}"]) for k in generator.state_dict()
    )
    module = NSGAN.load_from_checkpoint(ema_checkpoint)
    z = torch.randn(8, 2)
    assert module.ema_generator is not None
    assert_close(generator(z), module.generate(8, z=z), rtol=0, atol=0)


def test_checkpoint_without_a_config_of_its_own_is_rebuilt_from_the_run_config(
    checkpoint: Path, tmp_path: Path
) -> None:
    """Checkpoints written before the hparams were saved: the run's config.yaml rebuilds the model."""
    old = torch.load(checkpoint, map_location="cpu", weights_only=True)
    del old["hyper_parameters"]
    path = checkpoint.with_name("old.ckpt")
    torch.save(old, path)
    z = torch.randn(8, 2)
    assert_close(load_generator(path)(z), load_generator(checkpoint)(z), rtol=0, atol=0)
    path.unlink()
    old_elsewhere = tmp_path / "run" / "checkpoints" / "old.ckpt"
    old_elsewhere.parent.mkdir(parents=True)
    torch.save(old, old_elsewhere)
    with pytest.raises(FileNotFoundError, match="config"):
        load_generator(old_elsewhere)


def test_load_module_names_an_unknown_variant(checkpoint: Path, tmp_path: Path) -> None:
    foreign = torch.load(checkpoint, map_location="cpu", weights_only=True)
    foreign["hyper_parameters"]["_class_path"] = "somewhere.else.MyGAN"
    torch.save(foreign, tmp_path / "foreign.ckpt")
    with pytest.raises(ValueError, match="somewhere.else.MyGAN"):
        load_module(tmp_path / "foreign.ckpt")


def test_module_built_in_python_keeps_plain_hparams_and_loads_weights_only(tmp_path: Path) -> None:
    model = NSGAN(*mlp_nets(seed=0), n_critic=2, real_label=0.9)
    assert dict(model.hparams) == {
        "g_optimizer": None,
        "d_optimizer": None,
        "g_scheduler": None,
        "d_scheduler": None,
        "scheduler_interval": "epoch",
        "n_critic": 2,
        "num_samples": 64,
        "techniques": None,
        "on_nonfinite": "raise",
        "max_nonfinite_steps": 10,
        "nonfinite_check": "auto",
        "compile": False,
        "real_label": 0.9,
    }  # no modules: they would be pickled into the checkpoint
    trainer = cpu_trainer(max_steps=2)
    trainer.fit(model, ring_data(num_samples=64, batch_size=32))
    trainer.save_checkpoint(tmp_path / "python.ckpt")
    loaded = NSGAN.load_from_checkpoint(
        tmp_path / "python.ckpt", generator=mlp_nets()[0], discriminator=mlp_nets()[1]
    )
    assert loaded.n_critic == 2 and loaded.real_label == 0.9
    assert_close(loaded.generator.state_dict(), model.generator.state_dict())


@pytest.mark.parametrize(
    "config", ["toy/best_ring.yaml", "toy/improved_ring.yaml", "mnist/cgan_nsgan.yaml"], ids=str
)
def test_configs_with_schedulers_techniques_and_labels_rebuild_from_their_hparams(
    config: str, tmp_path: Path
) -> None:
    cli = GANCLI(args=["--config", str(CONFIGS / config), "--trainer.logger", "false"], run=False)
    path = tmp_path / "model.ckpt"
    torch.save(
        {
            "state_dict": cli.model.state_dict(),
            "hyper_parameters": dict(cli.model.hparams),
            "pytorch-lightning_version": lightning.__version__,
        },
        path,
    )
    loaded = type(cli.model).load_from_checkpoint(path, weights_only=True)
    assert dict(loaded.hparams).items() <= dict(cli.model.hparams).items()
    for key, value in cli.model.state_dict().items():
        assert_close(loaded.state_dict()[key], value, rtol=0, atol=0, msg=key)
    assert [type(t) for t in loaded.techniques] == [type(t) for t in cli.model.techniques]
    (optimizers, schedulers), (saved_optimizers, saved_schedulers) = (
        loaded.configure_optimizers(),
        cli.model.configure_optimizers(),
    )
    assert [o.defaults for o in optimizers] == [o.defaults for o in saved_optimizers]
    assert [type(s) for s in schedulers] == [type(s) for s in saved_schedulers]
