"""Every use of Lightning's private API, and every workaround of its side effects, in one place.

Each function says why it is needed; when Lightning changes, this file is the one to check (written
against Lightning 2.6). A private attribute that is gone leaves the public behaviour: no trainer, log every
batch, DDP's own defaults.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    import lightning as L


def attached_trainer(module: L.LightningModule) -> L.Trainer | None:
    """The module's trainer, or ``None`` when it has none (``module.trainer`` raises then).

    Private: Lightning has no public "is it attached" test, and checkpoint hooks also run from
    ``load_from_checkpoint``, without a trainer.
    """
    return getattr(module, "_trainer", None)


def logger_writes_now(trainer: L.Trainer) -> bool:
    """Whether the logger writes this batch's step metrics (``log_every_n_steps``); True when unknown.

    Private: the decision lives in ``trainer._logger_connector.should_update_logs``, and recomputing it means
    reading private loop counters as well. The module asks so that it calls ``self.log`` only on those
    batches: ``self.log`` costs about a millisecond per key, more than a small GPU step.
    """
    connector = getattr(trainer, "_logger_connector", None)
    return bool(getattr(connector, "should_update_logs", True))


def expect_unused_parameters(strategy: Any) -> None:
    """Make a DDP strategy's reducer expect parameters without gradients (before it wraps the model).

    Private: ``DDPStrategy`` keeps the keyword arguments of ``DistributedDataParallel`` in ``_ddp_kwargs`` and
    offers no setter. Each GAN phase leaves the other network without gradients, so the reducer must not wait
    for them; the CLI maps ``"ddp"`` to ``"ddp_find_unused_parameters_true"``, this covers the Python API.
    A static graph already handles unused parameters.
    """
    ddp_kwargs = getattr(strategy, "_ddp_kwargs", None)
    if isinstance(ddp_kwargs, dict) and not ddp_kwargs.get("static_graph"):
        ddp_kwargs["find_unused_parameters"] = True


def ignore_post_step_checkpoint_warning() -> None:
    """Silence Lightning's warning at every step-interval checkpoint of a manually optimised module.

    It says the checkpoint holds the weights *after* the optimiser step: for a GANModule that is exactly the
    state to resume from. The warning comes from ModelCheckpoint's batch hook, outside any code of ours that
    could scope it, so a filter is installed (once; ``filterwarnings`` drops an identical earlier filter)
    when a fit starts, not when the package is imported.
    """
    warnings.filterwarnings(
        "ignore", message="Using ModelCheckpoint with manual optimization and every_n_train"
    )


def skip_nvml_check_without_gpus() -> None:
    """On a machine without CUDA devices, let ``torch.cuda.is_available()`` use its cached runtime check.

    Importing Lightning sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` (so that a check never initialises CUDA before a
    fork); torch's Adam then asks ``torch.cuda.is_available()`` on every step, which tries to load NVML each
    time: about 0.1 ms per optimiser step on a CPU-only machine. Without GPUs there is nothing a fork could
    break, so the flag is dropped; with GPUs it is kept.
    """
    if os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK") == "1" and not torch.cuda.is_available():
        del os.environ["PYTORCH_NVML_BASED_CUDA_CHECK"]


def cluster_environment(trainer: L.Trainer) -> Any:
    """The Trainer's cluster environment (SLURMEnvironment, TorchElasticEnvironment, ...), or ``None``.

    Private: a single-device strategy does not expose it; the accelerator connector chose it for every strategy.
    ``SignalCheckpoint`` asks whether SLURM's auto-requeue owns the requeue signal.
    """
    environment = getattr(trainer.strategy, "cluster_environment", None)
    if environment is None:
        environment = getattr(getattr(trainer, "_accelerator_connector", None), "cluster_environment", None)
    return environment


def take_over_sigterm(trainer: L.Trainer) -> bool:
    """Whether Lightning's own SIGTERM handler has fired in this fit; clears its record.

    Private: Lightning keeps the record in ``trainer._signal_connector.received_sigterm`` (the public
    ``trainer.received_sigterm`` has no setter) and, while it is set, stops the loops at the next batch with
    ``SIGTERMException``, exit status 0 and no checkpoint. ``SignalCheckpoint`` replaces Lightning's handler when
    training starts and takes over a SIGTERM that arrived before, so that the run ends with a checkpoint instead.
    """
    connector = getattr(trainer, "_signal_connector", None)
    if not getattr(connector, "received_sigterm", False):
        return False
    connector.received_sigterm = False
    return True


def given_hyperparameters() -> dict[str, Any] | None:
    """The config LightningCLI hands to the module it instantiates (``None`` when built otherwise).

    Private: LightningCLI sets it in a context variable for ``save_hyperparameters`` and offers no accessor. Without it every module keeps only its plain-data
    arguments (``load_from_checkpoint`` then needs the networks as keyword arguments).
    """
    try:
        from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters
    except ImportError:
        return None
    return _given_hyperparameters.get()


#: Subclass lists in --help longer than this are cut to the library's own classes.
MAX_LISTED_SUBCLASSES = 30


def concise_subclass_help() -> None:
    """Shorten jsonargparse's "known subclasses" in ``--help``: for a parameter typed ``nn.Module`` it lists
    every module class torch defines (``fit --model.help WGANGP`` printed 1,600 lines). Lists longer than
    :data:`MAX_LISTED_SUBCLASSES` keep the library's networks (else its classes) and count the others.

    Private: ``ActionTypeHint.extra_help`` of jsonargparse (4.x) has no public option for this.
    """
    try:
        from jsonargparse._typehints import ActionTypeHint, get_all_subclass_paths
    except ImportError:  # another jsonargparse: its own (long) lists
        return
    if getattr(ActionTypeHint.extra_help, "concise", False):
        return

    def extra_help(self: Any) -> str:
        paths = get_all_subclass_paths(self._typehint, closed_types=False)
        if len(paths) <= MAX_LISTED_SUBCLASSES:
            return ", known subclasses: " + ", ".join(paths) if paths else ""
        # an nn.Module parameter is a network: the library's networks, not its metrics or modules
        own = [p for p in paths if p.startswith("gan_lightning.networks.")]
        own = own or [p for p in paths if p.startswith("gan_lightning.")]
        others = f"{len(paths) - len(own)} others, e.g. {paths[0]}: any importable class_path"
        return ", known subclasses: " + ", ".join([*own, others])

    extra_help.concise = True
    ActionTypeHint.extra_help = extra_help
