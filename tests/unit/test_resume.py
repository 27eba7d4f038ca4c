"""The resumable data loader on its own: it continues the permutation where it stopped (exact resume of
training runs: tests/integration/test_resume.py)."""

from __future__ import annotations

import pytest

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
    assert state == {"batches_served": 1, "seed": 7, "epoch": 2}

    again = ResumableDataLoader(data, batch_size=3, shuffle=True, seed=0, drop_last=True, **options)
    again.load_state_dict(state)
    again.sampler.set_epoch(2)
    assert len(again) == 3  # Lightning still sees the whole epoch
    assert [batch.tolist() for batch in again] == epoch[1:]
    assert [batch.tolist() for batch in again] == epoch  # the skip applies to the resumed pass only
    loader.sampler.set_epoch(3)
    assert [batch.tolist() for batch in loader] != epoch  # a new epoch, a new permutation
