"""Fixtures for every test. Shared plain builders (paths, trainers, networks, data files) are in helpers.py.

tests/ and its layers (unit/, integration/, cli/) are packages: pytest imports each module by its full name
(tests.unit.test_losses, ...) with the repository root first on sys.path, so tests import the builders as
``from tests.helpers import ...`` and ``tests`` is this folder, not the ``tests`` package torch-fidelity installs.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import pytest
import torch

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
warnings.filterwarnings("ignore", ".*does not have many workers.*")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Each test runs in its own folder, so `runs/` and downloads never land in the repository."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """torch uses one thread during the test, then its earlier setting again."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
