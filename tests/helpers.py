"""Small shared test fixtures: a tiny UNet config, a randomised UNet, a folder of fake faces."""
import os

import numpy as np
import torch
from PIL import Image

from diffusion.unet import UNet, UNetConfig

TINY = UNetConfig(image_size=16, base_channels=8, channel_mults=(1, 2), attention_resolutions=(8,), head_channels=8,
                  norm_groups=4)


def random_unet(config: UNetConfig = TINY, std: float = 0.1, seed: int = 0) -> UNet:
    """A UNet with random non-zero weights everywhere (its zero-initialised layers included)."""
    torch.manual_seed(seed)
    net = UNet(config)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, std)
    return net


def write_faces(folder: str, n: int = 5, size: int = 20) -> None:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(os.path.join(folder, f"{i}.jpg"))
