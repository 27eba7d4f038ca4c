"""The Evaluation callback in training: what it logs, that real statistics are extracted once, what checkpoints
hold, DDP ranks sharing the work (the Evaluator alone: tests/unit/test_evaluation.py)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from torch import Tensor
from torch.testing import assert_close

from gan_lightning.callbacks import Evaluation
from gan_lightning.data import MNISTDataModule
from gan_lightning.evaluator import Evaluator
from gan_lightning.metrics import mode_coverage
from gan_lightning.variants import NSGAN
from tests.helpers import (
    PixelProjection,
    cpu_trainer,
    free_port,
    mlp_nets,
    ring_data,
    tiny_dcgan,
    tiny_mnist,
    write_tiny_idx,
)


def trainer(tmp_path: Path, callbacks: list, **kwargs) -> L.Trainer:
    return cpu_trainer(default_root_dir=tmp_path, callbacks=callbacks, **kwargs)


def test_toy_evaluation_logs_the_mode_coverage_of_the_seeded_points(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = NSGAN(*mlp_nets())
    data = ring_data(num_samples=128, batch_size=32)
    trainer(tmp_path, [Evaluation()]).fit(module, data)
    logged = {k: float(v) for k, v in trainer_metrics(module).items() if k.startswith("eval/")}
    z = torch.randn(2500, 2, generator=torch.Generator().manual_seed(0))  # the evaluator's latents (seed 0)
    expected = mode_coverage(module.generate(2500, z=z), data.mode_centers, data.mode_std)
    assert logged.keys() == {"eval/modes", "eval/high_quality", "eval/reverse_kl"}
    assert_close(logged["eval/modes"], expected["modes"])
    assert_close(logged["eval/high_quality"], expected["high_quality"])
    assert_close(logged["eval/reverse_kl"], expected["reverse_kl"], equal_nan=True)


def trainer_metrics(module: L.LightningModule) -> dict[str, Tensor]:
    return dict(module.trainer.callback_metrics)


def test_image_evaluation_extracts_the_real_set_once_and_keeps_the_extractor_out_of_checkpoints(
    tmp_path: Path,
) -> None:
    module, data = tiny_dcgan(), tiny_mnist(tmp_path)
    evaluation = Evaluation(image_metrics=["fid", "kid", "pr"], num_generated=40, num_real=60, batch_size=20)
    fit = trainer(tmp_path, [evaluation], max_epochs=2, enable_checkpointing=True)
    fit.fit(module, data)
    logged = trainer_metrics(module)
    assert {"eval/fid", "eval/kid_mean", "eval/kid_std", "eval/precision", "eval/recall"} <= logged.keys()
    metrics = evaluation.evaluator.metrics
    assert evaluation.evaluator.extractor_name == "lenet"  # auto: one-channel images
    assert metrics.metrics["fid"].real_features_num_samples == 60  # two evaluations, one real pass
    assert metrics.metrics["fid"].fake_features_num_samples == 0  # generated statistics reset after each
    # The same weights give the same numbers (seeded latents, seeded KID subsets).
    again = evaluation.evaluator.evaluate(module, data)
    assert_close(again["fid"], float(logged["eval/fid"]))
    assert_close(again["kid_mean"], float(logged["eval/kid_mean"]))

    checkpoint_path = next((tmp_path / "checkpoints").glob("*.ckpt"))
    checkpoint = torch.load(checkpoint_path, weights_only=False)
    assert all(k.startswith(("generator.", "discriminator.", "fixed_z")) for k in checkpoint["state_dict"])
    states = checkpoint.get("callbacks", {}).values()  # ModelCheckpoint keeps one scalar tensor
    assert sum(v.numel() for state in states for v in state.values() if isinstance(v, Tensor)) <= 1
    model_bytes = sum(t.numel() * t.element_size() for t in module.state_dict().values())
    # Parameters, Adam's two moments and metadata; LeNet's weights alone would add 0.7 MB.
    assert checkpoint_path.stat().st_size < 3 * model_bytes + 50_000
    assert not any(p is metrics.feature_extractor for p in module.modules())


def _evaluate_both(data_dir: Path) -> dict[str, float]:
    """Mode coverage of a toy GAN and FID / precision-recall of a tiny DCGAN (same seeds in every process)."""
    torch.manual_seed(0)
    toy = NSGAN(*mlp_nets())
    toy_data = ring_data(num_samples=64, batch_size=32)
    results = {f"toy_{k}": v for k, v in Evaluator(num_generated=101).evaluate(toy, toy_data).items()}
    images = MNISTDataModule(str(data_dir), download=False, batch_size=32)
    images.setup("fit")
    evaluator = Evaluator(
        ["fid", "pr"], num_generated=45, num_real=50, feature_extractor=PixelProjection(), batch_size=10
    )
    return {**results, **evaluator.evaluate(tiny_dcgan(), images)}


def _ddp_worker(rank: int, world: int, port: int, data_dir: Path, out: Path) -> None:
    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        torch.save(_evaluate_both(data_dir), out / f"rank{rank}.pt")
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_ddp_ranks_share_the_work_and_agree_with_one_process(tmp_path: Path) -> None:
    data_dir = write_tiny_idx(tmp_path / "mnist", n=96)
    torch.multiprocessing.spawn(_ddp_worker, args=(2, free_port(), data_dir, tmp_path), nprocs=2)
    alone = _evaluate_both(data_dir)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys() == alone.keys()
    for key, value in alone.items():
        assert_close(ranks[1][key], ranks[0][key], equal_nan=True)  # every rank logs the same, synced values
        # The ranks together saw exactly the samples of one process.
        assert_close(ranks[0][key], value, rtol=1e-5, atol=1e-6, equal_nan=True)
