"""Seeded noise: x_T for each seed and the torch.Generator that image keeps drawing from, and slerp.

An image depends on its seed alone: x_T and every later random draw of that image (DDPM's and DDIM's
per-step noise) come from its own generator, so seed 7 gives the same face alone or in a batch of 64.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

GeneratorArg = torch.Generator | Sequence[torch.Generator] | None


def seeded_noise(seeds: Sequence[int], shape: Sequence[int] = (3, 64, 64),
                 device: torch.device | str = "cpu") -> tuple[torch.Tensor, list[torch.Generator]]:
    """x_T for each seed and the generator each image keeps using for its sampling noise.

    Generators live on the CPU so an image is the same whatever device samples it.
    """
    generators = []
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool) or not 0 <= s < 2**63:
            raise ValueError(f"seeds must be integers in 0..2**63-1, got {s!r}")
        generators.append(torch.Generator().manual_seed(s))
    noise = _randn((len(generators), *shape), generators).to(device)
    return noise, generators


def _randn(shape: Sequence[int], generator: GeneratorArg) -> torch.Tensor:
    if generator is None or isinstance(generator, torch.Generator):
        return torch.randn(tuple(shape), generator=generator)
    if len(generator) != shape[0]:
        raise ValueError(f"got {len(generator)} generators for a batch of {shape[0]}")
    return torch.stack([torch.randn(tuple(shape[1:]), generator=g) for g in generator])


def randn_like(x: torch.Tensor, generator: GeneratorArg) -> torch.Tensor:
    return _randn(x.shape, generator).to(device=x.device, dtype=x.dtype).contiguous(
        memory_format=torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) and x.ndim == 4
        else torch.contiguous_format)


def slerp(a: torch.Tensor, b: torch.Tensor, w: float) -> torch.Tensor:
    """Spherical interpolation between a and b (same shape), w in [0, 1]. A Gaussian x_T lies near the
    sphere of radius √d; the straight line between two cuts inside it, slerp stays on it."""
    fa, fb = a.flatten().double(), b.flatten().double()
    cos = torch.clamp(torch.dot(fa, fb) / (fa.norm() * fb.norm()), -1.0, 1.0)
    theta = torch.arccos(cos)
    if float(theta) < 1e-6:
        return (1 - w) * a + w * b
    out = (torch.sin((1 - w) * theta) * fa + torch.sin(w * theta) * fb) / torch.sin(theta)
    return out.reshape(a.shape).to(a.dtype)
