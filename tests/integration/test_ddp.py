"""DDP on CPU: 2 processes (gloo) launched by torchrun, every variant, both phases, gradient penalties.

What is checked, per variant:

* after a few batches both ranks hold bit-identical G and D parameters (no silent gradient desync);
* the result matches one process on the same global batch (2 ranks x batch 16 vs 1 process x batch 32).

And for the shipped toy data module under DDP: the ranks draw different latents although Lightning seeds
them alike, and a run resumed from a mid-epoch checkpoint ends bit-identical to the uninterrupted run on
every rank.

Why the second holds: every loss is a mean over its batch and DDP averages the ranks' gradients, so the
averaged gradient is the single process's gradient on the union of the ranks' batches. For that union to be
the same batch, the data are not shuffled (DistributedSampler then gives rank r the rows r, r + 2, ... of each
global batch) and every random draw inside a training step (latents, interpolation weights, perturbations) is
made for the *global* batch from a seed that depends only on the batch index, and each rank keeps its rows
r::2 (:class:`ShardedRandomness`). DRAGAN, RaSGAN and RaLSGAN are left out of the second check: DRAGAN's
perturbation is scaled by the std of the per-rank batch, and the relativistic average losses compare each sample
with the mean critic output of the per-rank batch, batch statistics that legitimately differ from the global
batch's (as batch norm's do).

This file is also the worker: ``torchrun --nproc_per_node 2 tests/integration/test_ddp.py OUT`` trains every variant and
writes each rank's parameters to ``OUT/<variant>_rank<r>.pt``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.testing import assert_close
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import gan_lightning.variants as variants
from gan_lightning.data import ToyDataModule
from gan_lightning.module import GANModule
from gan_lightning.networks import MLPAutoencoder, MLPDiscriminator, MLPGenerator

GLOBAL_BATCH, BATCHES, N_CRITIC = 32, 6, 2
# Batch statistics inside the loss: the DDP result is a different (valid) estimator, not the same number
# (DRAGAN: the std of the real batch; EBGAN's pulling-away term, off by default, would be another).
NOT_BATCH_EQUIVALENT = {"DRAGAN", "RaSGAN", "RaLSGAN"}
# Variants whose critic is not a plain MLP critic.
DISCRIMINATORS = {"EBGAN": lambda: MLPAutoencoder(hidden_dim=16, depth=2, code_dim=4)}


def variant_names() -> list[str]:
    return [name for name in variants.__all__ if issubclass(getattr(variants, name), GANModule)]


@contextlib.contextmanager
def sharded_randomness(batch_idx: int, rank: int, world: int) -> Iterator[None]:
    """torch.rand/randn/rand_like/randn_like draw the global batch from a seed fixed by (batch, call number),
    and return this rank's rows ``rank::world`` (the rows DistributedSampler gives this rank)."""
    calls = iter(range(1000))
    originals = {name: getattr(torch, name) for name in ("rand", "randn")}

    def sharded(draw):
        def fake(*size, device=None, dtype=None, **_):
            shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
            seeded = torch.Generator().manual_seed(10_000 * batch_idx + next(calls))
            full = draw((shape[0] * world, *shape[1:]), generator=seeded, dtype=dtype or torch.float32)
            return full[rank::world].to(device)

        return fake

    fakes = {name: sharded(draw) for name, draw in originals.items()}
    patched = {
        **fakes,
        "rand_like": lambda x, **_: fakes["rand"](x.shape, dtype=x.dtype, device=x.device),
        "randn_like": lambda x, **_: fakes["randn"](x.shape, dtype=x.dtype, device=x.device),
    }
    saved = {name: getattr(torch, name) for name in patched}
    try:
        for name, fake in patched.items():
            setattr(torch, name, fake)
        yield
    finally:
        for name, original in saved.items():
            setattr(torch, name, original)


class ShardedRandomness:
    """Mixin: a training step under :func:`sharded_randomness`."""

    def training_step(self, batch, batch_idx):
        with sharded_randomness(batch_idx, self.global_rank, self.trainer.world_size):
            return super().training_step(batch, batch_idx)


def small_model(name: str) -> GANModule:
    torch.manual_seed(0)
    cls = getattr(variants, name)
    cls = type(f"Sharded{name}", (ShardedRandomness, cls), {})
    discriminator = DISCRIMINATORS.get(name, lambda: MLPDiscriminator(hidden_dim=16, depth=2))()
    return cls(MLPGenerator(hidden_dim=16, depth=2), discriminator, n_critic=N_CRITIC)


class FixedPoints(L.LightningDataModule):
    """BATCHES global batches of 2D points, in a fixed order (no shuffling)."""

    def __init__(self, batch_size: int) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.points = torch.randn(GLOBAL_BATCH * BATCHES, 2, generator=torch.Generator().manual_seed(1))

    def train_dataloader(self) -> DataLoader:
        data = TensorDataset(self.points, torch.zeros(len(self.points), dtype=torch.long))
        # Lightning's own DistributedSampler would always shuffle a training set: rank r takes rows r::world.
        world, rank = self.trainer.world_size, self.trainer.global_rank
        sampler = DistributedSampler(data, world, rank, shuffle=False) if world > 1 else None
        return DataLoader(data, batch_size=self.batch_size, sampler=sampler, drop_last=True)


def fit(model: GANModule, world: int, strategy: str | object = "auto") -> L.Trainer:
    trainer = L.Trainer(
        accelerator="cpu",
        devices=world,
        strategy=strategy,
        max_epochs=1,
        logger=False,
        use_distributed_sampler=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=FixedPoints(GLOBAL_BATCH // world))
    return trainer


class FirstLatents(variants.NSGAN):
    """NSGAN that keeps the first latent batch it draws."""

    def sample_latent(self, n: int) -> torch.Tensor:
        z = super().sample_latent(n)
        if (
            not hasattr(self, "first_latents") and self.trainer.training and n == 16
        ):  # not setup's shape check
            self.first_latents = z.clone()
        return z


def toy_ddp_run(out: Path, max_steps: int, ckpt_path: Path | None = None) -> FirstLatents:
    L.seed_everything(0)  # the same seed on every rank, as Lightning's launchers give
    model = FirstLatents(
        MLPGenerator(hidden_dim=16, depth=2), MLPDiscriminator(hidden_dim=16, depth=2), n_critic=2
    )
    checkpoint = L.pytorch.callbacks.ModelCheckpoint(dirpath=out, every_n_train_steps=6, save_top_k=-1)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        max_steps=max_steps,
        deterministic=True,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[checkpoint],
    )
    # 5 batches of 16 per rank and epoch: the checkpoint at step 6 (batch 4) is mid-epoch.
    trainer.fit(model, datamodule=ToyDataModule("ring", num_samples=160, batch_size=16), ckpt_path=ckpt_path)
    return model


def worker(out: Path) -> None:
    """One rank of `torchrun --nproc_per_node 2`: train every variant, save this rank's parameters."""
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    whole = toy_ddp_run(out / "whole", 15)
    resumed = toy_ddp_run(out / "parts", 15, ckpt_path=out / "whole" / "epoch=0-step=6.ckpt")
    torch.save(
        {"whole": whole.state_dict(), "resumed": resumed.state_dict(), "latents": whole.first_latents},
        out / f"toy_rank{rank}.pt",
    )
    for i, name in enumerate(variant_names()):
        # The first variant runs under the Python API's plain "ddp" (find_unused_parameters=False).
        trainer = fit(
            small_model(name), world=2, strategy="ddp" if i == 0 else "ddp_find_unused_parameters_true"
        )
        model = trainer.lightning_module
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        steps = {
            "global_step": trainer.global_step,
            "critic": model.critic_steps,
            "generator": model.generator_steps,
        }
        torch.save({"state": state, "steps": steps}, out / f"{name}_rank{rank}.pt")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ddp_ranks_agree_and_match_one_process_on_the_global_batch(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(free_port()),
        __file__,
        str(tmp_path),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    ddp_seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-4000:]

    toy = [torch.load(tmp_path / f"toy_rank{r}.pt") for r in range(2)]
    assert not torch.equal(toy[0]["latents"], toy[1]["latents"]), "every rank drew the same latents"
    for r in range(2):
        for key, value in toy[r]["whole"].items():
            assert_close(toy[r]["resumed"][key], value, rtol=0, atol=0, msg=f"DDP resume, rank {r}: {key}")

    report, failures = [], []
    for name in variant_names():
        ranks = [torch.load(tmp_path / f"{name}_rank{r}.pt") for r in range(2)]
        assert (
            ranks[0]["steps"]
            == ranks[1]["steps"]
            == {
                "global_step": BATCHES + BATCHES // N_CRITIC,
                "critic": BATCHES,
                "generator": BATCHES // N_CRITIC,
            }
        )
        for key in ranks[0]["state"]:  # bit-identical on both ranks
            assert_close(ranks[0]["state"][key], ranks[1]["state"][key], rtol=0, atol=0, msg=f"{name} {key}")
        single = fit(small_model(name), world=1).lightning_module.state_dict()
        initial = small_model(name).state_dict()
        diff = max((ranks[0]["state"][k] - single[k]).abs().max().item() for k in single if "fixed" not in k)
        moved = min((single[k] - initial[k]).abs().max().item() for k in single if k.endswith("weight"))
        report.append(f"{name}: max |ddp - single| = {diff:.2e}, smallest weight change {moved:.2e}")
        assert moved > 0, f"{name}: a network did not train"
        if name not in NOT_BATCH_EQUIVALENT and diff > 1e-5:
            failures.append(report[-1])
    print(f"\nDDP run (torchrun, 2 ranks, {len(report)} variants): {ddp_seconds:.1f} s\n" + "\n".join(report))
    assert not failures, failures


if __name__ == "__main__":
    worker(Path(sys.argv[1]))
