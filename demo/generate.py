"""The Generate tab: seed → images. A plain function; app.py turns its ValueErrors into gr.Error."""
from __future__ import annotations

import functools
import json
import os
import random
import time

import numpy as np

from diffusion.checkpoint import LoadedGAN, LoadedModel, load_checkpoint
from diffusion.pipeline import generate_batches

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKPOINT_DIR = os.path.join(ROOT, "checkpoints")
DEFAULT_CHECKPOINT = "anime-64"
SAMPLER_NAMES = {"DPM-Solver++": "dpm-solver", "DDIM": "ddim", "DDPM": "ddpm"}
MAX_IMAGES = 64
MAX_SEED = 2**31 - 1


def available_checkpoints(kind: str | None = None) -> list[str]:
    """Checkpoint folders under checkpoints/ (those holding a config.json), default first; with `kind`
    ("diffusion" or "stylegan") only those of that kind."""
    names = []
    for n in sorted(os.listdir(CHECKPOINT_DIR)):
        path = os.path.join(CHECKPOINT_DIR, n, "config.json")
        if os.path.isfile(path):
            try:
                with open(path) as f:
                    model = json.load(f).get("model", "unet")
            except (OSError, ValueError):
                continue
            if kind is None or {"unet": "diffusion"}.get(model, model) == kind:
                names.append(n)
    return sorted(names, key=lambda n: n != DEFAULT_CHECKPOINT)


@functools.lru_cache(maxsize=4)
def get_model(name: str) -> LoadedModel | LoadedGAN:
    if name not in available_checkpoints():
        raise ValueError(f"unknown checkpoint {name!r}; available: {', '.join(available_checkpoints()) or 'none'}")
    return load_checkpoint(os.path.join(CHECKPOINT_DIR, name))


def get_diffusion(name: str, what: str) -> LoadedModel:
    """The checkpoint, which must be a diffusion model for `what` (a StyleGAN has no denoising steps)."""
    model = get_model(name)
    if isinstance(model, LoadedGAN):
        raise ValueError(f"{name} is a StyleGAN: it makes an image in one pass, with no steps for {what}; "
                         f"choose a diffusion checkpoint")
    return model


def generate(seed: int, num_images: int, sampler: str = "DPM-Solver++", steps: int = 20, eta: float = 0.0,
             checkpoint: str = DEFAULT_CHECKPOINT, randomize: bool = False, psi: float = 1.0
             ) -> tuple[list[np.ndarray], str, int]:
    """Images for seeds seed … seed+n-1, a one-line summary, and the seed used."""
    if randomize:
        seed = random.randint(0, MAX_SEED)
    if seed is None or int(seed) != seed or not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be a whole number in 0..{MAX_SEED}, got {seed}")
    if num_images is None or int(num_images) != num_images or not 1 <= int(num_images) <= MAX_IMAGES:
        raise ValueError(f"number of images must be in 1..{MAX_IMAGES}, got {num_images}")
    if sampler not in SAMPLER_NAMES:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLER_NAMES)}, got {sampler!r}")
    if steps is None or int(steps) != steps:
        raise ValueError(f"steps must be a whole number, got {steps}")
    seed, num_images, steps = int(seed), int(num_images), int(steps)
    model = get_model(checkpoint)
    name = SAMPLER_NAMES[sampler]
    t0 = time.perf_counter()
    batches = generate_batches(model, list(range(seed, seed + num_images)), name, steps, float(eta), MAX_IMAGES,
                               float(psi))
    images = [img for _, imgs in batches for img in imgs]
    seconds = time.perf_counter() - t0
    if isinstance(model, LoadedGAN):
        how = f"StyleGAN, one generator pass, truncation ψ {psi:g}"
    else:
        nfe = model.schedule.num_timesteps if name == "ddpm" else steps
        how = f"{sampler} {nfe} network evaluations{f', eta {eta:g}' if name == 'ddim' else ''}"
    info = (f"{num_images} image(s), seeds {seed}–{seed + num_images - 1}, {how}: {seconds:.2f} s "
            f"({seconds / num_images:.2f} s per image) on {checkpoint}")
    return images, info, seed
