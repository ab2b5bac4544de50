"""DDPM, DDIM and DPM-Solver++(2M) samplers as generators.

Each sampler yields one `SamplerStep` per network evaluation: the current sample `x`, the predicted
clean image `x0`, the step index and the (t, t_prev) pair it walked. `sample()` drains a sampler to
its final image; a live UI pulls steps one by one and stops by closing the generator.

`model(x, t)` is any callable returning eps for a LongTensor t of shape [B] holding training indices
0..T-1; `eps_model()` wraps a network that predicts v. Steps walk an explicit descending array of
(t, t_prev) pairs from `timestep_pairs`; t_prev = -1 is the clean image (ᾱ = 1).

Randomness: pass one torch.Generator per image (see `seeded_noise`) and every random draw of that
image, x_T included, comes from its own generator, so an image depends on its seed alone.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from .noise import GeneratorArg, randn_like
from .schedules import Schedule, timestep_pairs

PREDICTIONS = ("eps", "v")
Model = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class SamplerStep:
    index: int  # 0-based step number
    total: int  # number of steps in this run
    t: int  # training index the network was evaluated at
    t_prev: int  # where this step landed; -1 = the clean image
    x: torch.Tensor  # the sample after this step (x at t_prev)
    x0: torch.Tensor  # the predicted clean image at this step
    nfe: int  # network evaluations so far


class Sampling(Iterator[SamplerStep]):
    """A running sampler: iterate for its steps, len() is its step count, close() stops it."""

    def __init__(self, steps: Iterator[SamplerStep], total: int, x_T: torch.Tensor) -> None:
        self._steps, self.total, self.x_T = steps, total, x_T  # x_T: where the run starts

    def __iter__(self) -> Sampling:
        return self

    def __next__(self) -> SamplerStep:
        return next(self._steps)

    def __len__(self) -> int:
        return self.total

    def close(self) -> None:
        self._steps.close()


# ----------------------------------------------------------------------------- model helpers

def eps_model(net: Model, schedule: Schedule, prediction: str = "eps") -> Model:
    """Wrap a network predicting `prediction` ("eps" or "v") as an eps-predictor."""
    if prediction == "eps":
        return net
    if prediction != "v":
        raise ValueError(f"unknown prediction {prediction!r}; allowed: {', '.join(PREDICTIONS)}")
    alphas_cumprod = schedule.alphas_cumprod

    def eps_from_v(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = alphas_cumprod.to(x.device)[t].to(x.dtype).reshape(-1, *([1] * (x.ndim - 1)))
        return ab.sqrt() * net(x, t) + (1 - ab).sqrt() * x  # ε = √ᾱ v + √(1-ᾱ) x_t

    return eps_from_v


def _predict(model: Model, x: torch.Tensor, t: int, ab: float, clip_x0: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(eps, x0) at training index t. With clipping, eps is recomputed from the clipped x0 so the
    update stays consistent with the x0 it uses (as improved-diffusion does)."""
    with torch.no_grad():
        eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long, device=x.device))
    if eps.shape != x.shape:
        raise ValueError(f"model returned shape {tuple(eps.shape)} for input {tuple(x.shape)}")
    x0 = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)  # DDPM eq. 15 / DDIM eq. 9
    if clip_x0:
        x0 = x0.clamp(-1, 1)
        eps = (x - math.sqrt(ab) * x0) / math.sqrt(1 - ab)
    return eps, x0


def _check_noise(noise: torch.Tensor, generator: GeneratorArg) -> None:
    if not isinstance(noise, torch.Tensor) or not noise.is_floating_point() or noise.ndim < 2:
        raise ValueError("noise must be a floating-point tensor [B, ...]")
    if generator is not None and not isinstance(generator, torch.Generator) and len(generator) != noise.shape[0]:
        raise ValueError(f"got {len(generator)} generators for a batch of {noise.shape[0]}; pass one per image")


# ----------------------------------------------------------------------------- samplers

def ddpm(model: Model, schedule: Schedule, noise: torch.Tensor, generator: GeneratorArg = None,
         clip_x0: bool = True) -> Sampling:
    """Ancestral sampling over all T steps with the posterior variance β̃_t (DDPM eq. 6-7)."""
    _check_noise(noise, generator)
    T = schedule.num_timesteps
    pairs = timestep_pairs(T, T, "uniform").tolist()
    return Sampling(_ddpm(model, schedule, noise, pairs, generator, clip_x0), len(pairs), noise)


def _ddpm(model, schedule, noise, pairs, generator, clip_x0):
    ab_all = schedule.alphas_cumprod.tolist()
    x = noise
    for i, (t, t_prev) in enumerate(pairs):
        ab, ab_prev = ab_all[t], (ab_all[t_prev] if t_prev >= 0 else 1.0)
        beta = 1 - ab / ab_prev
        _, x0 = _predict(model, x, t, ab, clip_x0)
        # posterior mean μ̃(x_t, x0) and variance β̃ of q(x_{t_prev} | x_t, x0), DDPM eq. 7
        mean = (math.sqrt(ab_prev) * beta / (1 - ab)) * x0 + (math.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab)) * x
        var = beta * (1 - ab_prev) / (1 - ab)
        x = mean + math.sqrt(var) * randn_like(x, generator) if var > 0 else mean
        yield SamplerStep(i, len(pairs), t, t_prev, x, x0, i + 1)


def ddim(model: Model, schedule: Schedule, noise: torch.Tensor, steps: int = 50, eta: float = 0.0,
         spacing: str = "trailing", generator: GeneratorArg = None, clip_x0: bool = True) -> Sampling:
    """DDIM (Song et al. 2021) eq. 12 with σ_t(η) of eq. 16; η = 0 is deterministic, η = 1 over all
    T steps is DDPM."""
    _check_noise(noise, generator)
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must be a number in [0, 1], got {eta!r}")
    pairs = timestep_pairs(schedule.num_timesteps, steps, spacing).tolist()
    return Sampling(_ddim(model, schedule, noise, pairs, float(eta), generator, clip_x0), len(pairs), noise)


def _ddim(model, schedule, noise, pairs, eta, generator, clip_x0):
    ab_all = schedule.alphas_cumprod.tolist()
    x = noise
    for i, (t, t_prev) in enumerate(pairs):
        ab, ab_prev = ab_all[t], (ab_all[t_prev] if t_prev >= 0 else 1.0)
        eps, x0 = _predict(model, x, t, ab, clip_x0)
        sigma = eta * math.sqrt((1 - ab_prev) / (1 - ab)) * math.sqrt(1 - ab / ab_prev)  # eq. 16
        x = math.sqrt(ab_prev) * x0 + math.sqrt(max(1 - ab_prev - sigma**2, 0.0)) * eps  # eq. 12
        if sigma > 0:
            x = x + sigma * randn_like(x, generator)
        yield SamplerStep(i, len(pairs), t, t_prev, x, x0, i + 1)


def dpm_solver(model: Model, schedule: Schedule, noise: torch.Tensor, steps: int = 20,
               spacing: str = "trailing", generator: GeneratorArg = None,
               clip_x0: bool = True) -> Sampling:
    """DPM-Solver++(2M) (Lu et al. 2022, Alg. 2): multistep, second order, data (x0) prediction.

    Deterministic; `generator` is accepted for a uniform interface and unused. The last step goes
    to ᾱ = 1 (λ = ∞), where the solver's first-order update is exactly x = x0.
    """
    _check_noise(noise, generator)
    pairs = timestep_pairs(schedule.num_timesteps, steps, spacing).tolist()
    return Sampling(_dpm_solver(model, schedule, noise, pairs, clip_x0), len(pairs), noise)


def _dpm_solver(model, schedule, noise, pairs, clip_x0):
    ab_all = schedule.alphas_cumprod.tolist()
    x, x0_last, h_last = noise, None, None
    for i, (t, t_prev) in enumerate(pairs):
        ab = ab_all[t]
        _, x0 = _predict(model, x, t, ab, clip_x0)
        if t_prev < 0:
            x = x0
        else:
            ab_prev = ab_all[t_prev]
            lam, lam_prev = 0.5 * math.log(ab / (1 - ab)), 0.5 * math.log(ab_prev / (1 - ab_prev))
            h = lam_prev - lam  # λ = log(α/σ) increases towards the data
            if x0_last is None:
                d = x0  # first step: DPM-Solver++(1), i.e. DDIM
            else:
                r = h_last / h
                d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * x0_last  # Alg. 2, D_i
            x = (math.sqrt(1 - ab_prev) / math.sqrt(1 - ab)) * x - math.sqrt(ab_prev) * math.expm1(-h) * d
            x0_last, h_last = x0, h
        yield SamplerStep(i, len(pairs), t, t_prev, x, x0, i + 1)


@dataclass(frozen=True)
class SamplerSpec:
    """One row of the sampler table: the name the CLIs and links use, the name people read, the function, and
    which of steps and eta it takes (DDPM walks all T steps; only DDIM has eta)."""
    name: str
    display: str
    function: Callable[..., Sampling]
    default_steps: int | None
    takes_eta: bool = False


SAMPLER_TABLE = {spec.name: spec for spec in (
    SamplerSpec("dpm-solver", "DPM-Solver++", dpm_solver, 20),
    SamplerSpec("ddim", "DDIM", ddim, 50, takes_eta=True),
    SamplerSpec("ddpm", "DDPM", ddpm, None),
)}
SAMPLERS = tuple(SAMPLER_TABLE)


def sampler_spec(name: str) -> SamplerSpec:
    if name not in SAMPLER_TABLE:
        raise ValueError(f"unknown sampler {name!r}; allowed: {', '.join(SAMPLERS)}")
    return SAMPLER_TABLE[name]


def make_sampler(name: str, model: Model, schedule: Schedule, noise: torch.Tensor, steps: int | None = None,
                 eta: float = 0.0, spacing: str = "trailing", generator: GeneratorArg = None,
                 clip_x0: bool = True) -> Sampling:
    """One entry point for the CLIs and the app: `name` is a key of SAMPLER_TABLE. DDPM ignores steps/eta."""
    spec = sampler_spec(name)
    kwargs = {"generator": generator, "clip_x0": clip_x0}
    if spec.default_steps is not None:
        kwargs.update(steps=spec.default_steps if steps is None else steps, spacing=spacing)
    if spec.takes_eta:
        kwargs["eta"] = eta
    return spec.function(model, schedule, noise, **kwargs)


def sample(steps: Iterator[SamplerStep], progress: bool = False, desc: str = "sampling") -> torch.Tensor:
    """Drain a sampler and return its final image (the last step's x)."""
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc=desc, unit="step", total=len(steps) if hasattr(steps, "__len__") else None)
    last = None
    for last in steps:
        pass
    if last is None:
        raise ValueError("the sampler produced no steps")
    return last.x
