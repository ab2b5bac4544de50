"""The forward process and the schedules as numbers the teaching views draw: q(x_t | x_0) of one face under
every schedule with the same noise, the schedule curves, and the timesteps a sampler visits."""
from __future__ import annotations

import numpy as np
import torch

from diffusion.schedules import SCHEDULES, SPACINGS, make_schedule, timestep_pairs

from . import inputs
from .pipeline import to_uint8

MAX_COLUMNS = 10


def parse_timesteps(text: str, T: int) -> list[int]:
    """'0, 100, 500, 999' → [0, 100, 500, 999], each a whole number in 0..T-1, 1 to MAX_COLUMNS of them."""
    parts = [p for p in str(text).replace(" ", "").split(",") if p]
    if not 1 <= len(parts) <= MAX_COLUMNS:
        raise ValueError(f"timesteps: give 1 to {MAX_COLUMNS} comma-separated values, got {text!r}")
    return [inputs.whole(p, "each timestep", 0, T - 1) for p in parts]


def forward_grid(face: np.ndarray, timesteps: list[int], T: int = 1000, seed: int = 0,
                 schedules: tuple[str, ...] = SCHEDULES) -> np.ndarray:
    """uint8 [len(schedules), len(timesteps), H, W, 3]: x_t ~ q(x_t | x_0) = √ᾱ_t x_0 + √(1-ᾱ_t) ε (DDPM eq. 4),
    with one ε (from `seed`) for every cell, so only the schedule and t differ."""
    x0 = torch.from_numpy(np.ascontiguousarray(face)).permute(2, 0, 1).float().div(127.5).sub(1)[None]
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(inputs.seed(seed)))
    t = torch.tensor(timesteps)
    rows = []
    for name in schedules:
        schedule = make_schedule(name, T)
        rows.append(to_uint8(schedule.q_sample(x0.expand(len(t), -1, -1, -1), t, eps.expand(len(t), -1, -1, -1))))
    return np.stack(rows)


def curves(T: int = 1000, schedules: tuple[str, ...] = SCHEDULES) -> dict[str, dict[str, np.ndarray]]:
    """Per schedule: ᾱ_t, √ᾱ_t, √(1-ᾱ_t), log-SNR = log(ᾱ/(1-ᾱ)) and β_t, for t = 0..T-1."""
    out = {}
    for name in schedules:
        s = make_schedule(name, T)
        ab = s.alphas_cumprod.numpy()
        out[name] = {"alpha_bar": ab, "sqrt_alpha_bar": np.sqrt(ab), "sqrt_one_minus": np.sqrt(1 - ab),
                     "log_snr": np.log(ab / (1 - ab)), "beta": s.betas.numpy()}
    return out


def visited(T: int, steps: int, spacing: str) -> list[int]:
    """The timesteps a `steps`-step sampler evaluates the network at, first to last."""
    inputs.one_of(spacing, "spacing", SPACINGS)
    return timestep_pairs(T, inputs.steps(steps, T), spacing)[:, 0].tolist()
