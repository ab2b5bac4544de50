"""The "DDPM vs DDIM vs StyleGAN" tab: the same number of images from each, with the wall time per image
and the AFD rate measured live, so a class sees the one-pass GAN beside the many-step samplers."""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw

from diffusion.pipeline import to_uint8
from diffusion.samplers import make_sampler, seeded_noise
from diffusion.stylegan import generate as gan_generate

from .detect import describe, get_detector
from .generate import MAX_SEED, available_checkpoints, get_diffusion, get_model

MAX_IMAGES = 16


def labelled_rows(rows: list[tuple[str, np.ndarray]], scale: int = 2, label_w: int = 230) -> np.ndarray:
    """One labelled row of images per method."""
    size = rows[0][1].shape[1] * scale
    n = max(len(imgs) for _, imgs in rows)
    canvas = Image.new("RGB", (label_w + n * (size + 4), len(rows) * (size + 4)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (label, imgs) in enumerate(rows):
        draw.multiline_text((6, r * (size + 4) + size // 2 - 14), label, fill="black", font_size=15)
        for c, img in enumerate(imgs):
            canvas.paste(Image.fromarray(img).resize((size, size), Image.Resampling.NEAREST),
                         (label_w + c * (size + 4), r * (size + 4)))
    return np.asarray(canvas)


def versus(num_images: int = 4, seed: int = 0, ddim_steps: int = 20, include_ddpm: bool = True,
           diffusion_checkpoint: str | None = None, gan_checkpoint: str | None = None,
           detector: str = "Best available", progress: Callable[[float, str], None] | None = None
           ) -> tuple[np.ndarray, str]:
    """(labelled grid: a row per method, markdown table of seconds per image and AFD rate)."""
    if num_images is None or int(num_images) != num_images or not 1 <= int(num_images) <= MAX_IMAGES:
        raise ValueError(f"number of images must be in 1..{MAX_IMAGES}, got {num_images}")
    if seed is None or int(seed) != seed or not 0 <= int(seed) <= MAX_SEED - MAX_IMAGES:
        raise ValueError(f"seed must be a whole number in 0..{MAX_SEED - MAX_IMAGES}, got {seed}")
    diffusion_checkpoint = diffusion_checkpoint or (available_checkpoints("diffusion") or [None])[0]
    gan_checkpoint = gan_checkpoint or (available_checkpoints("stylegan") or [None])[0]
    if gan_checkpoint is None or diffusion_checkpoint is None:
        raise ValueError("this comparison needs a diffusion and a StyleGAN checkpoint under checkpoints/")
    model = get_diffusion(diffusion_checkpoint, "DDPM and DDIM")
    gan = get_model(gan_checkpoint)
    if gan.kind != "stylegan":
        raise ValueError(f"{gan_checkpoint} is not a StyleGAN checkpoint")
    T = model.schedule.num_timesteps
    if ddim_steps is None or int(ddim_steps) != ddim_steps or not 1 <= int(ddim_steps) <= T:
        raise ValueError(f"DDIM steps must be in 1..{T}, got {ddim_steps}")
    det = get_detector(detector)
    seeds = list(range(int(seed), int(seed) + int(num_images)))
    methods = ([("DDPM", "ddpm", None)] if include_ddpm else []) + [(f"DDIM {int(ddim_steps)}", "ddim", int(ddim_steps))]
    total = sum(T if s is None else s for _, _, s in methods) + 1
    done, rows, table = 0, [], []

    def report(frac: float, what: str) -> None:
        if progress:
            progress(frac, what)

    for label, name, steps in methods:
        noise, gens = seeded_noise(seeds, (3, model.image_size, model.image_size))
        run = make_sampler(name, model.eps, model.schedule, noise.contiguous(memory_format=torch.channels_last),
                           steps=steps, eta=0.0, generator=gens)
        t0 = time.perf_counter()
        for step in run:  # pulled step by step so the progress bar moves during DDPM's 1000 steps
            if step.index % 25 == 0:
                report((done + step.index) / total, f"{label}: step {step.index + 1}/{step.total}")
            x = step.x
        seconds = time.perf_counter() - t0
        done += step.total
        rows.append((label, to_uint8(x), seconds, f"{step.total} network evaluations"))
    report(done / total, "StyleGAN …")
    t0 = time.perf_counter()
    images = to_uint8(gan_generate(gan.generator, seeds))
    rows.append(("StyleGAN", images, time.perf_counter() - t0, "1 generator pass"))
    report(1.0, "detecting faces …")
    for label, imgs, seconds, how in rows:
        found = sum(len(b) > 0 for b in det.detect_batch(list(imgs)))
        table.append(f"| {label} | {how} | {seconds / len(seeds):.3f} s | {found}/{len(seeds)} = {found / len(seeds):.0%} |")
    grid = labelled_rows([(f"{label}\n{seconds / len(seeds):.2f} s / image", imgs) for label, imgs, seconds, _ in rows])
    md = ("| method | work per image | wall time per image | AFD rate |\n|---|---|---|---|\n" + "\n".join(table)
          + f"\n\nSeeds {seeds[0]}–{seeds[-1]}, batch {len(seeds)}, this machine, now; diffusion: "
            f"{diffusion_checkpoint}, GAN: {gan_checkpoint}. AFD by {describe(det)}.")
    return grid, md
