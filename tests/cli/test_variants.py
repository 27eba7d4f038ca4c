"""`gan-lightning fit --model.help <variant>` documents every parameter of the issue 4 variants."""

from __future__ import annotations

import contextlib
import io

import pytest

from gan_lightning.cli import main

HELP = {
    "MinimaxGAN": ["real_label", "techniques"],
    "MaximumLikelihoodGAN": ["max_logit", "real_label"],
    "WGAN": ["clip_value", "n_critic"],
    "WGANOneSided": ["squared", "gp_weight"],
    "DRAGAN": ["dragan_weight", "perturbation_scale"],
    "HingeGAN": ["n_critic"],
    "LSGAN": ["mean_matching_weight", "a", "b", "c"],
}


def test_model_help_documents_every_parameter() -> None:
    for cls, params in HELP.items():
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            main(["fit", "--model.help", cls])
        for p in params:
            assert f"--model.{p} " in out.getvalue(), (cls, p)
