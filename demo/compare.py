"""The DDIM compare tab: one seed (the same x_T) across step counts × eta, with the time of each cell.

Same x_T → the same face across step counts at eta 0 (DDIM's consistency); eta 1 over all steps is DDPM.
Answers HW6 Question 2 with numbers measured on this machine.
"""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

import numpy as np

from lab import inputs
from lab.pipeline import sample_images
from lab.registry import REGISTRY

from .common import DEFAULT_CHECKPOINT


def _parse(values: str, kind: type, what: str) -> list:
    try:
        out = [kind(v) for v in str(values).replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"{what} must be a comma-separated list of numbers, got {values!r}") from None
    if not out or len(out) > 8:
        raise ValueError(f"{what}: give 1 to 8 values, got {values!r}")
    return out


def compare(seed: int, steps: str = "10,20,50,100", etas: str = "0,0.5,1", include_ddpm: bool = True,
            checkpoint: str = DEFAULT_CHECKPOINT, progress: Callable[[float, str], None] | None = None,
            out_dir: str | None = None) -> tuple[np.ndarray, str, str]:
    """(grid image: rows = eta, columns = steps [+ DDPM 1000], a markdown table, a plot path)."""
    model = REGISTRY.diffusion(checkpoint, "a DDIM steps comparison")
    T = model.schedule.num_timesteps
    step_list = [inputs.steps(s, T) for s in _parse(steps, float, "steps")]
    eta_list = [inputs.eta(e) for e in _parse(etas, float, "eta")]
    seed = inputs.seed(seed)
    cells = [(e, s) for e in eta_list for s in step_list]
    total_nfe = sum(s for _, s in cells) + (T if include_ddpm else 0)
    done, images, seconds = 0, {}, {}

    def run(name: str, steps_: int | None, eta: float) -> None:
        nonlocal done
        if progress:
            progress(done / total_nfe, f"{name.upper()} {steps_ or T} steps, eta {eta:g} …")
        t0 = time.perf_counter()
        images[(eta, steps_)] = sample_images(model, [seed], name, steps_, eta)[0]
        seconds[(eta, steps_)] = time.perf_counter() - t0
        done += T if steps_ is None else steps_

    for eta, s in cells:
        run("ddim", s, eta)
    if include_ddpm:
        run("ddpm", None, 1.0)
    if progress:
        progress(1.0, "done")
    # the grid: a row per eta; DDPM sits in the last column of the eta = 1 row (it is η = 1 over all steps)
    size, pad = model.image_size, 4
    cols = len(step_list) + (1 if include_ddpm else 0)
    canvas = np.full((len(eta_list) * (size + pad) - pad, cols * (size + pad) - pad, 3), 255, dtype=np.uint8)
    for r, eta in enumerate(eta_list):
        for c, s in enumerate(step_list):
            canvas[r * (size + pad):r * (size + pad) + size, c * (size + pad):c * (size + pad) + size] = images[(eta, s)]
    ddpm_row = eta_list.index(1.0) if 1.0 in eta_list else len(eta_list) - 1
    if include_ddpm:  # DDPM is DDIM with eta 1 over all T steps: it sits at the end of that row
        c, r = len(step_list), ddpm_row
        canvas[r * (size + pad):r * (size + pad) + size, c * (size + pad):c * (size + pad) + size] = images[(1.0, None)]
    canvas = canvas.repeat(3, axis=0).repeat(3, axis=1)

    header = "| eta \\ steps | " + " | ".join(str(s) for s in step_list) + (" | DDPM 1000 |" if include_ddpm else " |")
    rows = [header, "|---" * (cols + 1) + "|"]
    for eta in eta_list:
        cells_s = [f"{seconds[(eta, s)]:.2f} s" for s in step_list]
        if not include_ddpm:
            rows.append(f"| {eta:g} | " + " | ".join(cells_s) + " |")
            continue
        ddpm_cell = f" | {seconds[(1.0, None)]:.2f} s |" if eta == eta_list[ddpm_row] else " | |"
        rows.append(f"| {eta:g} | " + " | ".join(cells_s) + ddpm_cell)
    where = "in the eta = 1 row" if 1.0 in eta_list else "at the end of the last row"
    table = "\n".join(rows) + (f"\n\nDDPM ({T} steps, posterior variance: eta 1) is shown {where}." if include_ddpm
                               else "")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=110)
    for eta in eta_list:
        ax.plot(step_list, [seconds[(eta, s)] for s in step_list], "o-", label=f"DDIM eta {eta:g}")
    if include_ddpm:
        ax.plot([T], [seconds[(1.0, None)]], "s", color="black", label=f"DDPM {T}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sampling steps (network evaluations)")
    ax.set_ylabel("seconds per image")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out_dir = out_dir or tempfile.mkdtemp(prefix="compare-")
    os.makedirs(out_dir, exist_ok=True)
    plot = os.path.join(out_dir, "seconds_vs_steps.png")
    fig.savefig(plot)
    plt.close(fig)
    return canvas, table, plot
