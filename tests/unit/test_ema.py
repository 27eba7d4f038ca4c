"""Generator EMA's arguments (in training: tests/integration/test_ema.py)."""

from __future__ import annotations

import pytest

from gan_lightning.callbacks import GeneratorEMA


def test_bad_decay() -> None:
    with pytest.raises(ValueError, match="decay"):
        GeneratorEMA(decay=1.0)
