"""InMemoryTensors: whole batches read in one indexing, the same batches as a TensorDataset gives
(gan_lightning.data.loading)."""

from __future__ import annotations

import torch
from torch.testing import assert_close
from torch.utils.data import Subset, TensorDataset

from gan_lightning.data.loading import InMemoryTensors, ResumableDataLoader
from gan_lightning.evaluator import real_batches


def tensors() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(50, 1, 4, 4, generator=g), torch.randint(10, (50,), generator=g)


def batches(dataset, **kwargs) -> list:  # noqa: ANN001
    return list(ResumableDataLoader(dataset, batch_size=8, seed=3, **kwargs))


def test_batches_are_those_of_a_tensor_dataset_shuffled_or_in_order_whole_or_a_subset() -> None:
    fast, plain = InMemoryTensors(*tensors()), TensorDataset(*tensors())
    cases = [
        (fast, plain, {"shuffle": True, "drop_last": True}),
        (fast, plain, {"shuffle": False, "drop_last": False}),  # the last batch short
        (Subset(fast, list(range(3, 40))), Subset(plain, list(range(3, 40))), {"shuffle": True}),
    ]
    for fast_set, plain_set, kwargs in cases:
        got, expected = batches(fast_set, **kwargs), batches(plain_set, **kwargs)
        assert len(got) == len(expected)
        for (x, y), (x_ref, y_ref) in zip(got, expected, strict=True):
            assert isinstance([x, y], list) and y.dtype == torch.long
            assert_close(x, x_ref, rtol=0, atol=0)
            assert_close(y, y_ref, rtol=0, atol=0)


def test_a_resumed_pass_gives_the_batches_left_of_the_uncut_one() -> None:
    dataset = InMemoryTensors(*tensors())
    uncut = batches(dataset, shuffle=True, drop_last=True)
    loader = ResumableDataLoader(dataset, batch_size=8, seed=3, shuffle=True, drop_last=True)
    iterator = iter(loader)
    next(iterator), next(iterator)
    resumed = ResumableDataLoader(dataset, batch_size=8, seed=3, shuffle=True, drop_last=True)
    resumed.load_state_dict(loader.state_dict())
    for (x, _), (x_ref, _) in zip(list(resumed), uncut[2:], strict=True):
        assert_close(x, x_ref, rtol=0, atol=0)


def test_the_evaluators_real_images_are_the_first_n_without_labels() -> None:
    images, labels = tensors()
    got = torch.cat(list(real_batches(InMemoryTensors(images, labels), 20, batch_size=8)))
    assert_close(got, images[:20], rtol=0, atol=0)
