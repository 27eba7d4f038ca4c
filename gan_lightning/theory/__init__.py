"""The GAN theory as measured checks on 1D densities (``gan-lightning theory``; see docs/theory.md): one
function per claim, each returning a :class:`CheckResult`.

Every check compares a closed form (an exact formula, or a quadrature of one) with a measurement made through
the library itself: its losses (:mod:`gan_lightning.losses`), penalties (:mod:`gan_lightning.penalties`),
f-divergence table (:mod:`gan_lightning.divergences`) and discriminator network. Critics are trained in plain
torch, float64, on fresh samples of 1D densities with a fixed seed. ``full=True`` runs the larger version of a
check (more steps, wider nets, every divergence, tighter tolerances): that is ``gan-lightning theory --all``.

Sources (the papers, and the notes that restate them; where a note and its paper disagree, the paper wins):

* Goodfellow et al., 2014, "Generative Adversarial Nets" (arXiv:1406.2661): claims 1, 2.
* Arjovsky and Bottou, 2017, "Towards Principled Methods for Training GANs" (arXiv:1701.04862): claims 3, 4,
  5.
* Goodfellow, 2016, "NIPS 2016 Tutorial: GANs" (arXiv:1701.00160), also the post "Everything abut GANs:
  Model, Training and Beyond": claims 5, 9.
* Mao et al., 2017, "Least Squares GANs" (arXiv:1611.04076), also the LSGAN report
  "对 Least Squares GAN 的思考与改进" (PKU 2020): claim 6.
* Nowozin et al., 2016, "f-GAN" (arXiv:1606.00709), also the lecture "Theory behind GAN": claim 7.
* Arjovsky et al., 2017, "Wasserstein GAN"; Gulrajani et al., 2017, "Improved Training of WGANs": claims 3, 8.
* The notes "GAN" (claims 2, 4, 8) and the post "GAN 的数学推导" (2018; claims 1, 2) restate the papers
  above; so does the lecture "Theory behind GAN" for claims 2 and 3.

Slips found in the notes (every one that changes a formula a check uses is pinned by tests/unit/test_theory.py):

* The notes "GAN" write the discriminator's second term as E_{p_theta}[1 - log D] instead of E[log(1 - D)];
  with the slip the optimum would not be p_data / (p_data + p_g) (claim 1 measures the right one).
* They name the Kantorovich-Rubinstein dual sup_{||f||_L <= 1} E_p f - E_q f "W_2"; it is W_1 (claim 8).
* They write D*(x) = 1/2 - 0.5 at equilibrium; it is 1/2.
* The lecture "Theory behind GAN" (and f-GAN's Table 1) pair the Pearson and Neyman chi^2 generators f with
  each other's integrals, and print the Jensen-Shannon integral with a factor 1/2 its f does not give (see
  gan_lightning/divergences.py). The lecture's WGAN generator step minimises (1/m) sum log D(x^i) - ...; the
  log term is a leftover (constant in G).
* "GAN 的数学推导" writes argmin_theta E_{p_data}[log p_g] and then "argmax KL(p_g || p_data)": maximum
  likelihood is argmax E_{p_data}[log p_g] = argmin KL(p_data || p_g) (claim 5 measures the gradient of that
  KL). Its second derivative of a log y + b log(1 - y) is -a / y^2 - b / (1 - y)^2, not b / (1 - y^2).
* "Everything abut GANs" states the maximum-likelihood generator cost without the tutorial's factor 1/2
  (J = -1/2 E exp(sigma^-1(D))); the library's :func:`maximum_likelihood_generator_loss` follows it (no 1/2),
  so its gradient is that of KL(p_data || p_g) itself, which claim 5 measures.
* Mao et al. (and the LSGAN report) call int (2 p_g - (p_d + p_g))^2 / (p_d + p_g)
  "Pearson chi^2(p_d + p_g || 2 p_g)", following f-GAN's swapped Table 1 row; with D_f(P || Q) = int q f(p / q)
  and f(u) = (u - 1)^2 it is chi^2(2 p_g || p_d + p_g). Claim 6 pins the integral Mao et al. write.

Layout: :mod:`~gan_lightning.theory.registry` (:class:`CheckResult`, :func:`register_check`, :data:`CHECKS` in
claim order), :mod:`~gan_lightning.theory._training` (shared densities, critic, training loop, figures), and one
module per claim family: ``discriminator`` (claims 1, 2), ``distances`` (3, 8), ``generator`` (4, 5), ``lsgan``
(6), ``fgan`` (7a, 7b), ``games`` (9). A new claim is one function decorated with
``@register_check("name", claim=...)`` in a family module (a new family module also joins the import below).
"""

# Importing the family modules registers their checks; the table's order comes from the claim numbers.
from gan_lightning.theory import dirac_gan, discriminator, distances, fgan, games, generator, lsgan  # noqa: F401
from gan_lightning.theory.registry import CHECKS, CheckResult, register_check

__all__ = ["CHECKS", "CheckResult", "register_check"]
