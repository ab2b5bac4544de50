"""The Generate tab: seed → images. A plain function; app.py turns its ValueErrors into messages."""
from __future__ import annotations

import random
import time

import numpy as np

from lab import inputs
from lab.pipeline import batches
from lab.registry import REGISTRY

from . import limits
from .common import DEFAULT_CHECKPOINT, sampler_name
from .messages import tr

MAX_IMAGES = 64


def generate(seed: int, num_images: int, sampler: str = "DPM-Solver++", steps: int = 20, eta: float = 0.0,
             checkpoint: str = DEFAULT_CHECKPOINT, randomize: bool = False, psi: float = 1.0
             ) -> tuple[list[np.ndarray], str, int]:
    """Images for seeds seed … seed+n-1, a one-line summary, and the seed used."""
    count = inputs.whole(num_images, "number of images", 1, MAX_IMAGES)
    if randomize:
        seed = random.randint(0, inputs.MAX_SEED - count + 1)
    seeds = inputs.seeds(seed, count, MAX_IMAGES)
    model = REGISTRY.model(checkpoint)
    settings = model.check(sampler_name(sampler), steps, eta, psi)  # the one validation of this request
    limits.LIMITS.check_cost(count, model.evaluations(settings), "this request")
    t0 = time.perf_counter()
    images = [img for _, imgs in batches(model, seeds, settings, MAX_IMAGES) for img in imgs]
    seconds = time.perf_counter() - t0
    how = tr(*model.how(settings))
    info = tr(f"{count} image(s), seeds {seeds[0]}–{seeds[-1]}, {how}: {seconds:.2f} s "
              f"({seconds / count:.2f} s per image) on {checkpoint}",
              f"{count} 張圖，種子 {seeds[0]}–{seeds[-1]}，{how}：{seconds:.2f} 秒"
              f"（每張 {seconds / count:.2f} 秒），模型 {checkpoint}")
    return images, info, seeds[0]
