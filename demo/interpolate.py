"""The Interpolation tab: two seeds, their x_T blended, each frame sampled with deterministic DDIM.

Slerp keeps every blend at the norm a Gaussian x_T has (about √d); a straight line between two
independent x_T passes through shorter vectors, which the model has never seen as noise, so the
middle frames come out washed-out and blurry. The maths lives in lab.pipeline and diffusion.noise.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from lab import inputs
from lab.pipeline import interpolation_stream
from lab.registry import REGISTRY

from . import files, limits
from .common import DEFAULT_CHECKPOINT, UNCHANGED, last
from .denoise import grid

WHY_SLERP = ("Why slerp: a Gaussian x_T lives near the sphere of radius √d; the straight line between two "
             "of them cuts inside it (the midpoint has ~71 % of the norm), so linear blends look faded, "
             "while slerp stays on the sphere.")
EXPLANATION = ("Two seeds; their x_T blended, each blend sampled with deterministic DDIM. " + WHY_SLERP
               + " With a StyleGAN checkpoint: the top strip is linear in w (with truncation ψ), the bottom slerp "
                 "in z, seed A's noise maps held fixed.")
MAX_FRAMES = 16
MAX_STEPS = 100


def interpolate_stream(seed_a: int, seed_b: int, frames: int = 8, steps: int = 20,
                       checkpoint: str = DEFAULT_CHECKPOINT, psi: float = 1.0, out_dir: str | None = None
                       ) -> Iterator[tuple]:
    """Yields UNCHANGED outputs after every network evaluation (so Stop ends the work within one), then
    (slerp strip, linear strip, GIF path of the first strip there and back). For a StyleGAN: the first strip
    is linear in w (truncated by psi), the second slerp in z, with seed A's noise maps held fixed."""
    seed_a, seed_b = inputs.seed(seed_a, "seed A"), inputs.seed(seed_b, "seed B")
    frames = inputs.whole(frames, "frames", 2, MAX_FRAMES)
    steps = inputs.whole(steps, "DDIM steps", 1, MAX_STEPS)
    deadline = limits.LIMITS.deadline()
    for strips in interpolation_stream(REGISTRY.model(checkpoint), seed_a, seed_b, frames, steps, psi):
        deadline.check()
        if strips is None:
            yield UNCHANGED, UNCHANGED, UNCHANGED
    import imageio.v2 as imageio

    out_dir = out_dir or files.new_dir("interp")
    os.makedirs(out_dir, exist_ok=True)
    gif = os.path.join(out_dir, "slerp.gif")
    big = [img.repeat(4, axis=0).repeat(4, axis=1) for img in strips[0]]
    imageio.mimsave(gif, big + big[-2:0:-1], duration=0.15, loop=0)  # there and back, no repeated ends
    yield grid(strips[0], scale=2), grid(strips[1], scale=2), gif


def interpolate(*args, **kwargs) -> tuple[np.ndarray, np.ndarray, str]:
    return last(interpolate_stream(*args, **kwargs))
