"""The GAN theory as measured checks on 1D densities (``gan-lightning theory``; see docs/theory.md)."""

from gan_lightning.theory.checks import CHECKS, CheckResult

__all__ = ["CHECKS", "CheckResult"]
