"""Spectral normalisation of every weight layer of a network (Miyato et al., 2018, arXiv:1802.05957)."""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

# Layers whose weight is a linear map; a convolution's kernel is normalised as a (out, in * k * k) matrix.
WEIGHT_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Embedding)


def apply_spectral_norm(network: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Divide the weight of every linear, convolutional and embedding layer by its largest singular value.

    Each training-mode forward pass runs ``n_power_iterations`` steps of power iteration (one, as the paper)
    to track that singular value; eval mode reuses the last estimate. Returns ``network`` itself.
    """
    for module in list(network.modules()):
        if isinstance(module, WEIGHT_LAYERS):
            # Transposed convolutions keep output channels in dim 1 of the weight.
            dim = 1 if isinstance(module, nn.ConvTranspose2d) else 0
            spectral_norm(module, n_power_iterations=n_power_iterations, dim=dim)
    return network
