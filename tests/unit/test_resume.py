"""The resumable data loader on its own: it continues the permutation where it stopped (exact resume of
training runs: tests/integration/test_resume.py)."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.data.loading import ResumableDataLoader


@pytest.mark.parametrize("workers", [0, 2])
def test_resumable_loader_continues_the_permutation_where_it_stopped(workers: int) -> None:
    data = list(range(10))
    options = {"num_workers": workers, "persistent_workers": workers > 0}  # persistent: one iterator reused
    loader = ResumableDataLoader(data, batch_size=3, shuffle=True, seed=7, drop_last=True, **options)
    loader.sampler.set_epoch(2)
    epoch = [batch.tolist() for batch in loader]
    assert len(epoch) == 3 and len(set(sum(epoch, []))) == 9
    served = iter(loader)
    next(served)
    state = loader.state_dict()
    assert (state["seed"], state["epoch"]) == (7, 2)

    again = ResumableDataLoader(data, batch_size=3, shuffle=True, seed=0, drop_last=True, **options)
    again.load_state_dict(state)
    again.sampler.set_epoch(2)
    assert len(again) == 3  # Lightning still sees the whole epoch
    assert [batch.tolist() for batch in again] == epoch[1:]
    assert [batch.tolist() for batch in again] == epoch  # the skip applies to the resumed pass only
    loader.sampler.set_epoch(3)
    assert [batch.tolist() for batch in loader] != epoch  # a new epoch, a new permutation


@pytest.mark.parametrize("workers", [0, 2])
def test_resumable_loader_resumes_a_checkpoint_of_the_loader_before_torchdata(workers: int) -> None:
    data = torch.arange(20.0).unsqueeze(1)
    options = {"num_workers": workers, "persistent_workers": workers > 0}
    loader = ResumableDataLoader(data, batch_size=4, shuffle=True, seed=3, drop_last=True, **options)
    loader.sampler.set_epoch(1)
    epoch = list(loader)
    old_state = {"batches_served": 2, "seed": 3, "epoch": 1}  # what the hand-written loader saved

    again = ResumableDataLoader(data, batch_size=4, shuffle=True, seed=0, drop_last=True, **options)
    again.load_state_dict(old_state)
    resumed = list(again)
    assert len(resumed) == 3
    for got, expected in zip(resumed, epoch[2:], strict=True):
        assert_close(got, expected, rtol=0, atol=0)
    assert again.state_dict()["epoch"] == 1
    finished = ResumableDataLoader(data, batch_size=4, shuffle=True, seed=0, drop_last=True, **options)
    finished.load_state_dict({"batches_served": 5, "seed": 3, "epoch": 1})  # a finished pass: the next epoch
    assert finished.sampler.epoch == 2
    loader.sampler.set_epoch(2)
    for got, expected in zip(finished, list(loader), strict=True):
        assert_close(got, expected, rtol=0, atol=0)
