"""Training callbacks, one module per concern; configs name them as ``gan_lightning.callbacks.<Class>``.

* :mod:`~gan_lightning.callbacks.samples`: :class:`SampleGrid`, sample grids / 2D scatter plots per epoch;
* :mod:`~gan_lightning.callbacks.summary`: :class:`RunSummary`, loss plot and final samples at the end;
* :mod:`~gan_lightning.callbacks.config`: :class:`SaveConfigToLoggers`, the config in the run and loggers;
* :mod:`~gan_lightning.callbacks.ema`: :class:`GeneratorEMA`, a moving average of the generator;
* :mod:`~gan_lightning.callbacks.evaluation`: :class:`Evaluation`, metrics (FID, mode coverage, ...);
* :mod:`~gan_lightning.callbacks.signals`: :class:`SignalCheckpoint`, a checkpoint on SIGTERM / SIGUSR1;
* :mod:`~gan_lightning.callbacks.preflight`: :class:`Preflight`, writable folders and free space before training.
"""

from gan_lightning.callbacks.config import SaveConfigToLoggers
from gan_lightning.callbacks.ema import GeneratorEMA
from gan_lightning.callbacks.evaluation import Evaluation
from gan_lightning.callbacks.preflight import Preflight
from gan_lightning.callbacks.samples import SampleGrid
from gan_lightning.callbacks.signals import SignalCheckpoint
from gan_lightning.callbacks.summary import RunSummary

__all__ = [
    "Evaluation",
    "GeneratorEMA",
    "Preflight",
    "RunSummary",
    "SampleGrid",
    "SaveConfigToLoggers",
    "SignalCheckpoint",
]
