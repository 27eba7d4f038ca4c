"""Mixed precision in training: bf16 autocast on CPU, and one GradScaler (16-mixed) serving both optimisers
(the penalty under autocast alone: tests/unit/test_precision.py).

Gradient penalty under a GradScaler: Lightning's ``manual_backward`` scales only the *loss* it is given;
the penalty's ``autograd.grad`` is taken on the critic's raw (unscaled) scores inside the loss, so the input
gradient is already unscaled and must not be divided by the scale (PyTorch's AMP recipe divides only when
the grad is taken of a *scaled* output). Pinned by: a run with scale 2^12 ends where a run with scale 1
ends (scaling by a power of two is exact), which a penalty on scaled gradients would break by a factor 2^24.
"""

from __future__ import annotations

from functools import partial

import lightning as L
import pytest
import torch
from lightning.pytorch.plugins import MixedPrecision
from torch.testing import assert_close

from gan_lightning.variants import NSGAN, WGANGP
from tests.helpers import mlp_nets, quiet_trainer, ring_data


def small(cls: type, **kwargs) -> L.LightningModule:
    L.seed_everything(0)
    return cls(*mlp_nets(), **kwargs)


def fit(model: L.LightningModule, accelerator: str = "cpu", **kwargs) -> L.Trainer:
    trainer = quiet_trainer(accelerator=accelerator, devices=1, max_steps=6, **kwargs)
    trainer.fit(model, datamodule=ring_data(num_samples=128, batch_size=32))
    return trainer


@pytest.mark.parametrize("cls", [NSGAN, WGANGP])
def test_bf16_mixed_trains_on_cpu(cls: type) -> None:
    model = small(cls, n_critic=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = fit(model, precision="bf16-mixed")
    assert trainer.global_step == 6
    metrics = trainer.callback_metrics
    assert {"train/d_loss", "train/g_loss"} <= metrics.keys()
    assert all(torch.isfinite(v).all() for v in metrics.values()), metrics
    for key, value in model.state_dict().items():
        assert value.dtype == before[key].dtype and torch.isfinite(value).all()  # the weights stay float32
        if key.endswith("weight"):
            assert not torch.equal(value, before[key]), f"{key} did not change"


def scaled_run(scale: float, device: str) -> tuple[WGANGP, L.Trainer, torch.amp.GradScaler]:
    """A few WGAN-GP steps under 16-mixed with one GradScaler; SGD, so the update is proportional to the
    gradient (Adam would hide a wrongly scaled gradient by normalising it)."""
    sgd = partial(torch.optim.SGD, lr=0.05)
    model = small(WGANGP, n_critic=1, gp_weight=10.0, g_optimizer=sgd, d_optimizer=sgd)
    scaler = torch.amp.GradScaler(device, init_scale=scale, growth_interval=10_000)
    trainer = fit(model, accelerator=device, plugins=[MixedPrecision("16-mixed", device, scaler)])
    return model, trainer, scaler


def assert_scale_does_not_change_training(device: str) -> None:
    big, big_trainer, big_scaler = scaled_run(2.0**12, device)
    one, one_trainer, _ = scaled_run(1.0, device)
    assert big_scaler.get_scale() == 2.0**12  # used by both optimisers' steps, no overflow skipped a step
    for key in ("train/d_gradient_penalty", "train/d_loss", "train/g_loss"):
        assert_close(
            big_trainer.callback_metrics[key], one_trainer.callback_metrics[key], rtol=1e-5, atol=1e-6
        )
    for key, value in one.state_dict().items():
        assert_close(big.state_dict()[key], value, rtol=1e-5, atol=1e-6, msg=key)


def test_grad_scaler_scale_does_not_reach_the_gradient_penalty_cpu() -> None:
    assert_scale_does_not_change_training("cpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_16_mixed_wgan_gp_on_gpu_one_scaler_unscaled_penalty() -> None:
    assert_scale_does_not_change_training("cuda")
    model = small(WGANGP, n_critic=2)
    trainer = fit(model, accelerator="cuda", precision="16-mixed")
    assert trainer.global_step == 6
    assert all(torch.isfinite(v).all() for v in trainer.callback_metrics.values())
    assert all(torch.isfinite(p).all() for p in model.parameters())
