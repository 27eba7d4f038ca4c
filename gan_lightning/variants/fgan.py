"""f-GAN: variational divergence minimisation (Nowozin, Cseke and Tomioka, 2016, arXiv:1606.00709)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from gan_lightning.divergences import DIVERGENCES, get_divergence
from gan_lightning.losses import fgan_critic_loss, fgan_generator_loss
from gan_lightning.module import GANModule


class FGAN(GANModule):
    """f-GAN: the critic maximises a variational lower bound on D_f(P || Q), the generator lowers it.

    The critic maximises E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))] <= D_f(P || Q); the generator then minimises
    -E_Q[g_f(V(G(z)))] (the paper's practical alternative, section 3.2) or, with ``saturating=True``, the
    bound itself. One critic step per generator step, as the paper's single-step gradient method
    (Algorithm 1); Adam lr 2e-4, betas (0.5, 0.999) (the paper's LSUN runs reuse DCGAN's architecture and
    settings). ``divergence="gan"`` is the original GAN with the non-saturating loss.

    ``train/d_divergence_estimate`` logs the current lower bound on D_f (gan_lightning.divergences gives the
    exact D_f of each name).

    Args:
        divergence: a row of the f-GAN table: total_variation, kl, reverse_kl, pearson, neyman,
            squared_hellinger, jeffrey, js, weighted_js, gan.
        pi: the weight of P in ``weighted_js`` (ignored by the other divergences).
        saturating: generator minimises -E_Q[f*(g_f(V))] instead of -E_Q[g_f(V)].
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        divergence: str = "js",
        pi: float = 0.5,
        saturating: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, discriminator, **kwargs)
        if divergence not in DIVERGENCES:
            raise ValueError(f"model.divergence must be one of {', '.join(DIVERGENCES)}; got {divergence!r}")
        if divergence == "weighted_js" and not 0.0 < pi < 1.0:
            raise ValueError(f"model.pi must lie in (0, 1) for weighted_js, got {pi}")
        self.divergence = (
            get_divergence(divergence, pi=pi) if divergence == "weighted_js" else DIVERGENCES[divergence]
        )
        self.saturating = saturating

    def discriminator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        # The critic maximises the variational lower bound on D_f(P || Q).
        real_v, fake_v = self.critic(real, labels), self.critic(fake, labels)
        loss = fgan_critic_loss(self.divergence, real_v, fake_v)
        return {"loss": loss, "divergence_estimate": -loss}

    def generator_loss(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        # The generator maximises E_Q[g_f(V(G(z)))] (or minimises the bound, when saturating).
        return {"loss": fgan_generator_loss(self.divergence, self.critic(fake, labels), self.saturating)}
