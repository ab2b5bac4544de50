"""The DDIM compare tab: one seed (the same x_T) across step counts × eta, with the time of each cell.

Same x_T → the same face across step counts at eta 0 (DDIM's consistency); eta 1 over all steps is DDPM.
Answers HW6 Question 2 with numbers measured on this machine.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import numpy as np

from lab import inputs
from lab.pipeline import stream, to_uint8
from lab.registry import REGISTRY

from . import files, limits
from .common import DEFAULT_CHECKPOINT, UNCHANGED, last


def _parse(values: str, kind: type, what: str) -> list:
    try:
        out = [kind(v) for v in str(values).replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"{what} must be a comma-separated list of numbers, got {values!r}") from None
    if not out or len(out) > 8:
        raise ValueError(f"{what}: give 1 to 8 values, got {values!r}")
    return out


def compare(*args, **kwargs) -> tuple[np.ndarray, str, str]:
    """(grid image: rows = eta, columns = steps [+ DDPM 1000], a markdown table, a plot path)."""
    return last(compare_stream(*args, **kwargs))


def compare_stream(seed: int, steps: str = "10,20,50,100", etas: str = "0,0.5,1", include_ddpm: bool | None = None,
                   checkpoint: str = DEFAULT_CHECKPOINT, progress: Callable[[float, str], None] | None = None,
                   out_dir: str | None = None) -> Iterator[tuple]:
    """Yields UNCHANGED outputs and a status after every network evaluation (so Stop ends the work within
    one), then (grid, table, plot path)."""
    include_ddpm = limits.LIMITS.ddpm_by_default if include_ddpm is None else bool(include_ddpm)
    model = REGISTRY.diffusion(checkpoint, "a DDIM steps comparison")
    T = model.schedule.num_timesteps
    step_list = [inputs.steps(s, T) for s in _parse(steps, float, "steps")]
    eta_list = [inputs.eta(e) for e in _parse(etas, float, "eta")]
    seed = inputs.seed(seed)
    cells = [("ddim", s, e) for e in eta_list for s in step_list] + ([("ddpm", None, 1.0)] if include_ddpm else [])
    total_nfe = sum(T if s is None else s for _, s, _ in cells)
    if total_nfe > limits.LIMITS.max_compare_evaluations:
        raise ValueError(f"this comparison needs {total_nfe:,} network evaluations (the steps of all cells"
                         f"{', DDPM 1000 included' if include_ddpm else ''}); the limit here is "
                         f"{limits.LIMITS.max_compare_evaluations:,}: ask for fewer or smaller step counts")
    deadline = limits.LIMITS.deadline()
    done, images, seconds = 0, {}, {}
    for name, steps_, eta in cells:
        label = f"{name.upper()} {steps_ or T} steps, eta {eta:g}"
        t0 = time.perf_counter()
        run = stream(model, name, steps_, eta, seeds=[seed])
        try:
            for step in run:
                deadline.check()
                done += 1
                if progress and (step.index % 10 == 0 or step.index + 1 == step.total):
                    progress(done / total_nfe, f"{label}: step {step.index + 1}/{step.total}")
                yield UNCHANGED, f"{label}: step {step.index + 1}/{step.total} …", UNCHANGED
        finally:
            run.close()
        seconds[(eta, steps_)] = time.perf_counter() - t0
        images[(eta, steps_)] = to_uint8(step.x)[0]
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
    out_dir = out_dir or files.new_dir("compare")
    os.makedirs(out_dir, exist_ok=True)
    plot = os.path.join(out_dir, "seconds_vs_steps.png")
    fig.savefig(plot)
    plt.close(fig)
    yield canvas, table, plot
