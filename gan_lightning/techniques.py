"""Improved-GAN techniques (Salimans et al., 2016, "Improved Techniques for Training GANs", arXiv:1606.03498)
as options of any variant.

Design: the techniques that change a *loss* are small modules passed in a list to any variant
(``model.techniques``); after the variant computes its loss terms, the training core hands them to each
technique, which may add a term (historical averaging) or replace the generator's loss (feature matching). The
variant never knows, so every objective gets every technique without one subclass per combination. The
technique that changes the *network* is a network: ``gan_lightning.networks.MinibatchDiscriminator`` wraps any
discriminator. One-sided label smoothing belongs to the cross-entropy loss and so is its option
(``real_label`` of the NSGAN family).

    model:
      class_path: gan_lightning.variants.NSGAN
      init_args:
        real_label: 0.9
        techniques:
          - class_path: gan_lightning.techniques.FeatureMatching
          - class_path: gan_lightning.techniques.HistoricalAveraging
        discriminator:
          class_path: gan_lightning.networks.MinibatchDiscriminator
          init_args: {discriminator: {class_path: gan_lightning.networks.DCGANDiscriminator}}
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import Tensor, nn

from gan_lightning.losses import feature_matching_loss
from gan_lightning.penalties import has_batch_norm, zero_centered_gradient_penalty

Terms = dict[str, Tensor]


class GANLike(Protocol):
    """What a technique uses of the GAN it is attached to (a ``GANModule`` is one)."""

    generator: nn.Module
    discriminator: nn.Module
    training: bool
    critic_steps: int
    current_epoch: int

    @property
    def num_classes(self) -> int: ...

    def critic(self, x: Tensor, labels: Tensor | None = None) -> Tensor: ...


class Technique(nn.Module):
    """An option that edits a variant's loss terms. Buffers it registers are saved in checkpoints.

    ``terms`` is the dict a variant's ``discriminator_loss``/``generator_loss`` returned: ``"loss"`` is
    minimised, every other key is logged. A technique returns the (possibly changed) dict.
    """

    def attach(self, gan: GANLike) -> None:
        """Called once by the GANModule when its networks exist (to check them or size buffers)."""

    def discriminator_terms(
        self, gan: GANLike, real: Tensor, fake: Tensor, labels: Tensor | None, terms: Terms
    ) -> Terms:
        return terms

    def generator_terms(
        self, gan: GANLike, real: Tensor, fake: Tensor, labels: Tensor | None, terms: Terms
    ) -> Terms:
        return terms

    def generator_batch(
        self, gan: GANLike, real: Tensor, fake: Tensor, labels: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """The (real, fake, labels) the generator's loss sees, called before it (e.g. a subset of them)."""
        return real, fake, labels


def discriminator_features(gan: GANLike, x: Tensor, labels: Tensor | None) -> Tensor:
    """phi(x) (or phi(x, y)) of the model's discriminator."""
    net = gan.discriminator
    return net.features(x, labels) if gan.num_classes else net.features(x)


class FeatureMatching(Technique):
    """G matches the mean of D's features on real data: ||E f(x) - E f(G(z))||^2 (Salimans et al., 3.1).

    Args:
        weight: weight of the feature-matching term.
        replace: the term replaces the variant's generator loss (the paper); ``False`` adds it. The
            variant's own loss is still logged as ``train/g_adversarial``.
    """

    def __init__(self, weight: float = 1.0, replace: bool = True) -> None:
        super().__init__()
        self.weight, self.replace = weight, replace

    def attach(self, gan: GANLike) -> None:
        if not callable(getattr(gan.discriminator, "features", None)):
            raise ValueError(
                f"model.techniques: FeatureMatching needs a discriminator with `features(x)`; "
                f"{type(gan.discriminator).__name__} has none"
            )

    def generator_terms(
        self, gan: GANLike, real: Tensor, fake: Tensor, labels: Tensor | None, terms: Terms
    ) -> Terms:
        with torch.no_grad():
            real_features = discriminator_features(gan, real, labels)
        matching = feature_matching_loss(real_features, discriminator_features(gan, fake, labels))
        base = 0 if self.replace else terms["loss"]
        return {
            **terms,
            "adversarial": terms["loss"],
            "feature_matching": matching,
            "loss": base + self.weight * matching,
        }


class HistoricalAveraging(Technique):
    """Adds w ||theta - mean(theta_1, ..., theta_t)||^2 to a network's loss (Salimans et al., section 3.3).

    The running mean includes the current parameters and is updated once per training step of that network; it
    is kept in buffers, so it is checkpointed and resumed. A weight of 0 leaves that network alone.

    Args:
        discriminator_weight: w for the discriminator's loss.
        generator_weight: w for the generator's loss.
    """

    def __init__(self, discriminator_weight: float = 1.0, generator_weight: float = 0.0) -> None:
        super().__init__()
        self.weights = {"d": discriminator_weight, "g": generator_weight}

    def attach(self, gan: GANLike) -> None:
        for key, network in (("d", gan.discriminator), ("g", gan.generator)):
            if self.weights[key]:
                self.register_buffer(f"{key}_count", torch.zeros((), dtype=torch.long))
                for i, p in enumerate(network.parameters()):
                    self.register_buffer(f"{key}_mean_{i}", p.detach().clone())

    def penalty(self, key: str, network: nn.Module, update: bool) -> Tensor:
        """||theta - running mean||^2 of one network, after adding the current theta to the mean."""
        params = list(network.parameters())
        means = [getattr(self, f"{key}_mean_{i}") for i in range(len(params))]
        count = getattr(self, f"{key}_count")
        if update:
            with torch.no_grad():
                count += 1
                for p, mean in zip(params, means, strict=True):
                    mean.add_((p - mean) / count)
        return sum((p - mean).pow(2).sum() for p, mean in zip(params, means, strict=True))

    def _add(self, key: str, network: nn.Module, update: bool, terms: Terms) -> Terms:
        if not self.weights[key]:
            return terms
        penalty = self.penalty(key, network, update)
        return {**terms, "loss": terms["loss"] + self.weights[key] * penalty, "historical_average": penalty}

    def discriminator_terms(
        self, gan: GANLike, real: Tensor, fake: Tensor, labels: Tensor | None, terms: Terms
    ) -> Terms:
        return self._add("d", gan.discriminator, gan.training, terms)

    def generator_terms(
        self, gan: GANLike, real: Tensor, fake: Tensor, labels: Tensor | None, terms: Terms
    ) -> Terms:
        return self._add("g", gan.generator, gan.training, terms)


class R1R2Penalty(Technique):
    """Zero-centred gradient penalties on the critic: r1_gamma / 2 E_x[||grad D(x)||^2] on real samples (R1)
    plus r2_gamma / 2 E_z[||grad D(G(z))||^2] on generated ones (R2), added to the critic's loss.

    Mescheder, Geiger, Nowozin, "Which Training Methods for GANs do actually Converge?" (ICML 2018): with
    either penalty the GAN's gradient field at the equilibrium has eigenvalues with negative real part, so
    simultaneous and alternating gradient steps converge (see the Dirac-GAN claim of ``gan-lightning
    theory``). R1 + R2 with the relativistic pairing is R3GAN's objective (Huang et al., "The GAN is dead;
    long live the GAN! A Modern GAN Baseline", NeurIPS 2024).

    Args:
        r1_gamma: gamma of R1 (0 switches it off).
        r2_gamma: gamma of R2 (0 switches it off).
        every: lazy regularisation (Karras et al., "Analyzing and Improving the Image Quality of StyleGAN",
            CVPR 2020): the penalties are computed only every ``every`` critic steps and multiplied by
            ``every`` then, so that their average weight stays gamma / 2.
    """

    def __init__(self, r1_gamma: float = 1.0, r2_gamma: float = 0.0, every: int = 1) -> None:
        super().__init__()
        if r1_gamma < 0 or r2_gamma < 0 or r1_gamma + r2_gamma == 0:
            raise ValueError(
                f"R1R2Penalty: r1_gamma and r2_gamma must be >= 0 and not both 0, got {r1_gamma}, {r2_gamma}"
            )
        if every < 1:
            raise ValueError(f"R1R2Penalty.every must be a positive integer, got {every}")
        self.r1_gamma, self.r2_gamma, self.every = r1_gamma, r2_gamma, every

    def attach(self, gan: GANLike) -> None:
        if has_batch_norm(gan.discriminator):
            raise ValueError(
                "model.discriminator uses batch norm, which per-sample gradient penalties (R1/R2) forbid: "
                "set its norm to 'layer' or 'none'"
            )

    def discriminator_terms(
        self, gan: GANLike, real: Tensor, fake: Tensor, labels: Tensor | None, terms: Terms
    ) -> Terms:
        if gan.critic_steps % self.every:
            return terms
        loss, out = terms["loss"], dict(terms)
        for name, gamma, x in (("r1", self.r1_gamma, real), ("r2", self.r2_gamma, fake)):
            if gamma:
                out[name] = zero_centered_gradient_penalty(lambda v: gan.critic(v, labels), x)
                loss = loss + self.every * gamma / 2 * out[name]
        out["loss"] = loss
        return out


class TopKGenerator(Technique):
    """Top-k training (Sinha, Zhao, Goyal, Raffel, Odena, "Top-k Training of GANs: Improving GAN Performance by
    Throwing Away Bad Samples", NeurIPS 2020): the generator's loss sees only the k of its n fakes that the
    critic scores most real, k = ceil(max(decay^epoch, min_fraction) n); the same rows of the real batch and
    labels go with them (for paired and conditional losses). The worst fakes, in the paper's mixtures of
    Gaussians those between modes, no longer pull G, whose gradient then comes from samples the critic rates
    near the data. It costs one critic pass over the fakes without gradients.

    Args:
        min_fraction: the smallest k / n (the paper's nu: 0.5 and above).
        decay: k / n shrinks by this factor every epoch (the paper's gamma: 0.99).
    """

    def __init__(self, min_fraction: float = 0.5, decay: float = 0.99) -> None:
        super().__init__()
        if not 0.0 < min_fraction <= 1.0:
            raise ValueError(f"TopKGenerator.min_fraction must be in (0, 1], got {min_fraction}")
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"TopKGenerator.decay must be in (0, 1], got {decay}")
        self.min_fraction, self.decay = min_fraction, decay

    def attach(self, gan: GANLike) -> None:
        if not getattr(gan, "critic_scores_real_high", True):
            raise ValueError(
                f"TopKGenerator: the critic of {type(gan).__name__} scores real samples low (an energy), "
                "so its top-k fakes would be its worst"
            )

    def fraction(self, epoch: int) -> float:
        return max(self.decay**epoch, self.min_fraction)

    def generator_batch(
        self, gan: GANLike, real: Tensor, fake: Tensor, labels: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        k = math.ceil(self.fraction(gan.current_epoch) * fake.shape[0])
        if k >= fake.shape[0]:
            return real, fake, labels
        with torch.no_grad():
            scores = gan.critic(fake, labels)
        if scores.shape[0] != fake.shape[0]:
            raise ValueError(
                f"TopKGenerator needs one critic score a sample, got {scores.shape[0]} for {fake.shape[0]} "
                "(a packed critic, PacGAN, scores packs)"
            )
        kept = scores.topk(k).indices
        return real[kept], fake[kept], (labels[kept] if labels is not None else None)
