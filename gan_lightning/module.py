"""The training core: one LightningModule that alternates critic and generator steps by hand.

A variant subclasses :class:`GANModule` and writes only its two losses (``discriminator_loss`` and
``generator_loss``) and, if it needs them, its default optimisers. Networks are plain ``nn.Module``s passed in,
so they know nothing of losses.

Schedule (the contract the tests pin):

* one batch from the data loader = one critic step on that real batch (WGAN-GP, Algorithm 1, draws a fresh
  real minibatch for every critic iteration);
* after every ``n_critic``-th critic step, one generator step on a fresh latent batch;
* ``trainer.global_step`` counts optimiser steps of *both* networks: ``B + B // n_critic`` after B batches
  (N generator steps: ``trainer.max_steps = N * (n_critic + 1)``); ``generator_steps`` and ``critic_steps``
  hold the counts and are saved in checkpoints.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.core.mixins.hparams_mixin import HyperparametersMixin
from lightning.pytorch.utilities.parsing import collect_init_args
from torch import Tensor, nn

from gan_lightning._lightning_compat import (
    attached_trainer,
    expect_unused_parameters,
    given_hyperparameters,
    ignore_post_step_checkpoint_warning,
    logger_writes_now,
    skip_nvml_check_without_gpus,
)
from gan_lightning.checkpoints import check_checkpoint_fits, gather_rng_states, restore_rng_streams
from gan_lightning.networks import conditional
from gan_lightning.nonfinite import NonFiniteGuard
from gan_lightning.techniques import Technique


class GANModule(L.LightningModule):
    """Base GAN: critic and generator alternate under manual optimisation.

    Args:
        generator: maps latents ``(B, latent_dim)`` (and labels, when conditional) to samples. Must expose
            ``latent_dim``.
        discriminator: maps samples (and labels, when conditional) to one score per sample, shape ``(B,)``.
        g_optimizer: builds the generator's optimiser from its parameters; ``None`` uses the variant's paper
            default (see ``default_optimizer``).
        d_optimizer: the same for the discriminator; a different learning rate here gives two time-scale updates.
        g_scheduler: optional learning-rate scheduler of the generator, stepped by the module.
        d_scheduler: optional learning-rate scheduler of the discriminator, stepped by the module.
        scheduler_interval: step the schedulers after every optimiser step of their network (``"step"``) or at
            the end of every epoch (``"epoch"``).
        n_critic: critic steps per generator step (one critic step per batch).
        num_samples: size of the fixed latent batch used for sample grids.
        techniques: options that edit the variant's loss terms, e.g. feature matching or historical averaging,
            or the batch its generator loss sees (top-k); see ``gan_lightning.techniques``; applied in order.
        on_nonfinite: what a non-finite loss or gradient does: ``"raise"`` stops training with a
            FloatingPointError; ``"skip"`` skips that optimiser step (logged as ``train/nonfinite_skipped``).
            Either way no non-finite update reaches the weights, so checkpoints stay finite.
        max_nonfinite_steps: consecutive skipped steps of one network after which ``"skip"`` gives up.
        nonfinite_check: when ``"raise"`` reads its check: ``"step"``, ``"deferred"`` or ``"auto"`` (see
            :class:`gan_lightning.nonfinite.NonFiniteGuard`).
        compile: ``torch.compile`` both networks in place when fit starts (checkpoints load either way); the
            penalties' critic calls (:meth:`critic`), the EMA copy and loaded checkpoints stay eager.
    """

    # Paper defaults, overridden by each variant: (optimiser class, keyword arguments).
    default_optimizer: tuple[type[torch.optim.Optimizer], dict[str, Any]] = (
        torch.optim.Adam,
        {"lr": 2e-4, "betas": (0.5, 0.999)},
    )

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        g_optimizer: OptimizerCallable | None = None,
        d_optimizer: OptimizerCallable | None = None,
        g_scheduler: LRSchedulerCallable | None = None,
        d_scheduler: LRSchedulerCallable | None = None,
        scheduler_interval: str = "epoch",
        n_critic: int = 1,
        num_samples: int = 64,
        techniques: list[Technique] | None = None,
        on_nonfinite: Literal["raise", "skip"] = "raise",
        max_nonfinite_steps: int = 10,
        nonfinite_check: Literal["auto", "step", "deferred"] = "auto",
        compile: bool = False,
    ) -> None:
        super().__init__()
        self._save_init_arguments(inspect.currentframe())
        nonfinite_guard = NonFiniteGuard(on_nonfinite, max_nonfinite_steps, nonfinite_check)  # checks them
        if n_critic < 1:
            raise ValueError(f"model.n_critic must be a positive integer, got {n_critic}")
        if scheduler_interval not in ("step", "epoch"):
            raise ValueError(
                f"model.scheduler_interval must be 'step' or 'epoch', got {scheduler_interval!r}"
            )
        if not hasattr(generator, "latent_dim"):
            raise ValueError(f"model.generator ({type(generator).__name__}) must expose `latent_dim`")
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        #: The generator's moving average, set by the ``GeneratorEMA`` callback or by a checkpoint that has one.
        self.ema_generator: nn.Module | None = None
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.g_scheduler, self.d_scheduler = g_scheduler, d_scheduler
        self.scheduler_interval = scheduler_interval
        self.n_critic = n_critic
        self.compile_networks = compile  # `self.compile` is nn.Module's method
        self.critic_steps = 0
        self.generator_steps = 0
        self.nonfinite_guard = nonfinite_guard
        #: The loss terms of the latest critic and generator steps ("train/d_loss", "train/g_loss", ...), as
        #: tensors; the logger and ``trainer.callback_metrics`` receive them every ``log_every_n_steps`` batches.
        self.latest_terms: dict[str, Tensor] = {}
        self._rng_states_to_restore: list[dict[str, Any]] | None = None
        # Same latents every epoch (seeded), so sample grids show progress rather than noise.
        seeded = torch.Generator().manual_seed(0)
        self.register_buffer("fixed_z", torch.randn(num_samples, generator.latent_dim, generator=seeded))
        self.register_buffer("fixed_labels", self.grid_labels(num_samples), persistent=False)
        self.techniques = nn.ModuleList(techniques or [])
        for technique in self.techniques:
            technique.attach(self)

    def _save_init_arguments(self, frame: Any) -> None:
        """``self.hparams``: what ``<Variant>.load_from_checkpoint(path)`` rebuilds the module from.

        Built by ``gan-lightning fit`` (LightningCLI), they are the config's ``init_args`` of the model: the
        networks, optimisers, schedulers and techniques as ``class_path`` dicts, which ``load_from_checkpoint``
        instantiates again through jsonargparse. Built in Python, only the arguments that are plain data
        (numbers, strings, lists of them) are kept: modules and callables would be pickled into the checkpoint,
        which weights-only loading refuses; pass them to ``load_from_checkpoint`` as keyword arguments then.
        The config already reaches the loggers (``SaveConfigToLoggers``), so these stay out of them.
        """
        init_args = given_hyperparameters()
        if init_args is None:
            if frame is None:  # an interpreter without frames: nothing to read the arguments from
                return
            init_args = {}
            for local_args in collect_init_args(frame, [], classes=(HyperparametersMixin,)):
                init_args.update(local_args)
        ignore = [name for name, value in init_args.items() if not _plain_data(value)]
        self.save_hyperparameters(ignore=ignore, frame=frame, logger=False)

    # ------------------------------------------------------------------ networks as the losses see them
    @property
    def num_classes(self) -> int:
        """Number of classes of a conditional generator, 0 for an unconditional one."""
        return int(getattr(self.generator, "num_classes", 0) or 0)

    def grid_width(self, n: int) -> int:
        return conditional.grid_width(self.generator, n)

    def grid_labels(self, n: int) -> Tensor:
        return conditional.grid_labels(self.generator, n)

    def sample_latent(self, n: int) -> Tensor:
        return torch.randn(n, self.generator.latent_dim, device=self.device)

    def sample_labels(self, n: int) -> Tensor | None:
        return conditional.draw_labels(self.generator, n, device=self.device) if self.num_classes else None

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z) (or G(z, y) for a conditional generator)."""
        return self.generator(z, labels) if self.num_classes else self.generator(z)

    def critic(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """D(x) (or D(x, y)): one raw score per sample, shape ``(B,)`` (per pack, ``(B / m,)``, with PacGAN).

        With ``compile``, a call on a leaf input that requires a gradient (how the input-gradient penalties call
        it) runs eager: a compiled graph has no double backward (PyTorch docs, "torch.compiler.set_stance").
        """
        eager = self.compile_networks and x.requires_grad and x.is_leaf
        with torch.compiler.set_stance("force_eager") if eager else contextlib.nullcontext():
            return (self.discriminator(x, labels) if self.num_classes else self.discriminator(x)).reshape(-1)

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples in eval mode and without gradients; the generator's mode is restored afterwards."""
        net = self.sampling_generator()
        was_training = net.training
        net.eval()
        try:
            z = self.sample_latent(n) if z is None else z.to(self.device)
            if self.num_classes and labels is None:
                labels = self.sample_labels(n)
            return net(z, labels) if self.num_classes else net(z)
        finally:
            net.train(was_training)

    def sampling_generator(self) -> nn.Module:
        """The generator used for samples and evaluation: its EMA copy when an EMA callback keeps one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    # ------------------------------------------------------------------ the two losses, written by variants
    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        """Terms of the critic's loss; ``"loss"`` is minimised, other keys are logged as ``train/d_<key>``."""
        raise NotImplementedError

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        """Terms of the generator's loss; ``"loss"`` is minimised, other keys are logged as ``train/g_<key>``."""
        raise NotImplementedError

    def after_discriminator_step(self) -> None:
        """Hook after each critic update (weight clipping lives here)."""

    # ------------------------------------------------------------------ optimisation
    def configure_optimizers(self):
        g_opt = self._make_optimizer("g_optimizer", self.g_optimizer, self.generator)
        d_opt = self._make_optimizer("d_optimizer", self.d_optimizer, self.discriminator)
        schedulers = [
            s(o) for s, o in ((self.g_scheduler, g_opt), (self.d_scheduler, d_opt)) if s is not None
        ]
        return [g_opt, d_opt], schedulers

    def _make_optimizer(self, key: str, factory: OptimizerCallable | None, network: nn.Module):
        cls, kwargs = self.default_optimizer
        try:
            optimizer = (factory or (lambda p: cls(p, **kwargs)))(network.parameters())
        except ValueError as error:  # torch.optim: "Invalid learning rate: -1.0"
            raise ValueError(
                f"model.{key}: {error} (learning rate, eps and weight decay must be >= 0, betas in [0, 1))"
            ) from error
        for group in optimizer.param_groups:  # torch.optim takes an infinite one (YAML's .inf)
            if not 0 <= float(group.get("lr", 0.0)) < float("inf"):
                raise ValueError(
                    f"model.{key}.init_args.lr: the learning rate must be a finite positive number, "
                    f"got {float(group['lr'])}"
                )
        return optimizer

    def _scheduler_of(self, network: str):
        wanted = self.g_scheduler if network == "g" else self.d_scheduler
        if wanted is None:
            return None
        schedulers = self.lr_schedulers()
        schedulers = schedulers if isinstance(schedulers, list) else [schedulers]
        # configure_optimizers lists the generator's first when both exist.
        return schedulers[0] if network == "g" or self.g_scheduler is None else schedulers[-1]

    def _step(self, network: str, optimizer, terms: dict[str, Tensor]) -> None:
        if not self.nonfinite_guard.backward(self, network, optimizer, terms):
            return  # a non-finite loss or gradient: this step is skipped
        optimizer.step()
        # Free the gradients now: memory between phases, and no stale gradient is ever read by the other phase.
        optimizer.zero_grad(set_to_none=True)
        if self.scheduler_interval == "step" and (scheduler := self._scheduler_of(network)) is not None:
            scheduler.step()

    @property
    def nonfinite_skipped(self) -> int:
        """Optimiser steps skipped in this run for a non-finite loss or gradient (``on_nonfinite="skip"``)."""
        return self.nonfinite_guard.skipped

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        self.nonfinite_guard.check_periodically(self, self.critic_steps)
        if self.latest_terms and self._logger_writes_now():
            self.log_dict(self.latest_terms, on_step=True, on_epoch=False, prog_bar=False, batch_size=1)

    def _logger_writes_now(self) -> bool:
        # self.log costs about a millisecond per key (Lightning moves each metric's state on every call), more
        # than a small GPU step: log only the batches whose metrics reach the logger, the first and the last.
        trainer = self.trainer
        return bool(
            logger_writes_now(trainer)
            or trainer.fast_dev_run
            or trainer.is_last_batch
            or trainer.should_stop
            or 0 < trainer.max_steps <= trainer.global_step
            or self.critic_steps == 1
        )

    def _log_terms(self, prefix: str, terms: dict[str, Tensor]) -> None:
        # Kept here every phase (no sync); handed to self.log in on_train_batch_end when the logger writes.
        self.latest_terms.update({f"train/{prefix}_{k}": v.detach() for k, v in terms.items()})

    def split_batch(self, batch: Any) -> tuple[Tensor, Tensor | None]:
        """(samples, labels) from a batch; labels are kept only for a conditional model."""
        # (x,), (x, y) or (x, y, ...): a TensorDataset of x alone gives [x].
        if isinstance(batch, (list, tuple)):
            real, labels = batch[0], (batch[1] if len(batch) > 1 else None)
        else:
            real, labels = batch, None
        return real, (labels if self.num_classes else None)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        real, labels = self.split_batch(batch)
        g_opt, d_opt = self.optimizers()
        n = real.shape[0]

        # Critic phase: D maximises the game's value (minimises d_loss); fakes carry no graph into G.
        # A conditional model draws its fakes with the real batch's labels, so one `labels` serves both.
        with torch.no_grad():
            fake = self(self.sample_latent(n), labels)
        with self.toggled_optimizer(d_opt):
            terms = self.discriminator_loss(real, fake, labels)
            for technique in self.techniques:
                terms = technique.discriminator_terms(self, real, fake, labels, terms)
            self._step("d", d_opt, terms)
        self.after_discriminator_step()
        self.critic_steps += 1
        self._log_terms("d", terms)

        if self.critic_steps % self.n_critic:
            return
        # Generator phase: G minimises its loss through the (frozen) critic.
        with self.toggled_optimizer(g_opt):
            fake = self(self.sample_latent(n), labels)
            for technique in self.techniques:
                real, fake, labels = technique.generator_batch(self, real, fake, labels)
            terms = self.generator_loss(real, fake, labels)
            for technique in self.techniques:
                terms = technique.generator_terms(self, real, fake, labels, terms)
            self._step("g", g_opt, terms)
        self.generator_steps += 1
        self._log_terms("g", terms)

    def on_train_end(self) -> None:
        self.nonfinite_guard.raise_recorded(self, "at the end of training")

    def on_train_epoch_end(self) -> None:
        self.nonfinite_guard.raise_recorded(self, "at the end of an epoch")
        if self.scheduler_interval == "epoch":
            for network in ("g", "d"):
                if (scheduler := self._scheduler_of(network)) is not None:
                    scheduler.step()

    # ------------------------------------------------------------------ checkpoints and checks
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.nonfinite_guard.raise_recorded(self, "before saving a checkpoint")  # raising here writes no file
        checkpoint["gan_steps"] = {"critic": self.critic_steps, "generator": self.generator_steps}
        checkpoint["gan_variant"] = type(self).__name__
        trainer = attached_trainer(self)
        checkpoint["rng_states"] = gather_rng_states(trainer.world_size if trainer is not None else 1)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # A checkpoint written with an EMA callback holds `ema_generator.*`: give it a home before the weights load.
        if self.ema_generator is None and any(
            k.startswith("ema_generator.") for k in checkpoint.get("state_dict", {})
        ):
            self.ema_generator = copy.deepcopy(self.generator).requires_grad_(False)
        conditional.fill_missing_label_priors(self, checkpoint.get("state_dict", {}))
        steps = checkpoint.get("gan_steps", {})
        self.critic_steps = steps.get("critic", 0)
        self.generator_steps = steps.get("generator", 0)
        self._rng_states_to_restore = checkpoint.get("rng_states")  # applied in on_fit_start, on every rank
        if (trainer := attached_trainer(self)) is not None:
            check_checkpoint_fits(self, checkpoint, trainer.ckpt_path)

    def on_fit_start(self) -> None:
        self._check_generator_fits_data()
        skip_nvml_check_without_gpus()
        self.nonfinite_guard.start(self.device)
        if self.compile_networks:
            # In place (state_dict keys unchanged), after GeneratorEMA's copy, which stays eager.
            self.generator.compile()
            self.discriminator.compile()
        # Each rank its own random streams: the saved ones of a resumed run, else an offset of the seed.
        states, self._rng_states_to_restore = self._rng_states_to_restore, None
        restore_rng_streams(states, self.global_rank, self.trainer.world_size)

    def setup(self, stage: str) -> None:
        # Runs before the strategy wraps the model: each phase leaves the other network without gradients.
        expect_unused_parameters(self.trainer.strategy)
        ignore_post_step_checkpoint_warning()
        conditional.use_data_label_prior(self, self.trainer.datamodule)  # self-conditioned data

    def _check_generator_fits_data(self) -> None:
        # Called once the networks are on their device (in setup they may still be on the CPU).
        datamodule = getattr(self.trainer, "datamodule", None)
        expected = getattr(datamodule, "data_shape", None)
        if expected is None:
            return
        produced = tuple(self.generate(2).shape[1:])
        if produced != tuple(expected):
            raise ValueError(
                f"model.generator produces samples of shape {produced} but the data has shape {tuple(expected)}: "
                "make the generator's image_size/channels (or out_dim) match the data module's"
            )


def _plain_data(value: Any) -> bool:
    """Whether ``value`` is made of None, bools, numbers and strings only (what weights-only loading reads)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain_data(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_data(v) for k, v in value.items())
    return False
