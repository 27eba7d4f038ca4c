"""EBGAN (gan_lightning.variants.ebgan) and its autoencoder discriminators: energies, hinge, pulling-away
term (pre-training and a short 2D run: tests/integration/test_ebgan.py)."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from gan_lightning.losses import ebgan_discriminator_loss, ebgan_generator_loss, pulling_away_term
from gan_lightning.networks import ConvAutoencoder, MLPAutoencoder, MLPDiscriminator, MLPGenerator
from gan_lightning.networks.autoencoder import reconstruction_energy
from gan_lightning.variants import EBGAN


def test_energy_is_the_per_sample_mean_squared_error() -> None:
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    assert_close(reconstruction_energy(x, x), torch.zeros(2))  # a perfect reconstruction has energy 0
    reconstruction = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    assert_close(reconstruction_energy(x, reconstruction), torch.tensor([1.0, 2.0]))  # (1+1)/2, (0+4)/2


def test_autoencoder_forward_is_the_energy_of_its_reconstruction() -> None:
    net = MLPAutoencoder(hidden_dim=8, depth=1, code_dim=3)
    x = torch.randn(5, 2)
    energy, code = net.energy_and_code(x)
    assert code.shape == (5, 3)
    assert_close(net(x), reconstruction_energy(x, net.decode(net.encode(x))))
    assert_close(energy, net(x))
    # The decoder's last layer zeroed and its bias set to x: a perfect reconstruction, energy exactly 0.
    nn_last = net.decoder[-1]
    with torch.no_grad():
        nn_last.weight.zero_()
        nn_last.bias.copy_(torch.tensor([0.5, -1.0]))
    assert_close(net(torch.tensor([[0.5, -1.0]])), torch.zeros(1))


@pytest.mark.parametrize(("image_size", "channels", "depth"), [(28, 1, 2), (32, 3, 3), (64, 3, 3)])
def test_conv_autoencoder_shapes(image_size: int, channels: int, depth: int) -> None:
    net = ConvAutoencoder(image_size=image_size, channels=channels, width=8, depth=depth)
    x = torch.randn(2, channels, image_size, image_size)
    assert net.reconstruct(x).shape == x.shape
    assert net(x).shape == (2,)
    with pytest.raises(ValueError, match="divisible by 2"):
        ConvAutoencoder(image_size=28, depth=3)


def test_hinge_losses_by_hand() -> None:
    real, fake = torch.tensor([0.5, 1.5]), torch.tensor([2.0, 12.0])
    # mean(real) = 1; max(0, 10 - 2) = 8, max(0, 10 - 12) = 0 -> mean 4
    assert_close(ebgan_discriminator_loss(real, fake, margin=10.0), torch.tensor(5.0))
    assert_close(ebgan_generator_loss(fake), torch.tensor(7.0))


def test_pulling_away_term() -> None:
    same = torch.tensor([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]])  # one direction, different lengths
    assert_close(pulling_away_term(same), torch.tensor(1.0))
    assert_close(pulling_away_term(torch.eye(4)), torch.tensor(0.0))
    # cos = 1/sqrt(2) for the one pair, counted twice: 2 * 0.5 / (2 * 1)
    assert_close(pulling_away_term(torch.tensor([[1.0, 0.0], [1.0, 1.0]])), torch.tensor(0.5))
    # Codes are flattened per sample (conv feature maps).
    assert_close(pulling_away_term(torch.eye(3).view(3, 3, 1, 1)), torch.tensor(0.0))


def test_generator_loss_adds_the_weighted_pulling_away_term() -> None:
    model = EBGAN(MLPGenerator(hidden_dim=8, depth=1), MLPAutoencoder(hidden_dim=8, depth=1), pt_weight=0.1)
    fake = torch.randn(6, 2)
    terms = model.generator_loss(fake, fake, None)
    energy, code = model.discriminator.energy_and_code(fake)
    assert_close(terms["loss"], energy.mean() + 0.1 * pulling_away_term(code))


def test_discriminator_must_be_an_autoencoder() -> None:
    with pytest.raises(ValueError, match="must be an autoencoder"):
        EBGAN(MLPGenerator(), MLPDiscriminator())
