"""An exponential moving average of the generator's weights, for samples and evaluation (any variant).

Averaging the generator's iterates smooths the oscillation of the adversarial game ("The Unusual
Effectiveness of Averaging in GAN Training", Yazici et al., 2019, arXiv:1806.04498; "Progressive Growing of
GANs for Improved Quality, Stability, and Variation", Karras et al., 2018). The average lives in
``GANModule.ema_generator`` (``None`` until this callback or a checkpoint sets it): a frozen copy of the
generator registered on the GANModule, so it follows the module to its device and is saved in every
checkpoint (``state_dict`` keys ``ema_generator.*``), while the generator's optimiser, built from
``generator.parameters()``, never steps it. ``GANModule.sampling_generator()`` then returns it, so sample
grids, ``generate`` and evaluation use the averaged weights; a checkpoint loaded without this callback still
restores it.
"""

from __future__ import annotations

import copy

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


class GeneratorEMA(Callback):
    """After every generator step: theta_ema <- decay * theta_ema + (1 - decay) * theta; buffers (batch-norm
    statistics) are copied.

    Args:
        decay: weight of the old average; 0.999 averages over about the last 1000 generator steps.
    """

    def __init__(self, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"GeneratorEMA.decay must be in [0, 1), got {decay}")
        self.decay = decay
        self._seen_generator_steps = 0

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # Before checkpoint restore and before the strategy moves or wraps the module.
        if pl_module.ema_generator is None:
            pl_module.ema_generator = copy.deepcopy(pl_module.generator).requires_grad_(False)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._seen_generator_steps = pl_module.generator_steps  # a resumed run does not re-average old steps

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if pl_module.generator_steps == self._seen_generator_steps:
            return  # a critic-only batch
        self._seen_generator_steps = pl_module.generator_steps
        self.update(pl_module.ema_generator, pl_module.generator)

    @torch.no_grad()
    def update(self, ema: torch.nn.Module, generator: torch.nn.Module) -> None:
        """One averaging step of ``ema`` towards ``generator``."""
        for average, current in zip(ema.parameters(), generator.parameters(), strict=True):
            average.mul_(self.decay).add_(current.detach(), alpha=1 - self.decay)
        for average, current in zip(ema.buffers(), generator.buffers(), strict=True):
            average.copy_(current)
