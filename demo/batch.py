"""The Batch tab: N faces (up to 1000) as a zip of 1.jpg … N.jpg (the HW6 submission format), with
progress, optionally with the AFD rate. Written a batch at a time to disk, so memory stays bounded."""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from lab import inputs
from lab.pipeline import write_images, write_zip
from lab.registry import REGISTRY

from .common import DEFAULT_CHECKPOINT, describe, get_detector, sampler_name

MAX_IMAGES = 1000
BATCH_SIZE = 32
PREVIEW = 16


def batch(num_images: int = 1000, seed: int = 0, sampler: str = "DPM-Solver++", steps: int = 20, eta: float = 0.0,
          checkpoint: str = DEFAULT_CHECKPOINT, compute_afd: bool = False, detector: str = "Best available",
          psi: float = 1.0, progress: Callable[[float, str], None] | None = None, out_dir: str | None = None
          ) -> tuple[str, str, list[np.ndarray]]:
    """(zip path, markdown summary, the first few images)."""
    seeds = inputs.seeds(seed, num_images, MAX_IMAGES)
    n, seed, name = len(seeds), seeds[0], sampler_name(sampler)
    model = REGISTRY.model(checkpoint)
    detector_ = get_detector(detector) if compute_afd else None  # a missing detector fails before any work
    out_dir = out_dir or tempfile.mkdtemp(prefix="batch-")
    folder = os.path.join(out_dir, "images")
    t0 = time.perf_counter()
    names, preview, found = [], [], 0
    if progress:
        progress(0.0, f"generating {n} images …")
    for chunk, images in write_images(model, n, folder, name, steps, eta, seed, BATCH_SIZE, psi):
        names += chunk
        preview += list(images[:PREVIEW - len(preview)])
        if detector_ is not None:  # score the written JPEGs, as the homework scores the submission
            written = []
            for c in chunk:
                with Image.open(os.path.join(folder, c)) as im:
                    written.append(np.asarray(im.convert("RGB")))
            found += sum(len(b) > 0 for b in detector_.detect_batch(written))
        if progress:
            progress(len(names) / n, f"{len(names)}/{n} images")
    seconds = time.perf_counter() - t0
    zip_path = os.path.join(out_dir, f"faces_{n}.zip")
    write_zip(folder, names, zip_path)
    how = f"StyleGAN ψ {psi:g}" if model.kind == "stylegan" else sampler
    summary = (f"{n} images (seeds {seed}–{seed + n - 1}, {how}, {checkpoint}) in {seconds:.1f} s "
               f"({seconds / n:.3f} s per image): `1.jpg` … `{n}.jpg` in the zip.")
    if detector_ is not None:
        summary += f"\n\n**AFD rate: {found}/{n} = {found / n:.1%}** by {describe(detector_)}."
    return zip_path, summary, preview
