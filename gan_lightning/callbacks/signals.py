"""Preemption: SIGTERM or SIGUSR1 during fit writes a resumable checkpoint, then the run exits 128 + signal.

Without it, Lightning answers SIGTERM by stopping after the batch in progress with exit status 0 and no
checkpoint: everything since the last interval checkpoint is lost and the scheduler believes the job
succeeded. The CLI adds this callback to every run (``--signal_checkpoint.*``).
"""

from __future__ import annotations

import signal

import lightning as L
import torch
from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info

from gan_lightning._lightning_compat import cluster_environment, take_over_sigterm
from gan_lightning.paths import PathOrURL, join
from gan_lightning.runs import run_dir
from gan_lightning.signals import SignalRecorder, StopSignal, signal_number


class SignalCheckpoint(Callback):
    """On a stop signal during fit: a checkpoint at the end of the batch in progress, then :class:`StopSignal`.

    The handler only records the signal. At the end of the training batch in progress (after every other
    callback's ``on_train_batch_end``, the EMA update included: this callback moves itself to the end of the
    Trainer's list), the Trainer writes a checkpoint, as ModelCheckpoint does at that point, so it holds the
    position in the epoch and ``--ckpt_path`` resumes exactly. Then ``StopSignal`` (a ``SystemExit``) ends
    the run with exit status 128 + the signal's number: 143 for SIGTERM, 138 for SIGUSR1.

    A signal that arrives during end-of-epoch work (evaluation, sample grids) is acted on after the next
    training batch; one that arrives after the last batch changes nothing (the run has finished).

    Under SLURM with Lightning's auto-requeue (``SLURMEnvironment(auto_requeue=True)``, the default there), the
    requeue signal (SIGUSR1 unless configured otherwise) is left to Lightning: it writes ``hpc_ckpt_<n>.ckpt``
    and requeues the job, which resumes from it. Under DDP the ranks agree on the signal at every batch (one
    all-reduce of one number), so every rank stops at the same batch and the checkpoint is written once.

    Args:
        signals: names of the signals to act on; ``[]`` turns the callback off.
        dirpath: folder of the checkpoint; ``None``: the ModelCheckpoint's folder, else ``<run>/checkpoints``.
        filename: the checkpoint's name without ``.ckpt``; ``last`` by default, so that the usual resume point
            is the newest state whichever way the run stopped.
    """

    def __init__(
        self,
        signals: list[str] | None = None,
        dirpath: str | None = None,
        filename: str = "last",
    ) -> None:
        default = [name for name in ("SIGTERM", "SIGUSR1") if hasattr(signal, name)]  # no SIGUSR1 on Windows
        self.signals = default if signals is None else list(signals)
        self.signums = [signal_number(name) for name in self.signals]  # unknown names fail here, in one line
        self.dirpath, self.filename = dirpath, filename
        self.recorder = SignalRecorder()

    # ------------------------------------------------------------------------------------------ hooks
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # Run after every other callback at the end of a batch (the checkpoint must hold their updates).
        # A new list: Lightning is iterating over the current one to call this hook.
        if stage == "fit" and trainer.callbacks and trainer.callbacks[-1] is not self:
            trainer.callbacks = [c for c in trainer.callbacks if c is not self] + [self]

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning installed its own SIGTERM handler just before; this one replaces it for the training loop
        # (Lightning's teardown puts back what was there before either).
        signums = list(self.signums)
        environment = cluster_environment(trainer)
        if isinstance(environment, SLURMEnvironment) and environment.auto_requeue:
            requeue = int(environment.requeue_signal or signal.SIGUSR1)
            if requeue in signums:
                signums.remove(requeue)
                rank_zero_info(f"{signal.Signals(requeue).name} is left to Lightning's SLURM auto-requeue")
        self.recorder.install(signums)
        if signal.SIGTERM in signums and take_over_sigterm(trainer):
            self.recorder.received = signal.SIGTERM  # arrived between Lightning's handler and this one

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        signum = self.recorder.received or 0
        if trainer.world_size > 1:  # any rank's signal stops every rank, at the same batch
            agreed = torch.tensor(signum, device=trainer.strategy.root_device)
            signum = int(trainer.strategy.reduce(agreed, reduce_op="max"))
        if not signum:
            return
        path = self.checkpoint_path(trainer)
        keeper = trainer.checkpoint_callback
        if isinstance(keeper, ModelCheckpoint) and keeper.save_last and keeper.dirpath is not None:
            if path == join(keeper.dirpath, f"{keeper.CHECKPOINT_NAME_LAST}.ckpt"):
                keeper.last_model_path = str(path)  # its own last file now (saved in the checkpoint's state)
        trainer.save_checkpoint(path)
        self.recorder.restore()
        raise StopSignal(
            signum,
            f"stopped by {signal.Signals(signum).name} at global step {trainer.global_step} "
            f"(epoch {trainer.current_epoch}); resume with --ckpt_path {path}",
        )

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.recorder.restore()  # before Lightning's teardown restores the handlers it found

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        self.recorder.restore()

    # ------------------------------------------------------------------------------------------ where
    def checkpoint_path(self, trainer: L.Trainer) -> PathOrURL:
        """``<dirpath>/<filename>.ckpt`` (the same path on every rank; a URL as a string)."""
        folder = self.dirpath
        if folder is None and trainer.checkpoint_callback is not None:
            folder = getattr(trainer.checkpoint_callback, "dirpath", None)
        if folder is None:
            folder = join(run_dir(trainer), "checkpoints")
        return join(folder, f"{self.filename}.ckpt")
