"""The 2-D playground: the whole diffusion process on a plane, driven by the same schedules and samplers that draw
the faces. A point cloud is the data, a small MLP is just another v-model, and `diffusion/`'s DDPM, DDIM and
DPM-Solver++ walk it unchanged.

    data = points("moons", 1000, seed=0)
    model = PointModel(PointConfig())
    losses = train(model, data)                             # seconds on a CPU (training(): step by step)
    run = sample_paths(model, "ddim", 20, 0.0, n=300, seed=0)  # the cloud at every step: [S + 1, n, 2]

Shipped models (checkpoints/playground/NAME.safetensors, config in the file's metadata) give an instant start.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from diffusion.samplers import eps_model, make_sampler, sampler_spec
from diffusion.schedules import make_schedule

from . import inputs
from .refusal import Refusal

DATASETS = ("moons", "swiss roll", "rings", "gaussian mixture", "word")
MAX_WORD = 8  # characters of a typed word


# ----------------------------------------------------------------------------- data

def points(name: str, n: int, seed: int = 0, word: str = "NTU", font: str | None = None) -> torch.Tensor:
    """n points [n, 2] of a data set, scaled to about the unit square (std ≈ 0.5–0.8), from one generator."""
    inputs.one_of(name, "data set", DATASETS)
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, generator=g)
    noise = torch.randn(n, 2, generator=g)
    if name == "moons":
        upper = torch.rand(n, generator=g) < 0.5
        angle = math.pi * u
        x = torch.where(upper, torch.cos(angle), 1 - torch.cos(angle))
        y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
        return (torch.stack([x - 0.5, y - 0.25], 1) + 0.06 * noise) * 0.9
    if name == "swiss roll":
        t = 1.5 * math.pi * (1 + 2 * u)
        return torch.stack([t * torch.cos(t), t * torch.sin(t)], 1) / 10 + 0.03 * noise
    if name == "rings":
        radius = torch.where(torch.rand(n, generator=g) < 0.5, 0.5, 1.0)
        angle = 2 * math.pi * u
        return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1) + 0.03 * noise
    if name == "gaussian mixture":
        means, weights, std = GMM
        k = torch.multinomial(torch.tensor(weights), n, replacement=True, generator=g)
        return torch.tensor(means, dtype=torch.float32)[k] + std * noise
    return word_points(word, n, seed, font)


# 8 components on a circle, unequal weights, so a sampler that drops a mode or mis-weighs one is seen
GMM = ([(math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)) for k in range(8)],
       [0.2, 0.05, 0.15, 0.1, 0.2, 0.05, 0.15, 0.1], 0.08)


def word_points(word: str, n: int, seed: int = 0, font: str | None = None) -> torch.Tensor:
    """n points on the strokes of `word` rasterised with `font` (a TTF/TTC path; a CJK font draws 擴散), in a box
    3.6 wide (of the plots' 4.4), centred: the strokes are thin, and wider letters are easier to learn and see."""
    from PIL import Image, ImageDraw, ImageFont

    word = str(word).strip()
    if not 1 <= len(word) <= MAX_WORD:
        raise Refusal("word", f"the word must have 1 to {MAX_WORD} characters, got {len(word)}",
                             most=MAX_WORD, n=len(word))
    type_ = ImageFont.truetype(font, 64) if font else ImageFont.load_default(64)
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), word, font=type_)
    image = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(image).text((4 - left, 4 - top), word, fill=255, font=type_)
    mask = np.asarray(image) > 127
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise Refusal("word_glyphs", f"the font here has no glyphs for {word!r}: type letters or digits",
                             word=word)
    g = torch.Generator().manual_seed(seed)
    pick = torch.randint(0, len(xs), (n,), generator=g).numpy()
    jitter = torch.rand(n, 2, generator=g).numpy()
    xy = np.stack([xs[pick] + jitter[:, 0], -(ys[pick] + jitter[:, 1])], 1).astype(np.float32)
    xy -= xy.mean(0)
    return torch.from_numpy(xy * (3.6 / max(image.size)))


# ----------------------------------------------------------------------------- the model

@dataclass(frozen=True)
class PointConfig:
    hidden: int = 128
    depth: int = 3  # hidden layers
    schedule: str = "cosine"
    timesteps: int = 100
    embedding: int = 32  # sinusoidal time features
    fourier: int = 6  # sin/cos of each coordinate at 1, 2, 4 … 2^(n-1) half-turns per unit: without them an MLP
    #                   draws a typed word as a blurred box (fit 0.029, data vs data 0.010; with them 0.022)


class PointModel(nn.Module):
    """An MLP for 2-D points: [x, y, sinusoidal(t)] → hidden layers (SiLU) → v̂, as the face UNet predicts v
    (with ε-prediction the first steps divide the error by √ᾱ_T ≈ 0.01, and nothing clips it on a plane)."""

    def __init__(self, config: PointConfig = PointConfig(), seed: int = 0) -> None:
        super().__init__()
        self.config = config
        self.schedule = make_schedule(config.schedule, config.timesteps)
        layers, width = [], 2 + 4 * config.fourier + config.embedding
        with torch.random.fork_rng(devices=[]):  # its initial weights depend on `seed` alone
            torch.manual_seed(seed)
            for _ in range(config.depth):
                layers += [nn.Linear(width, config.hidden), nn.SiLU()]
                width = config.hidden
            self.net = nn.Sequential(*layers, nn.Linear(width, 2))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        half = self.config.embedding // 2
        freqs = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32) / half)
        angle = (t.float() * (1000.0 / self.config.timesteps))[:, None] * freqs[None]
        turns = (x[:, :, None] * (math.pi / 2 * 2.0 ** torch.arange(self.config.fourier, dtype=torch.float32))
                 ).flatten(1)
        return self.net(torch.cat([x, torch.sin(turns), torch.cos(turns), torch.sin(angle), torch.cos(angle)], 1))


# The recipe the tab trains with and the shipped models were made by: a large batch keeps one training run close
# to another (the fit's spread over seeds 4–12 % at batch 1024, up to 29 % at 256 before the coordinate features: `bench/playground.py --seeds 3
# [--batch 256]`), in 10–13 s on 2 cores.
TRAIN_STEPS, TRAIN_BATCH, TRAIN_LR = 1500, 1024, 5e-3


def training(model: PointModel, data: torch.Tensor, steps: int = TRAIN_STEPS, batch: int = TRAIN_BATCH,
             lr: float = TRAIN_LR, seed: int = 0, every: int = 50):
    """Fit the model to `data` (v-prediction, uniform t, unweighted), with the lr falling linearly to 0; yields
    (step, mean loss of the last `every` steps) as it goes, so a caller shows progress and stops by closing it."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    T, running = model.config.timesteps, 0.0
    model.train()
    try:
        for step in range(steps):
            for group in opt.param_groups:
                group["lr"] = lr * (1 - step / steps)
            x0 = data[torch.randint(0, len(data), (batch,), generator=g)]
            t = torch.randint(0, T, (batch,), generator=g)
            eps = torch.randn(batch, 2, generator=g)
            target = model.schedule.v_target(x0, t, eps)
            loss = ((model(model.schedule.q_sample(x0, t, eps), t) - target) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += loss.item()
            if (step + 1) % every == 0:
                yield step + 1, running / every
                running = 0.0
    finally:
        model.eval()


def train(model: PointModel, data: torch.Tensor, steps: int = TRAIN_STEPS, batch: int = TRAIN_BATCH,
          lr: float = TRAIN_LR, seed: int = 0) -> list[float]:
    """training() to the end; returns the loss per 50 steps."""
    return [loss for _, loss in training(model, data, steps, batch, lr, seed)]


# ----------------------------------------------------------------------------- sampling and views

def sample_paths(model: PointModel, sampler: str, steps: int | None, eta: float, n: int, seed: int = 0
                 ) -> torch.Tensor:
    """The cloud at every step of `sampler` from n Gaussian points of one seed: [S + 1, n, 2] (x_T first). The
    samplers are diffusion/'s, unchanged; no clipping (the plane has no [-1, 1] range)."""
    spec = sampler_spec(sampler)
    steps = None if spec.default_steps is None else inputs.steps(steps, model.config.timesteps)
    g = torch.Generator().manual_seed(seed)
    x_T = torch.randn(n, 2, generator=g)
    with torch.no_grad():
        run = make_sampler(sampler, eps_model(model, model.schedule, "v"), model.schedule, x_T, steps=steps,
                           eta=inputs.eta(eta), generator=g, clip_x0=False)
        return torch.stack([x_T] + [s.x for s in run])


def forward_cloud(data: torch.Tensor, schedule, t: int, seed: int = 0) -> torch.Tensor:
    """q(x_t | x_0) applied to the data at training index t."""
    g = torch.Generator().manual_seed(seed)
    return schedule.q_sample(data, torch.full((len(data),), t), torch.randn(data.shape, generator=g))


def denoising_field(model: PointModel, t: int, lim: float = 2.0, cells: int = 17) -> tuple[torch.Tensor, torch.Tensor]:
    """(grid points [cells², 2], the step from each towards its predicted clean point x̂0 − x) at index t."""
    axis = torch.linspace(-lim, lim, cells)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    ab = float(model.schedule.alphas_cumprod[t])
    with torch.no_grad():
        v = model(grid, torch.full((len(grid),), t))
    x0 = math.sqrt(ab) * grid - math.sqrt(1 - ab) * v  # x̂0 = √ᾱ x_t − √(1−ᾱ) v̂
    return grid, x0 - grid


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, projections: int = 64, seed: int = 0) -> float:
    """The sliced 1-Wasserstein distance between two clouds of equal size (mean over random directions)."""
    g = torch.Generator().manual_seed(seed)
    angle = torch.rand(projections, generator=g) * math.pi
    dirs = torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    pa, pb = (a.float() @ dirs.T).sort(0).values, (b.float() @ dirs.T).sort(0).values
    return float((pa - pb).abs().mean())


def fit_curve(model: PointModel, data: torch.Tensor, steps_list: list[int], n: int = 500, seed: int = 0
              ) -> dict[str, list[tuple[int, float]]]:
    """The sliced Wasserstein distance to the data against network evaluations, per sampler (DDPM: all T)."""
    ref = data[:n]
    curves = {"DDPM": [(model.config.timesteps, sliced_wasserstein(sample_paths(model, "ddpm", None, 1.0, n, seed)[-1],
                                                                   ref))]}
    for label, sampler, eta in (("DDIM η 0", "ddim", 0.0), ("DDIM η 1", "ddim", 1.0), ("DPM-Solver++", "dpm-solver", 0.0)):
        curves[label] = [(s, sliced_wasserstein(sample_paths(model, sampler, s, eta, n, seed)[-1], ref))
                         for s in steps_list if s <= model.config.timesteps]
    return curves


# ----------------------------------------------------------------------------- shipped models

def save(model: PointModel, path: str, extra: dict | None = None) -> None:
    from safetensors.torch import save_file

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    meta = {"config": json.dumps(asdict(model.config)), "extra": json.dumps(extra or {})}
    tmp = f"{path}.tmp{os.getpid()}"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp, metadata=meta)
    os.replace(tmp, path)


def load(path: str) -> tuple[PointModel, dict]:
    """A shipped or saved playground model and what was recorded with it; a missing file is one sentence."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    if not os.path.isfile(path):
        raise FileNotFoundError(f"no playground model at {path}: train one with the Train button or "
                                f"bench/playground_models.py")
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
    model = PointModel(PointConfig(**{"fourier": 0, **json.loads(meta["config"])}))  # saved before it had them
    model.load_state_dict(load_file(path))
    return model.eval(), json.loads(meta.get("extra", "{}"))
