"""``model.compile: true``: the same training as eager, the same checkpoints, and penalties that stay eager.

torch.compile costs seconds per network on the CPU, so the runs that compile are marked ``slow``; the penalty
tests are fast because their critic calls run eager (no graph is compiled).
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from torch.testing import assert_close

from gan_lightning.callbacks import GeneratorEMA
from gan_lightning.cli import GANCLI
from gan_lightning.penalties import dragan_penalty, gradient_penalty, zero_centered_gradient_penalty
from gan_lightning.variants import NSGAN, WGANGP
from tests.helpers import RING_CONFIG, mlp_nets, quiet_trainer, ring_data


def train(variant: type, compile: bool, root: Path) -> tuple[L.LightningModule, Path]:
    """6 optimiser steps (n_critic 2: 4 critic and 2 generator steps) on the ring from seed 0, with EMA."""
    L.seed_everything(0, verbose=False)
    model = variant(*mlp_nets(8, 1, seed=0), n_critic=2, compile=compile)
    trainer = quiet_trainer(
        max_steps=6, accelerator="cpu", devices=1, default_root_dir=root, callbacks=[GeneratorEMA(decay=0.9)]
    )
    trainer.fit(model, ring_data(num_samples=64, batch_size=16))
    path = root / "last.ckpt"
    trainer.save_checkpoint(path)
    return model, path


@pytest.mark.slow  # compiles 4 graphs: about 20 s on a loaded 2-core CPU
@pytest.mark.parametrize("variant", [NSGAN, WGANGP])
def test_compiled_training_matches_eager_and_checkpoints_load_either_way(
    variant: type, tmp_path: Path
) -> None:
    eager, eager_ckpt = train(variant, False, tmp_path / "eager")
    compiled, compiled_ckpt = train(variant, True, tmp_path / "compiled")
    assert compiled.discriminator._compiled_call_impl is not None  # it really ran compiled
    assert compiled.ema_generator._compiled_call_impl is None  # the EMA copy (deep copy) runs eager

    assert eager.latest_terms.keys() == compiled.latest_terms.keys()
    for key, value in eager.latest_terms.items():
        assert_close(compiled.latest_terms[key], value, atol=1e-5, rtol=1e-5, msg=key)
    eager_state, compiled_state = eager.state_dict(), compiled.state_dict()
    assert list(compiled_state) == list(eager_state)  # no `_orig_mod.` prefix
    for key, value in eager_state.items():
        assert_close(compiled_state[key], value, atol=1e-5, rtol=1e-5, msg=key)

    # A compiled run's checkpoint loads into an eager module and an eager run's into a compiled one.
    nets = dict(zip(("generator", "discriminator"), mlp_nets(8, 1), strict=True))
    loaded = variant.load_from_checkpoint(compiled_ckpt, **nets, compile=False)
    assert list(loaded.state_dict()) == list(compiled_state)
    assert_close(loaded.generate(4, z=torch.ones(4, 2)), compiled.generate(4, z=torch.ones(4, 2)))
    nets = dict(zip(("generator", "discriminator"), mlp_nets(8, 1), strict=True))
    loaded = variant.load_from_checkpoint(eager_ckpt, **nets, compile=True)
    assert loaded.compile_networks and list(loaded.state_dict()) == list(eager_state)
    nets = dict(zip(("generator", "discriminator"), mlp_nets(8, 1), strict=True))
    assert variant.load_from_checkpoint(
        compiled_ckpt, **nets
    ).compile_networks  # kept in the hyper-parameters


def _penalty_gradients(penalty, compile: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model = WGANGP(*mlp_nets(8, 1, seed=0), compile=compile)
    if compile:
        model.discriminator.compile()  # as on_fit_start does
    real, fake = torch.randn(16, 2, generator=torch.Generator().manual_seed(1)).chunk(2)
    torch.manual_seed(2)  # the penalties' random interpolation weights and perturbations
    value = penalty(lambda x: model.critic(x), real, fake)
    value.backward()  # the second backward: through the input gradient into the critic's weights
    return value.detach(), [p.grad for p in model.discriminator.parameters()]


@pytest.mark.parametrize(
    "penalty",
    [
        gradient_penalty,  # WGAN-GP
        lambda critic, real, fake: dragan_penalty(critic, real),  # DRAGAN
        lambda critic, real, fake: zero_centered_gradient_penalty(critic, real),  # R1 (R2: the same on fakes)
    ],
    ids=["wgan_gp", "dragan", "r1"],
)
def test_penalties_double_backward_runs_eager_under_compile(penalty) -> None:
    eager_value, eager_grads = _penalty_gradients(penalty, compile=False)
    value, grads = _penalty_gradients(penalty, compile=True)
    assert_close(value, eager_value, atol=1e-5, rtol=1e-5)
    for grad, eager_grad in zip(grads, eager_grads, strict=True):
        assert_close(grad, eager_grad, atol=1e-5, rtol=1e-5)


def test_compile_is_a_config_key() -> None:
    cli = GANCLI(
        args=["--config", str(RING_CONFIG), "--model.compile", "true", "--trainer.max_steps", "1"], run=False
    )
    assert cli.model.compile_networks is True and cli.model.hparams["compile"] is True
