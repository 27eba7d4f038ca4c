"""Class-conditional networks: G(z, y) and D(x, y) for any objective (Mirza & Osindero, 2014,
arXiv:1411.1784).

Each is its unconditional network with the label fed in, so a config swaps ``MLPGenerator`` for
``ConditionalMLPGenerator`` and nothing else changes; the training core sees ``generator.num_classes > 0``,
passes the batch's labels to both networks and draws each fake with the label of a real sample.

* Generators concatenate a learned label embedding e(y) to z, and keep the prior p(y) that unconditional
  sampling draws labels from: uniform over the classes, or the cluster frequencies of self-conditioned data
  (``MNISTDataModule(cluster_labels=k)``), which the training core copies in at setup.
* Discriminators either concatenate e(y) to the input (to a vector, or as constant feature maps to an image),
  or, with ``projection``, add the projection term of Miyato & Koyama (2018, arXiv:1802.05637): D(x, y) =
  psi(phi(x)) + <V e_y, phi(x)>, phi(x) the last hidden activations (summed over positions for images).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as spectral_normed

from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator, Norm
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator


def _check_classes(num_classes: int) -> None:
    if num_classes < 2:
        raise ValueError(f"num_classes of a conditional network must be at least 2, got {num_classes}")


def _projection(num_classes: int, dim: int, spectral_norm: bool) -> nn.Embedding:
    """V of the projection discriminator: one vector per class, small at the start so D starts
    unconditional."""
    embedding = nn.Embedding(num_classes, dim)
    nn.init.normal_(embedding.weight, 0.0, 0.02)
    return spectral_normed(embedding) if spectral_norm else embedding


class LabelPrior(nn.Module):
    """Mixin of the conditional generators: the buffer ``label_prior``, the frequencies p(y) of the cluster
    labels the generator was trained on, or zeros (the default) for class labels, drawn uniformly."""

    num_classes: int

    def _init_label_prior(self) -> None:
        self.register_buffer("label_prior", torch.zeros(self.num_classes))
        # Whether label_prior is set, kept on the host: reading the buffer to draw labels at every step would
        # wait for the GPU each time.
        self.has_label_prior = False

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:  # noqa: ANN001
        # Checkpoints from before the prior (class labels only) load with the default.
        state_dict.setdefault(f"{prefix}label_prior", torch.zeros_like(self.label_prior))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.has_label_prior = bool(self.label_prior.sum() > 0)


def self_conditioned(generator: nn.Module) -> bool:
    """Whether a generator's labels are clusters of the data with a prior (not classes drawn uniformly)."""
    return bool(getattr(generator, "has_label_prior", False))


def fill_missing_label_priors(module: nn.Module, state_dict: dict[str, Tensor]) -> None:
    """Give a checkpoint from before the prior (class labels only) the default of every ``label_prior``."""
    for name, buffer in module.named_buffers():
        if name.rsplit(".", 1)[-1] == "label_prior":
            state_dict.setdefault(name, torch.zeros_like(buffer))


def set_label_prior(generator: nn.Module, prior: Tensor) -> None:
    """Give a conditional generator the frequencies of its data's cluster labels (see :class:`LabelPrior`)."""
    k = getattr(generator, "num_classes", 0) or 0
    if not isinstance(getattr(generator, "label_prior", None), Tensor) or k != len(prior):
        raise ValueError(
            f"the data labels its images by {len(prior)} clusters (data.cluster_labels): model.generator must be "
            f"a conditional generator with num_classes {len(prior)} (it has {k or 'none'}), and so must "
            "model.discriminator"
        )
    generator.label_prior.copy_(prior)
    generator.has_label_prior = bool(prior.sum() > 0)


def use_data_label_prior(module: nn.Module, datamodule: object) -> None:
    """At a GAN module's setup: the cluster frequencies of a self-conditioned data module into its generator and
    the generator's EMA copy (which exists by then), and its grid labels drawn from them; else nothing."""
    prior = getattr(datamodule, "label_prior", None)
    if prior is None:
        return
    for generator in filter(None, (module.generator, getattr(module, "ema_generator", None))):
        set_label_prior(generator, prior)
    module.fixed_labels = module.grid_labels(len(module.fixed_z)).to(module.fixed_z.device)


def draw_labels(
    generator: nn.Module, n: int, rng: torch.Generator | None = None, device: torch.device | None = None
) -> Tensor:
    """n labels for a conditional generator: from its cluster prior when self-conditioned, else uniform.

    They are drawn where ``rng`` (a seeded torch.Generator) lives, else on ``device``, and returned on ``device``.
    """
    where = rng.device if rng is not None else device
    if self_conditioned(generator):
        prior = generator.label_prior.to(where)
        return torch.multinomial(prior, n, replacement=True, generator=rng).to(device)
    return torch.randint(generator.num_classes, (n,), generator=rng, device=where).to(device)


def grid_width(generator: nn.Module, n: int) -> int:
    """Images per row in a grid of ``n`` samples: one class a row for class labels, else square."""
    k = getattr(generator, "num_classes", 0) or 0
    return max(1, n // k) if k and not self_conditioned(generator) else max(1, int(n**0.5))


def grid_labels(generator: nn.Module, n: int) -> Tensor:
    """Labels of ``n`` grid samples, matching :func:`grid_width`'s rows: classes 0, 1, ..., k - 1 a row each;
    clusters drawn from their prior (seeded), as an unconditional model's samples; zeros when unconditional."""
    k = getattr(generator, "num_classes", 0) or 0
    if k and self_conditioned(generator):
        return draw_labels(generator, n, torch.Generator().manual_seed(0))
    return torch.arange(n) // grid_width(generator, n) % k if k else torch.zeros(n, dtype=torch.long)


class ConditionalMLPGenerator(LabelPrior, MLPGenerator):
    """(z, y) -> x: an :class:`MLPGenerator` whose input is [z, e(y)].

    Args:
        num_classes: number of labels y in {0, ..., num_classes - 1}.
        latent_dim: size of z (the label embedding comes on top).
        hidden_dim: units of each hidden layer.
        depth: number of hidden layers.
        out_dim: size of x.
        embed_dim: size of e(y); ``None`` uses ``num_classes``.
    """

    def __init__(
        self,
        num_classes: int = 8,
        latent_dim: int = 2,
        hidden_dim: int = 512,
        depth: int = 3,
        out_dim: int = 2,
        embed_dim: int | None = None,
    ) -> None:
        _check_classes(num_classes)
        embed_dim = embed_dim or num_classes
        super().__init__(latent_dim + embed_dim, hidden_dim, depth, out_dim)
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.embed = nn.Embedding(num_classes, embed_dim)
        self._init_label_prior()

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return super().forward(torch.cat([z, self.embed(labels)], 1))


class ConditionalMLPDiscriminator(MLPDiscriminator):
    """(x, y) -> one raw score: an :class:`MLPDiscriminator` on [x, e(y)], or with a projection term.

    Args:
        num_classes: number of labels.
        in_dim: size of x.
        hidden_dim: units of each hidden layer.
        depth: number of hidden layers (at least 1 for ``projection``).
        projection: condition by the projection term instead of concatenating e(y) to x.
        embed_dim: size of e(y) when concatenating; ``None`` uses ``num_classes``.
        spectral_norm: spectral normalisation of every weight (the projection's V included).
    """

    def __init__(
        self,
        num_classes: int = 8,
        in_dim: int = 2,
        hidden_dim: int = 512,
        depth: int = 3,
        projection: bool = False,
        embed_dim: int | None = None,
        spectral_norm: bool = False,
    ) -> None:
        _check_classes(num_classes)
        if projection and depth < 1:
            raise ValueError("a projection discriminator needs hidden features: set depth >= 1")
        embed_dim = 0 if projection else embed_dim or num_classes
        super().__init__(in_dim + embed_dim, hidden_dim, depth, spectral_norm)
        self.num_classes, self.projection = num_classes, projection
        self.embed = (
            _projection(num_classes, hidden_dim, spectral_norm)
            if projection
            else nn.Embedding(num_classes, embed_dim)
        )

    def features(self, x: Tensor, labels: Tensor) -> Tensor:
        """phi(x) (with a projection) or phi([x, e(y)]): the last hidden activations."""
        return super().features(x if self.projection else torch.cat([x, self.embed(labels)], 1))

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        h = self.features(x, labels)
        score = self.net[-1](h).squeeze(-1)
        return score + (self.embed(labels) * h).sum(1) if self.projection else score


class ConditionalDCGANGenerator(LabelPrior, DCGANGenerator):
    """(z, y) -> image: a :class:`DCGANGenerator` whose input is [z, e(y)].

    Args:
        num_classes: number of labels.
        latent_dim: size of z (the label embedding comes on top).
        image_size: 28, 32 or 64.
        channels: image channels.
        width: channels of the last hidden layer.
        embed_dim: size of e(y); ``None`` uses ``num_classes``.
    """

    def __init__(
        self,
        num_classes: int = 10,
        latent_dim: int = 100,
        image_size: int = 28,
        channels: int = 1,
        width: int = 64,
        embed_dim: int | None = None,
    ) -> None:
        _check_classes(num_classes)
        embed_dim = embed_dim or num_classes
        super().__init__(latent_dim + embed_dim, image_size, channels, width)
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.embed = nn.Embedding(num_classes, embed_dim)
        self._init_label_prior()

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return super().forward(torch.cat([z.flatten(1), self.embed(labels)], 1))


class ConditionalDCGANDiscriminator(DCGANDiscriminator):
    """(image, y) -> one raw score: a :class:`DCGANDiscriminator` with e(y) as extra input channels, or with a
    projection term on the globally summed last feature map (Miyato & Koyama, 2018).

    Args:
        num_classes: number of labels.
        image_size: 28, 32 or 64.
        channels: image channels.
        width: channels of the first convolution.
        norm: normalisation after every convolution but the first (see :class:`DCGANDiscriminator`).
        projection: condition by the projection term instead of label channels.
        embed_dim: label channels when concatenating; ``None`` uses ``num_classes``.
        spectral_norm: spectral normalisation of every weight (the projection's V included).
    """

    def __init__(
        self,
        num_classes: int = 10,
        image_size: int = 28,
        channels: int = 1,
        width: int = 64,
        norm: Norm = "batch",
        projection: bool = False,
        embed_dim: int | None = None,
        spectral_norm: bool = False,
    ) -> None:
        _check_classes(num_classes)
        embed_dim = 0 if projection else embed_dim or num_classes
        super().__init__(image_size, channels + embed_dim, width, norm, spectral_norm)
        self.num_classes, self.projection = num_classes, projection
        last_channels = self.head.in_channels
        self.embed = (
            _projection(num_classes, last_channels, spectral_norm)
            if projection
            else nn.Embedding(num_classes, embed_dim)
        )

    def _feature_map(self, x: Tensor, labels: Tensor) -> Tensor:
        if not self.projection:  # labels as constant maps beside the image channels
            maps = self.embed(labels)[:, :, None, None].expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, maps], 1)
        return self.body(x)

    def features(self, x: Tensor, labels: Tensor) -> Tensor:
        """Flattened activations before the last layer."""
        return self._feature_map(x, labels).flatten(1)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        h = self._feature_map(x, labels)
        score = self.head(h).flatten()
        return score + (self.embed(labels) * h.sum((2, 3))).sum(1) if self.projection else score
