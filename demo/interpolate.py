"""The Interpolation tab: two seeds, their x_T blended, each frame sampled with deterministic DDIM.

Slerp keeps every blend at the norm a Gaussian x_T has (about √d); a straight line between two
independent x_T passes through shorter vectors, which the model has never seen as noise, so the
middle frames come out washed-out and blurry.
"""
from __future__ import annotations

import os
import tempfile

import numpy as np
import torch

from diffusion.checkpoint import LoadedGAN
from diffusion.pipeline import to_uint8
from diffusion.samplers import ddim, sample, seeded_noise

from .denoise import grid
from .generate import DEFAULT_CHECKPOINT, get_model

WHY_SLERP = ("Why slerp: a Gaussian x_T lives near the sphere of radius √d; the straight line between two "
             "of them cuts inside it (the midpoint has ~71 % of the norm), so linear blends look faded, "
             "while slerp stays on the sphere.")
MAX_FRAMES = 16


def slerp(a: torch.Tensor, b: torch.Tensor, w: float) -> torch.Tensor:
    """Spherical interpolation between a and b (same shape), w in [0, 1]."""
    fa, fb = a.flatten().double(), b.flatten().double()
    cos = torch.clamp(torch.dot(fa, fb) / (fa.norm() * fb.norm()), -1.0, 1.0)
    theta = torch.arccos(cos)
    if float(theta) < 1e-6:
        return (1 - w) * a + w * b
    out = (torch.sin((1 - w) * theta) * fa + torch.sin(w * theta) * fb) / torch.sin(theta)
    return out.reshape(a.shape).to(a.dtype)


@torch.no_grad()
def gan_strips(g, seed_a: int, seed_b: int, weights: np.ndarray, psi: float) -> list[np.ndarray]:
    """StyleGAN: frames linear in w (the space the styles live in) and, for comparison, slerp in z."""
    if not 0.0 <= psi <= 1.0:
        raise ValueError(f"truncation psi must be in [0, 1], got {psi}")
    gens = [torch.Generator().manual_seed(s) for s in (seed_a, seed_b)]
    z = torch.cat([torch.randn(1, g.config.z_dim, generator=gen) for gen in gens])  # as stylegan.generate draws
    noise = [n.expand(len(weights), -1, -1, -1) for n in g.noise_like(1, gens[0])]
    w = g.map(z, psi)
    w_line = torch.stack([torch.lerp(w[0], w[1], float(t)) for t in weights])
    z_arc = torch.stack([slerp(z[0], z[1], float(t)) for t in weights])
    return [to_uint8(g.synthesis(ws[:, None].expand(-1, g.num_ws, -1), noise).clamp(-1, 1))
            for ws in (w_line, g.map(z_arc, psi))]


def interpolate(seed_a: int, seed_b: int, frames: int = 8, steps: int = 20, checkpoint: str = DEFAULT_CHECKPOINT,
                psi: float = 1.0, out_dir: str | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """(slerp strip, linear strip, GIF path of the first strip there and back). For a StyleGAN: the first
    strip is linear in w (truncated by psi), the second slerp in z, with seed A's noise maps held fixed."""
    for s in (seed_a, seed_b):
        if s is None or int(s) != s or s < 0:
            raise ValueError(f"seeds must be whole numbers >= 0, got {s}")
    if frames is None or int(frames) != frames or not 2 <= int(frames) <= MAX_FRAMES:
        raise ValueError(f"frames must be in 2..{MAX_FRAMES}, got {frames}")
    model = get_model(checkpoint)
    weights = np.linspace(0, 1, int(frames))
    if isinstance(model, LoadedGAN):
        strips = gan_strips(model.generator, int(seed_a), int(seed_b), weights, float(psi))
    else:
        noise, _ = seeded_noise([int(seed_a), int(seed_b)], (3, model.image_size, model.image_size))
        strips = []
        for blend in (slerp, lambda a, b, w: (1 - w) * a + w * b):
            x_t = torch.stack([blend(noise[0], noise[1], float(w)) for w in weights])
            run = ddim(model.eps, model.schedule, x_t.contiguous(memory_format=torch.channels_last), steps=int(steps))
            strips.append(to_uint8(sample(run)))
    import imageio.v2 as imageio

    out_dir = out_dir or tempfile.mkdtemp(prefix="interp-")
    os.makedirs(out_dir, exist_ok=True)
    gif = os.path.join(out_dir, "slerp.gif")
    big = [img.repeat(4, axis=0).repeat(4, axis=1) for img in strips[0]]
    imageio.mimsave(gif, big + big[-2:0:-1], duration=0.15, loop=0)  # there and back, no repeated ends
    return grid(strips[0], scale=2), grid(strips[1], scale=2), gif
