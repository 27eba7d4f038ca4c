"""The Evaluator without a Trainer: any extractor module, bad settings, latents split over ranks, real-vs-real
halves (the Evaluation callback in training: tests/integration/test_evaluation.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.callbacks import Evaluation
from gan_lightning.evaluator import Evaluator, generated_batches, real_vs_real, write_report
from gan_lightning.metrics import ImageMetrics
from gan_lightning.variants import NSGAN
from tests.helpers import PixelProjection, mlp_nets, tiny_dcgan, tiny_mnist


def test_evaluator_accepts_any_extractor_module_and_rejects_bad_settings(tmp_path: Path) -> None:
    module, data = tiny_dcgan(), tiny_mnist(tmp_path)
    data.setup("fit")
    evaluator = Evaluator(
        ["fid"], num_generated=30, num_real=30, feature_extractor=PixelProjection(), batch_size=16
    )
    first = evaluator.evaluate(module, data)
    assert evaluator.extractor_name == "PixelProjection" and first["fid"] > 0
    assert_close(evaluator.evaluate(module, data), first)
    with pytest.raises(ValueError, match="evaluation.image_metrics"):
        Evaluator(["fid", "lpips"])
    with pytest.raises(ValueError, match="evaluation.feature_extractor"):
        Evaluator(feature_extractor="vgg")
    with pytest.raises(ValueError, match="evaluation.every_n_epochs"):
        Evaluation(every_n_epochs=-1)


def test_generated_batches_split_the_same_latents_over_ranks() -> None:
    module = NSGAN(*mlp_nets(8, 1))
    alone = torch.cat(list(generated_batches(module, 10, 4, seed=3)))
    ranks = [torch.cat(list(generated_batches(module, 10, 4, seed=3, rank=r, world=2))) for r in (0, 1)]
    # Rank r holds rows r::2 of every batch of 4: batches (0..3), (4..7), (8, 9).
    assert_close(ranks[0], alone[[0, 2, 4, 6, 8]])
    assert_close(ranks[1], alone[[1, 3, 5, 7, 9]])


def test_real_vs_real_splits_at_random_not_first_half_against_second() -> None:
    # Like MNIST's test set (its first 5,000 digits are cleaner than the last 5,000): two different halves.
    noise = torch.rand(80, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    images = torch.cat([noise[:40] - 1, noise[40:]])
    ordered = ImageMetrics(PixelProjection(), ["fid"])
    ordered.update(images[:40], real=True)
    ordered.update(images[40:], real=False)
    between_halves = ordered.compute()["fid"]
    random_halves = real_vs_real(images, PixelProjection(), ["fid"], seed=0)["fid"]
    assert between_halves > 1.0 and 0 <= random_halves < between_halves / 10


def test_write_report_prints_the_table_before_writing_it_atomically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_report({"fid": 12.5}, {"ckpt": "x"}, tmp_path / "run" / "metrics", "x.ckpt")
    assert "12.5" in capsys.readouterr().out and "12.5" in (tmp_path / "run" / "metrics.md").read_text()
    # No temporary file is left behind.
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["metrics.json", "metrics.md"]
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match=r"could not write the report .*file/metrics\.json.*printed above"):
        write_report({"fid": 3.25}, {}, tmp_path / "file" / "metrics", "")  # under a file: no folder there
    assert "3.25" in capsys.readouterr().out  # the metrics were printed all the same
