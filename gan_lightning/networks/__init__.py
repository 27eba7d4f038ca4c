"""Plain ``nn.Module`` generators and discriminators; they know nothing of losses."""

from gan_lightning.networks.augment import DiffAugmentDiscriminator
from gan_lightning.networks.autoencoder import ConvAutoencoder, MLPAutoencoder
from gan_lightning.networks.conditional import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    ConditionalMLPDiscriminator,
    ConditionalMLPGenerator,
)
from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.networks.minibatch import MinibatchDiscrimination, MinibatchDiscriminator
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator
from gan_lightning.networks.packing import PackedDiscriminator

__all__ = [
    "ConvAutoencoder",
    "ConditionalDCGANDiscriminator",
    "ConditionalDCGANGenerator",
    "ConditionalMLPDiscriminator",
    "ConditionalMLPGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DiffAugmentDiscriminator",
    "MLPAutoencoder",
    "MLPDiscriminator",
    "MLPGenerator",
    "MinibatchDiscrimination",
    "MinibatchDiscriminator",
    "PackedDiscriminator",
]
