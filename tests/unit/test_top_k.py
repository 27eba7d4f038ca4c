"""Top-k training (TopKGenerator): which fakes the generator's loss keeps, by hand."""

from types import SimpleNamespace

import pytest
import torch
from torch.testing import assert_close

from gan_lightning import variants as V
from gan_lightning.techniques import TopKGenerator
from tests.helpers import mlp_nets


def _gan(epoch=0):
    # D(x) = x_0 - x_1, so the critic's order of the fakes below is known by hand
    return SimpleNamespace(critic=lambda x, labels=None: x[:, 0] - x[:, 1], current_epoch=epoch)


def test_keeps_the_k_fakes_the_critic_scores_highest_with_their_real_rows_and_labels():
    fake = torch.tensor([[0.0, 1.0], [3.0, 0.0], [1.0, 1.0], [2.0, 0.0]])  # scores -1, 3, 0, 2
    real, labels = torch.arange(8.0).reshape(4, 2), torch.tensor([5, 6, 7, 8])
    kept_real, kept_fake, kept_labels = TopKGenerator(min_fraction=0.5, decay=0.5).generator_batch(
        _gan(epoch=3), real, fake, labels
    )  # k = ceil(max(0.5^3, 0.5) * 4) = 2: rows 1 and 3
    assert_close(kept_fake, torch.tensor([[3.0, 0.0], [2.0, 0.0]]))
    assert_close(kept_real, torch.tensor([[2.0, 3.0], [6.0, 7.0]]))
    assert_close(kept_labels, torch.tensor([6, 8]))


def test_k_decays_by_the_factor_every_epoch_down_to_the_floor():
    top_k = TopKGenerator(min_fraction=0.5, decay=0.9)
    assert_close(
        torch.tensor([top_k.fraction(e) for e in (0, 1, 2, 6, 7, 100)]),
        torch.tensor([1.0, 0.9, 0.81, 0.9**6, 0.5, 0.5]),  # 0.9^7 = 0.478 < 0.5
    )
    fake = torch.randn(10, 2)
    # epoch 1: k = ceil(0.9 * 10) = 9 of 10; epoch 0 keeps the batch itself, without a critic pass
    assert top_k.generator_batch(_gan(epoch=1), fake, fake, None)[1].shape == (9, 2)
    unscored = SimpleNamespace(critic=lambda *a: pytest.fail("scored at k = n"), current_epoch=0)
    assert top_k.generator_batch(unscored, fake, fake, None)[1] is fake


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_fraction": 0.0}, "TopKGenerator.min_fraction must be in (0, 1], got 0.0"),
        ({"decay": 1.5}, "TopKGenerator.decay must be in (0, 1], got 1.5"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TopKGenerator(**kwargs)


def test_an_energy_critic_is_refused_because_its_top_k_would_be_its_worst():
    from gan_lightning.networks import MLPAutoencoder, MLPGenerator

    with pytest.raises(ValueError, match="the critic of EBGAN scores real samples low"):
        V.EBGAN(MLPGenerator(latent_dim=2), MLPAutoencoder(), techniques=[TopKGenerator()])


def test_the_generator_loss_is_the_variants_loss_on_the_kept_fakes():
    torch.manual_seed(0)
    g, d = mlp_nets(8, 2, seed=0)
    module = V.NSGAN(g, d, techniques=[TopKGenerator(min_fraction=0.25, decay=0.1)])
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    with torch.no_grad():
        scores = module.critic(fake)
    # current_epoch is 0 without a trainer: k = n; at a later epoch (0.1^1 < 0.25) k = 2
    module.techniques[0].fraction = lambda epoch: 0.25
    kept_real, kept_fake, _ = module.techniques[0].generator_batch(module, real, fake, None)
    best = scores.topk(2).indices
    assert_close(kept_fake, fake[best])
    assert_close(
        module.generator_loss(kept_real, kept_fake, None)["loss"],
        torch.nn.functional.softplus(-scores[best]).mean(),  # -log sigmoid(D(G(z))) over the two kept
    )


def test_a_critic_scoring_packs_is_refused_in_one_line():
    packed = SimpleNamespace(critic=lambda x, labels=None: x[::2, 0], current_epoch=1)
    with pytest.raises(ValueError, match="one critic score a sample, got 2 for 4 \\(a packed critic"):
        TopKGenerator(decay=0.5).generator_batch(packed, torch.zeros(4, 2), torch.zeros(4, 2), None)
