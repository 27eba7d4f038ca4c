"""The training core: one LightningModule that alternates critic and generator steps by hand.

A variant subclasses :class:`GANModule` and writes only its two losses (``discriminator_loss`` and
``generator_loss``) and, if it needs them, its default optimisers. Networks are plain ``nn.Module``s passed in,
so they know nothing of losses.

Schedule (the contract the tests pin):

* one batch from the data loader = one critic step on that real batch (WGAN-GP, Algorithm 1, draws a fresh
  real minibatch for every critic iteration);
* after every ``n_critic``-th critic step, one generator step on a fresh latent batch;
* ``trainer.global_step`` counts optimiser steps of *both* networks (Lightning's manual-optimisation rule):
  after B batches it is ``B + B // n_critic``. To train for N generator steps, set
  ``trainer.max_steps = N * (n_critic + 1)``; ``generator_steps`` and ``critic_steps`` hold the counts and
  are saved in checkpoints.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from gan_lightning.checkpoints import rng_states, set_rng_states
from gan_lightning.techniques import Technique


def all_finite(tensors: list[Tensor]) -> Tensor:
    """A 0-dim bool tensor on their device: no inf or NaN in any of ``tensors`` (reading it syncs).

    The largest magnitude of each tensor carries inf and NaN through and, unlike a 2-norm, never overflows on
    finite values. ``_foreach_max`` of ``_foreach_abs`` is fused on GPUs and 15 times faster on the CPU than
    ``_foreach_norm(..., inf)`` (0.26 against 4.0 ms for the DCGAN 28x28 generator's gradients).
    """
    tensors = [t for t in tensors if t.numel()]  # the max of an empty tensor is an error
    if not tensors:
        return torch.ones((), dtype=torch.bool)
    if hasattr(torch, "_foreach_max"):  # torch >= 2.6
        largest = torch._foreach_max(torch._foreach_abs(tensors))
    else:
        largest = torch._foreach_norm(tensors, float("inf"))
    return torch.isfinite(torch.stack(largest)).all()


def skip_nvml_check_without_gpus() -> None:
    """On a machine without CUDA devices, let ``torch.cuda.is_available()`` use its cached runtime check.

    Importing Lightning sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` (so that a check never initialises CUDA before a
    fork); torch's Adam then asks ``torch.cuda.is_available()`` on every step, which tries to load NVML each
    time: about 0.1 ms per optimiser step on a CPU-only machine. Without GPUs there is nothing a fork could
    break, so the flag is dropped; with GPUs it is kept.
    """
    if os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK") == "1" and not torch.cuda.is_available():
        del os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"]


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
        techniques: options that edit the variant's loss terms, e.g. feature matching or historical averaging
            (see ``gan_lightning.techniques``); applied in order after the variant's own losses.
        on_nonfinite: what a non-finite loss or gradient does: ``"raise"`` stops training with a
            FloatingPointError; ``"skip"`` skips that optimiser step (no update; logged as
            ``train/nonfinite_skipped``) and gives up after ``max_nonfinite_steps`` in a row of one network.
            Either way no non-finite update reaches the weights, so checkpoints stay finite.
        max_nonfinite_steps: consecutive skipped steps of one network after which ``"skip"`` gives up.
        nonfinite_check: when ``"raise"`` reads its check. ``"step"``: after every phase, before the update
            (a device-to-host sync per phase: free on the CPU, but it stalls a GPU's queue). ``"deferred"``: a
            flag kept on the device, read every ``DEFERRED_CHECK_INTERVAL`` batches, before every checkpoint and
            at the end of every epoch and of training; the run still stops with the step that failed and no
            checkpoint holds the non-finite weights, but the weights in memory may have taken the update.
            ``"auto"``: ``"deferred"`` on an accelerator with ``on_nonfinite="raise"``, else ``"step"``.
    """

    #: Batches between two reads of the deferred non-finite check (``nonfinite_check="deferred"``).
    DEFERRED_CHECK_INTERVAL = 100

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
    ) -> None:
        super().__init__()
        if on_nonfinite not in ("raise", "skip"):
            raise ValueError(f"model.on_nonfinite must be 'raise' or 'skip', got {on_nonfinite!r}")
        if nonfinite_check not in ("auto", "step", "deferred"):
            raise ValueError(
                f"model.nonfinite_check must be 'auto', 'step' or 'deferred', got {nonfinite_check!r}"
            )
        if nonfinite_check == "deferred" and on_nonfinite == "skip":
            raise ValueError(
                "model.nonfinite_check='deferred' cannot skip a step after it was taken: "
                "use on_nonfinite='raise' or nonfinite_check='step'"
            )
        if max_nonfinite_steps < 1:
            raise ValueError(f"model.max_nonfinite_steps must be >= 1, got {max_nonfinite_steps}")
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
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.g_scheduler, self.d_scheduler = g_scheduler, d_scheduler
        self.scheduler_interval = scheduler_interval
        self.n_critic = n_critic
        self.critic_steps = 0
        self.generator_steps = 0
        self.on_nonfinite, self.max_nonfinite_steps = on_nonfinite, max_nonfinite_steps
        self.nonfinite_skipped = 0  # optimiser steps skipped in this run
        self._nonfinite_in_a_row = {"d": 0, "g": 0}  # per network: one of them failing for ever must stop
        self.nonfinite_check = nonfinite_check
        self._deferred_checks = False  # resolved in on_fit_start, once the device is known
        #: The loss terms of the latest critic and generator steps ("train/d_loss", "train/g_loss", ...), as
        #: tensors; the logger and ``trainer.callback_metrics`` receive them every ``log_every_n_steps`` batches.
        self.latest_terms: dict[str, Tensor] = {}
        # Deferred mode: per network, the first global step with a non-finite loss or gradient, or -1.
        self._first_nonfinite: dict[str, Tensor] = {}
        self._rng_states_to_restore: list[dict[str, Any]] | None = None
        # Same latents every epoch (seeded), so sample grids show progress rather than noise.
        seeded = torch.Generator().manual_seed(0)
        self.register_buffer("fixed_z", torch.randn(num_samples, generator.latent_dim, generator=seeded))
        self.register_buffer("fixed_labels", self.grid_labels(num_samples), persistent=False)
        self.techniques = nn.ModuleList(techniques or [])
        for technique in self.techniques:
            technique.attach(self)

    # ------------------------------------------------------------------ networks as the losses see them
    @property
    def num_classes(self) -> int:
        """Number of classes of a conditional generator, 0 for an unconditional one."""
        return int(getattr(self.generator, "num_classes", 0) or 0)

    def grid_width(self, n: int) -> int:
        """Images per row in a grid of ``n`` samples: one class per row when conditional, else square."""
        k = self.num_classes
        return max(1, n // k) if k else max(1, int(n**0.5))

    def grid_labels(self, n: int) -> Tensor:
        """Labels of ``n`` grid samples (zeros when unconditional), matching :meth:`grid_width`'s rows."""
        k = self.num_classes
        if not k:
            return torch.zeros(n, dtype=torch.long)
        # One class per grid row (class 0, 1, ..., then again from 0 when n is not a multiple of k).
        return torch.arange(n) // self.grid_width(n) % k

    def sample_latent(self, n: int) -> Tensor:
        return torch.randn(n, self.generator.latent_dim, device=self.device)

    def sample_labels(self, n: int) -> Tensor | None:
        return torch.randint(self.num_classes, (n,), device=self.device) if self.num_classes else None

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z) (or G(z, y) for a conditional generator)."""
        return self.generator(z, labels) if self.num_classes else self.generator(z)

    def critic(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """D(x) (or D(x, y)): one raw score per sample, shape ``(B,)`` (per pack, ``(B / m,)``, with PacGAN)."""
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
        return getattr(self, "ema_generator", None) or self.generator

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
    def configure_optimizers(self):  # noqa: ANN201 - Lightning's own contract
        g_opt = self._make_optimizer("g_optimizer", self.g_optimizer, self.generator)
        d_opt = self._make_optimizer("d_optimizer", self.d_optimizer, self.discriminator)
        schedulers = [
            s(o) for s, o in ((self.g_scheduler, g_opt), (self.d_scheduler, d_opt)) if s is not None
        ]
        return [g_opt, d_opt], schedulers

    def _make_optimizer(self, key: str, factory: OptimizerCallable | None, network: nn.Module):
        cls, kwargs = self.default_optimizer
        try:
            return (factory or (lambda p: cls(p, **kwargs)))(network.parameters())
        except ValueError as error:  # torch.optim: "Invalid learning rate: -1.0"
            raise ValueError(
                f"model.{key}: {error} (learning rate, eps and weight decay must be >= 0, betas in [0, 1))"
            ) from error

    def _scheduler_of(self, network: str):  # noqa: ANN202
        wanted = self.g_scheduler if network == "g" else self.d_scheduler
        if wanted is None:
            return None
        schedulers = self.lr_schedulers()
        schedulers = schedulers if isinstance(schedulers, list) else [schedulers]
        # configure_optimizers lists the generator's first when both exist.
        return schedulers[0] if network == "g" or self.g_scheduler is None else schedulers[-1]

    def _step(self, network: str, optimizer, terms: dict[str, Tensor]) -> None:  # noqa: ANN001
        loss = terms["loss"]
        if self._deferred_checks:
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            self._record_nonfinite(network, loss, optimizer)  # no sync: read later (nonfinite_check)
        else:
            # All ranks decide together: a rank that skipped its backward pass would leave the others waiting
            # in DDP's gradient all-reduce for ever.
            if not self.trainer.strategy.reduce_boolean_decision(bool(torch.isfinite(loss)), all=True):
                self.on_nonfinite_loss(network, terms)
                return
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            if not bool(self._gradients_finite(optimizer)):  # identical on all ranks: DDP averaged them
                optimizer.zero_grad(set_to_none=True)
                self.on_nonfinite_loss(network, terms, what="gradient")
                return
            self._nonfinite_in_a_row[network] = 0
        optimizer.step()
        # Free the gradients now: memory between phases, and no stale gradient is ever read by the other phase.
        optimizer.zero_grad(set_to_none=True)
        if self.scheduler_interval == "step" and (scheduler := self._scheduler_of(network)) is not None:
            scheduler.step()

    def _gradients_finite(self, optimizer) -> Tensor | bool:  # noqa: ANN001
        """True, or a 0-dim bool tensor on the device (reading it syncs)."""
        if getattr(self.trainer.precision_plugin, "scaler", None) is not None:
            return True  # 16-mixed: the GradScaler skips steps with inf/NaN gradients and lowers its scale
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return True
        return all_finite(grads)

    def _record_nonfinite(self, network: str, loss: Tensor, optimizer) -> None:  # noqa: ANN001
        finite = torch.isfinite(loss.detach()) & self._gradients_finite(optimizer)
        first = self._first_nonfinite.get(network)
        if first is None:
            first = self._first_nonfinite[network] = torch.full((), -1, dtype=torch.long, device=loss.device)
        self._first_nonfinite[network] = torch.where(
            ~finite & (first < 0), torch.full_like(first, self.global_step), first
        )

    def _raise_recorded_nonfinite(self, when: str) -> None:
        """Deferred mode: read the flags (one sync) and stop the run if any rank saw a non-finite step."""
        if not self._deferred_checks or not self._first_nonfinite:
            return
        firsts = {network: int(step) for network, step in self._first_nonfinite.items()}
        bad = {network: step for network, step in firsts.items() if step >= 0}
        if not self.trainer.strategy.reduce_boolean_decision(bool(bad), all=False):
            return
        if not bad:
            raise FloatingPointError(f"non-finite loss or gradient on another rank (found {when})")
        network, step = min(bad.items(), key=lambda item: item[1])
        raise FloatingPointError(
            f"non-finite {'generator' if network == 'g' else 'discriminator'} loss or gradient at global step "
            f"{step} (found {when}, global step {self.global_step}; model.nonfinite_check reads its flag every "
            f"{self.DEFERRED_CHECK_INTERVAL} batches and before every checkpoint, which therefore holds no "
            "non-finite weight); lower the learning rate or check the data (or set model.on_nonfinite: skip)"
        )

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._deferred_checks and self.critic_steps % self.DEFERRED_CHECK_INTERVAL == 0:
            self._raise_recorded_nonfinite("at a periodic check")
        if self.latest_terms and self._logger_writes_now():
            self.log_dict(self.latest_terms, on_step=True, on_epoch=False, prog_bar=False, batch_size=1)

    def _logger_writes_now(self) -> bool:
        # self.log costs about a millisecond per key (Lightning moves each metric's state on every call), more
        # than a small GPU step: log only the batches whose metrics reach the logger, the first and the last.
        trainer = self.trainer
        connector = getattr(trainer, "_logger_connector", None)
        return bool(
            getattr(connector, "should_update_logs", True)
            or trainer.fast_dev_run
            or trainer.is_last_batch
            or trainer.should_stop
            or 0 < trainer.max_steps <= trainer.global_step
            or self.critic_steps == 1
        )

    def on_nonfinite_loss(self, network: str, terms: dict[str, Tensor], what: str = "loss") -> None:
        """Raise, or (``on_nonfinite="skip"``) count and log the skipped step; give up after too many."""
        values = ", ".join(f"{k}={v.item():.4g}" for k, v in terms.items())
        problem = (
            f"non-finite {'generator' if network == 'g' else 'discriminator'} {what} at global step "
            f"{self.global_step} ({values})"
        )
        advice = "lower the learning rate or check the data"
        if self.on_nonfinite == "raise":
            raise FloatingPointError(f"{problem}; {advice} (or set model.on_nonfinite: skip)")
        self.nonfinite_skipped += 1
        self._nonfinite_in_a_row[network] += 1
        self.log("train/nonfinite_skipped", float(self.nonfinite_skipped), on_step=True, batch_size=1)
        if self._nonfinite_in_a_row[network] >= self.max_nonfinite_steps:
            raise FloatingPointError(
                f"{problem}: {self._nonfinite_in_a_row[network]} non-finite steps in a row "
                f"(model.max_nonfinite_steps={self.max_nonfinite_steps}), giving up; {advice}"
            )
        if self.nonfinite_skipped == 1:
            rank_zero_warn(f"{problem}: step skipped (model.on_nonfinite=skip); later skips are only logged")

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
            terms = self.generator_loss(real, fake, labels)
            for technique in self.techniques:
                terms = technique.generator_terms(self, real, fake, labels, terms)
            self._step("g", g_opt, terms)
        self.generator_steps += 1
        self._log_terms("g", terms)

    def on_train_end(self) -> None:
        self._raise_recorded_nonfinite("at the end of training")

    def on_train_epoch_end(self) -> None:
        self._raise_recorded_nonfinite("at the end of an epoch")
        if self.scheduler_interval == "epoch":
            for network in ("g", "d"):
                if (scheduler := self._scheduler_of(network)) is not None:
                    scheduler.step()

    # ------------------------------------------------------------------ checkpoints and checks
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._raise_recorded_nonfinite("before saving a checkpoint")  # raising here writes no file
        checkpoint["gan_steps"] = {"critic": self.critic_steps, "generator": self.generator_steps}
        checkpoint["gan_variant"] = type(self).__name__
        # Every rank's RNG states (each rank draws its own latents): called on all ranks, saved by rank 0.
        states = rng_states()
        if self._trainer is not None and self.trainer.world_size > 1 and torch.distributed.is_initialized():
            gathered: list[Any] = [None] * self.trainer.world_size
            torch.distributed.all_gather_object(gathered, states)
            checkpoint["rng_states"] = gathered
        else:
            checkpoint["rng_states"] = [states]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # A checkpoint written with an EMA callback holds `ema_generator.*`: give it a home before the weights load.
        if getattr(self, "ema_generator", None) is None and any(
            k.startswith("ema_generator.") for k in checkpoint.get("state_dict", {})
        ):
            self.ema_generator = copy.deepcopy(self.generator).requires_grad_(False)
        steps = checkpoint.get("gan_steps", {})
        self.critic_steps = steps.get("critic", 0)
        self.generator_steps = steps.get("generator", 0)
        self._rng_states_to_restore = checkpoint.get("rng_states")  # applied in on_fit_start, on every rank
        if self._trainer is not None:
            self._check_checkpoint_fits(checkpoint)

    def _check_checkpoint_fits(self, checkpoint: dict[str, Any]) -> None:
        """One-line errors for a checkpoint of another variant or of other networks (before Lightning's strict
        load would print a page of mismatched keys)."""
        source = f"checkpoint {str(self.trainer.ckpt_path or '')!r}".replace(" ''", "")
        variant = checkpoint.get("gan_variant")
        if variant is not None and variant != type(self).__name__:
            raise ValueError(
                f"{source} was written by a {variant} model, but the config builds "
                f"{type(self).__name__}: set model.class_path to the checkpoint's variant"
            )
        if not self.strict_loading:
            return
        saved, own = checkpoint.get("state_dict", {}), self.state_dict()
        for key, value in own.items():
            if key not in saved:
                raise ValueError(
                    f"{source} does not fit this {type(self).__name__}: it lacks {key} "
                    "(other networks or techniques than the config's?)"
                )
            if tuple(saved[key].shape) != tuple(value.shape):
                raise ValueError(
                    f"{source} does not fit this {type(self).__name__}: {key} has shape "
                    f"{tuple(saved[key].shape)} there but {tuple(value.shape)} in the model "
                    "(check the networks' sizes in the config)"
                )
        if unexpected := [key for key in saved if key not in own]:
            raise ValueError(
                f"{source} does not fit this {type(self).__name__}: it has {unexpected[0]}, "
                "which the model lacks (other networks or techniques than the config's?)"
            )

    def on_fit_start(self) -> None:
        # Lightning gives every rank the same seed, so without this all ranks would draw the same latents
        # (a DDP global batch of N x B samples would hold only B distinct fakes). A resumed run instead gets
        # back each rank's saved streams.
        self._check_generator_fits_data()
        skip_nvml_check_without_gpus()
        self._deferred_checks = self.nonfinite_check == "deferred" or (
            self.nonfinite_check == "auto" and self.on_nonfinite == "raise" and self.device.type != "cpu"
        )
        self._first_nonfinite = {}
        states, self._rng_states_to_restore = self._rng_states_to_restore, None
        rank, world = self.global_rank, self.trainer.world_size
        if states is not None and len(states) == world:
            set_rng_states(states[rank])
            return
        if states is not None:
            rank_zero_warn(
                f"the checkpoint holds the random states of {len(states)} ranks, this run has "
                f"{world}: training continues with fresh random streams (not bit-exact)"
            )
        if world > 1:
            torch.manual_seed((torch.initial_seed() + 1_000_003 * rank) % 2**63)

    def setup(self, stage: str) -> None:
        # Under DDP each phase leaves the other network without gradients: the reducer must expect unused
        # parameters (the CLI maps "ddp" to "ddp_find_unused_parameters_true"; this covers the Python API).
        # Runs before the strategy wraps the model.
        ddp_kwargs = getattr(self.trainer.strategy, "_ddp_kwargs", None)
        if isinstance(ddp_kwargs, dict) and not ddp_kwargs.get("static_graph"):
            ddp_kwargs["find_unused_parameters"] = True

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
