"""Energy-based GAN (Zhao, Mathieu and LeCun, 2017, arXiv:1609.03126)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gan_lightning.losses import ebgan_discriminator_loss, ebgan_generator_loss, pulling_away_term
from gan_lightning.module import GANModule


class EBGAN(GANModule):
    """EBGAN: an autoencoder discriminator assigns energies; data gets low energy, samples at least a margin.

    The energy D(x) is the autoencoder's reconstruction error (mean squared error per sample; see
    gan_lightning.networks.autoencoder). D minimises E[D(x)] + E[max(0, m - D(G(z)))]: it pulls the energy of
    data down and pushes the energy of samples up to the margin m; G minimises
    E[D(G(z))] + pt_weight * f_PT(Enc(G(z))), where the pulling-away term f_PT (the paper's EBGAN-PT,
    weight 0.1) penalises codes of one batch that point the same way, against mode collapse.

    Pre-training: the first ``pretrain_steps`` critic steps train the autoencoder alone on real batches
    (loss E[D(x)], the hinge term and the generator are off), as the paper suggests an autoencoder can be
    pre-trained on data. These steps count in ``critic_steps`` and ``trainer.global_step`` but are followed
    by no generator step, so a run with pre-training needs ``pretrain_steps`` more steps for the same
    number of generator updates.

    Defaults: margin m = 10, the value reimplementations give for the paper's MNIST runs (not checked against
    the paper itself here; the paper tunes m per data set); Adam lr 2e-4, betas (0.5, 0.999). The
    discriminator must expose ``encode`` and ``energy_and_code`` (an MLPAutoencoder or ConvAutoencoder).

    Args:
        margin: m, the energy above which a sample no longer costs the discriminator anything.
        pt_weight: weight of the pulling-away term in the generator's loss (0 turns it off; EBGAN-PT: 0.1).
        pretrain_steps: critic steps of autoencoder pre-training on real data before adversarial training.
    """

    critic_scores_real_high = False  # an energy / a loss: low on data (TopKGenerator refuses it)

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        margin: float = 10.0,
        pt_weight: float = 0.0,
        pretrain_steps: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, discriminator, **kwargs)
        if not callable(getattr(discriminator, "energy_and_code", None)):
            raise ValueError(
                f"model.discriminator ({type(discriminator).__name__}) must be an autoencoder with "
                "`energy_and_code`: use gan_lightning.networks.MLPAutoencoder or ConvAutoencoder"
            )
        if margin <= 0:
            raise ValueError(f"model.margin must be positive, got {margin}")
        if pt_weight < 0 or pretrain_steps < 0:
            raise ValueError(
                f"model.pt_weight and model.pretrain_steps must be >= 0, got {pt_weight}, {pretrain_steps}"
            )
        if self.num_classes:
            raise ValueError("EBGAN is unconditional: model.generator must not take labels")
        self.margin, self.pt_weight, self.pretrain_steps = margin, pt_weight, pretrain_steps

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        # The autoencoder maximises -E[D(x)] - E[max(0, m - D(G(z)))]: low energy on data, >= m on samples.
        real_energy, fake_energy = self.critic(real), self.critic(fake)
        return {
            "loss": ebgan_discriminator_loss(real_energy, fake_energy, self.margin),
            "real_energy": real_energy.mean(),
            "fake_energy": fake_energy.mean(),
        }

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        # The generator maximises -E[D(G(z))] (minus the pulling-away term): samples the autoencoder rebuilds.
        if not self.pt_weight:
            return {"loss": ebgan_generator_loss(self.critic(fake))}
        fake_energy, codes = self.discriminator.energy_and_code(fake)
        pt = pulling_away_term(codes)
        return {"loss": ebgan_generator_loss(fake_energy) + self.pt_weight * pt, "pulling_away": pt}

    def training_step(self, batch: Any, batch_idx: int) -> None:
        if self.critic_steps >= self.pretrain_steps:
            return super().training_step(batch, batch_idx)
        # Pre-training: the autoencoder learns to reconstruct real data; no fakes, no generator step.
        real, _ = self.split_batch(batch)
        _, d_opt = self.optimizers()
        with self.toggled_optimizer(d_opt):
            terms = {"loss": self.critic(real).mean()}
            self._step("d", d_opt, terms)
        self.critic_steps += 1
        self._log_terms("d_pretrain", terms)
