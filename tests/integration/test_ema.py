"""Generator EMA in training: the exact update, checkpoints, sampling from the average, and no optimiser
touches it (its arguments: tests/unit/test_ema.py)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from torch.testing import assert_close

from gan_lightning.callbacks import GeneratorEMA
from gan_lightning.data.toy import ToyDataModule
from gan_lightning.networks import MLPDiscriminator, MLPGenerator
from gan_lightning.variants import NSGAN
from tests.helpers import mlp_nets, quiet_trainer, ring_data


def nets() -> tuple[MLPGenerator, MLPDiscriminator]:
    return mlp_nets(8, 1, seed=0)


def trainer(steps: int, root: Path, decay: float = 0.9, **kwargs: object) -> L.Trainer:
    return quiet_trainer(
        max_steps=steps, default_root_dir=root, callbacks=[GeneratorEMA(decay=decay)], **kwargs
    )


def data() -> ToyDataModule:
    return ring_data(num_samples=64, batch_size=16)


def test_one_generator_step_averages_exactly(tmp_path: Path) -> None:
    module = NSGAN(*nets())
    before = [p.detach().clone() for p in module.generator.parameters()]
    trainer(2, tmp_path).fit(module, data())  # one critic step, one generator step
    assert module.generator_steps == 1
    after = list(module.generator.parameters())
    for average, old, new in zip(module.ema_generator.parameters(), before, after, strict=True):
        assert not torch.equal(old, new)
        assert_close(average, 0.9 * old + 0.1 * new, rtol=0, atol=1e-7)


def test_the_average_is_not_trained_and_not_an_optimiser_parameter(tmp_path: Path) -> None:
    module = NSGAN(*nets())
    trainer(6, tmp_path).fit(module, data())
    g_opt, d_opt = module.optimizers()
    stepped = {id(p) for opt in (g_opt, d_opt) for group in opt.param_groups for p in group["params"]}
    assert all(not p.requires_grad and id(p) not in stepped for p in module.ema_generator.parameters())


def test_sampling_uses_the_average(tmp_path: Path) -> None:
    module = NSGAN(*nets())
    trainer(6, tmp_path).fit(module, data())
    z = torch.randn(5, 2)
    assert module.sampling_generator() is module.ema_generator
    assert_close(module.generate(5, z=z), module.ema_generator(z))
    assert not torch.allclose(module.generate(5, z=z), module.generator(z))


def test_the_average_survives_a_checkpoint(tmp_path: Path) -> None:
    module = NSGAN(*nets())
    fit = trainer(6, tmp_path)
    fit.fit(module, data())
    path = tmp_path / "ema.ckpt"
    fit.save_checkpoint(path)
    saved = {k: v.clone() for k, v in module.ema_generator.state_dict().items()}

    # Evaluation: loading without the callback restores the average, and samples come from it.
    restored = NSGAN.load_from_checkpoint(path, generator=nets()[0], discriminator=nets()[1])
    for key, value in saved.items():
        assert_close(restored.ema_generator.state_dict()[key], value)
    assert restored.sampling_generator() is restored.ema_generator

    # Resume: training goes on from the saved average, not from a fresh copy of the generator.
    resumed = NSGAN(*nets())
    ema_before_resume: dict[str, torch.Tensor] = {}

    class Peek(L.Callback):
        def on_train_start(self, trainer: L.Trainer, pl_module: NSGAN) -> None:
            ema_before_resume.update({k: v.clone() for k, v in pl_module.ema_generator.state_dict().items()})

    quiet_trainer(max_steps=10, default_root_dir=tmp_path, callbacks=[GeneratorEMA(decay=0.9), Peek()]).fit(
        resumed, data(), ckpt_path=path
    )
    for key, value in saved.items():
        assert_close(ema_before_resume[key], value)
    assert resumed.generator_steps == 5
