"""The Denoising tab: watch x_t (or the predicted x0) turn from noise into faces, live.

`denoise_stream` is a generator handler: each step it yields a grid of the current images, so the UI
updates while sampling runs; closing it (the Stop button) closes the sampler and the work stops.
Afterwards `denoise_outputs` writes an animated GIF and the HW6 Question 1 figure.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from lab import inputs
from lab.pipeline import network_evaluations, stream, to_uint8
from lab.registry import REGISTRY

from . import files, limits
from .common import DEFAULT_CHECKPOINT, sampler_name

VIEWS = ("x_t", "predicted x0")
MAX_IMAGES = 8
MAX_KEPT = 80  # frames kept per run: the GIF shows up to 60 of them, the Q1 figure 20
FIGURE_COLUMNS = 20
EXPLANATION = (
    "At the first steps x_t is almost pure Gaussian noise and the predicted x0 is a blurry average face. "
    "Coarse structure (face outline, hair colour, where the eyes go) settles early, in the high-noise "
    "steps; later steps, at low noise, only add fine detail (eye highlights, hair strands, edges) while the "
    "remaining noise is removed.")


def grid(images: np.ndarray, pad: int = 2, scale: int = 1) -> np.ndarray:
    """uint8 [N, H, W, 3] -> one uint8 row image with white gaps, pixels repeated `scale` times."""
    if scale > 1:  # nearest-neighbour, so a projector shows pixels rather than blur
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, _ = images.shape
    out = np.full((h, n * w + (n - 1) * pad, 3), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        out[:, i * (w + pad):i * (w + pad) + w] = img
    return out


def denoise_stream(seed: int, num_images: int = 5, sampler: str = "DDIM", steps: int = 50, eta: float = 0.0,
                   view: str = "x_t", checkpoint: str = DEFAULT_CHECKPOINT,
                   frames: list | None = None) -> Iterator[tuple[np.ndarray, str]]:
    """Yield (grid of the current images, status) at every step; append (t, x_t, predicted x0) as uint8 to
    `frames` for at most MAX_KEPT evenly spaced moments of the run (all that the GIF and the figure show),
    starting with the noise x_T and ending with the final image (t = -1)."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    seeds = inputs.seeds(seed, num_images, MAX_IMAGES)
    model = REGISTRY.diffusion(checkpoint, "the denoising animation")
    name = sampler_name(sampler)
    limits.LIMITS.check_cost(len(seeds), network_evaluations(model, name, steps),
                      "this denoising run")
    run = stream(model, name, steps, eta, seeds=seeds)
    moments = len(run) + 1  # x_T, then one per step
    keep = set(np.linspace(0, moments - 1, min(MAX_KEPT, moments)).round().astype(int).tolist())
    deadline = limits.LIMITS.deadline()
    if frames is not None:
        start = to_uint8(run.x_T)
        frames.append((model.schedule.num_timesteps - 1, start, start))
    try:
        for step in run:
            deadline.check()
            x, x0 = to_uint8(step.x), to_uint8(step.x0)
            if frames is not None and step.index + 1 in keep:
                frames.append((step.t_prev, x, x0))
            shown = x if view == "x_t" else x0
            target = step.t_prev if step.t_prev >= 0 else "clean image"
            yield grid(shown, scale=3), f"step {step.index + 1}/{step.total}, t = {step.t} → {target}"
    finally:
        run.close()  # a closed handler (Stop) stops the sampler too


def q1_figure(frames: list, path: str, columns: int = FIGURE_COLUMNS) -> str:
    """HW6 Question 1: each image (rows) at ~`columns` timesteps from noise to face (x_t), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not frames:
        raise ValueError("no frames to plot: run the denoising first")
    picks = sorted(set(np.linspace(0, len(frames) - 1, min(columns, len(frames))).round().astype(int).tolist()))
    rows = frames[0][1].shape[0]
    fig, axes = plt.subplots(rows, len(picks), figsize=(len(picks) * 0.75, rows * 0.8 + 0.4), squeeze=False)
    for c, k in enumerate(picks):
        t, x, _ = frames[k]
        for r in range(rows):
            ax = axes[r][c]
            ax.imshow(x[r])
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t={t}" if t >= 0 else "x0", fontsize=7)
    fig.suptitle("Denoising: x_t from pure noise (left) to the generated face (right)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def denoise_outputs(frames: list, view: str = "x_t", out_dir: str | None = None,
                    max_gif_frames: int = 60) -> tuple[str, str]:
    """An animated GIF of the run (at most `max_gif_frames` frames) and the Q1 figure; returns their paths."""
    import imageio.v2 as imageio

    if not frames:
        raise ValueError("no frames: run the denoising first")
    out_dir = out_dir or files.new_dir("denoise")
    os.makedirs(out_dir, exist_ok=True)
    picks = np.linspace(0, len(frames) - 1, min(max_gif_frames, len(frames))).round().astype(int)
    images = [grid(frames[k][1] if view == "x_t" else frames[k][2]) for k in sorted(set(picks.tolist()))]
    gif = os.path.join(out_dir, "denoising.gif")
    imageio.mimsave(gif, images + [images[-1]] * 10, duration=0.08, loop=0)  # hold the last frame
    return gif, q1_figure(frames, os.path.join(out_dir, "hw6_q1_denoising.png"))


def denoise(seed: int, num_images: int = 5, sampler: str = "DDIM", steps: int = 50, eta: float = 0.0,
            view: str = "x_t", checkpoint: str = DEFAULT_CHECKPOINT
            ) -> Iterator[tuple[np.ndarray, str, str | None, str | None]]:
    """The tab's handler: (live image, status, GIF path, Q1 figure path); the files come with the last update."""
    frames: list = []
    image, status = None, ""
    for image, status in denoise_stream(seed, num_images, sampler, steps, eta, view, checkpoint, frames):
        yield image, status, None, None
    gif, figure = denoise_outputs(frames, view)
    yield image, f"{status} — done", gif, figure
