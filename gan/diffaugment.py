"""Differentiable augmentation for a GAN trained on few images (Zhao et al. 2020, "Differentiable Augmentation
for Data-Efficient GAN Training").

The same random transforms go in front of the discriminator for real and generated images, in the D step
and in the G step; being differentiable, they let G's gradient through. D then cannot win by memorising the
31k training faces, the failure that makes a small-data GAN's faces smooth and alike. Images are [N, C, H, W]
in [-1, 1]; the randomness comes from torch's global generator, which the training state saves and restores.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness (± 0.5), saturation (× 0 … 2) and contrast (× 0.5 … 1.5), per image (paper §3)."""
    n = x.shape[0]
    x = x + (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) * 2) + mean
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by a random whole number of pixels, up to `ratio` of its size, filling with zeros."""
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device)
    tx = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device)
    gy = torch.arange(h, device=x.device).view(1, h, 1) - ty + sy  # the source row in the padded image
    gx = torch.arange(w, device=x.device).view(1, 1, w) - tx + sx
    padded = F.pad(x, (sx, sx, sy, sy))
    b = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded[b, :, gy.expand(n, h, w), gx.expand(n, h, w)].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero a random square of `ratio` of the image's side per image (it may reach over the border)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + 1 - ch % 2, (n, 1, 1), device=x.device) - ch // 2
    left = torch.randint(0, w + 1 - cw % 2, (n, 1, 1), device=x.device) - cw // 2
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}


def check_policy(policy: str) -> list[str]:
    """The transforms of a comma-separated policy ("" = none); a ValueError names an unknown one."""
    names = [p for p in policy.replace(" ", "").split(",") if p]
    for name in names:
        if name not in TRANSFORMS:
            raise ValueError(f"DiffAugment policy names {name!r}; allowed: {', '.join(TRANSFORMS)} "
                             f"(comma-separated, or empty for none)")
    return names


def diff_augment(x: torch.Tensor, policy: str = "color,translation,cutout") -> torch.Tensor:
    """x through each transform of the policy, in order."""
    for name in check_policy(policy):
        x = TRANSFORMS[name](x)
    return x
