"""Beta schedules, the forward process q(x_t | x_0), and reduced-step timestep arrays.

Everything is computed in float64 once; samplers read Python floats out of these tensors, so the
per-step arithmetic of a 1000-step schedule never accumulates float32 rounding.

Timesteps are *training indices* 0..T-1, as in the HW6 code: index t has ᾱ_t = alphas_cumprod[t].
A reduced-step sampler walks an explicit descending array of (t, t_prev) pairs whose last t_prev
is -1, which stands for ᾱ = 1 (the clean image). Samplers never re-derive t_prev by arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

SCHEDULES = ("linear", "cosine", "sigmoid")
SPACINGS = ("uniform", "quad", "linspace", "trailing")
MAX_BETA = 0.999  # cosine/sigmoid reach ᾱ=0 at t=T; clipping keeps every beta in (0, 1)


@dataclass(frozen=True)
class Schedule:
    """A discrete diffusion schedule of T steps (all tensors float64, length T)."""

    name: str
    betas: torch.Tensor

    def __post_init__(self) -> None:
        b = self.betas
        if b.dtype != torch.float64 or b.ndim != 1 or len(b) < 1:
            raise ValueError("betas must be a non-empty 1-D float64 tensor")
        if not bool(((b > 0) & (b < 1)).all()):
            raise ValueError("every beta must lie in (0, 1)")

    # -- derived quantities (cheap; recomputed on access keeps the dataclass trivially frozen) --
    @property
    def num_timesteps(self) -> int:
        return len(self.betas)

    @property
    def alphas(self) -> torch.Tensor:
        return 1.0 - self.betas

    @property
    def alphas_cumprod(self) -> torch.Tensor:
        return torch.cumprod(self.alphas, dim=0)

    def alpha_bar(self, t: int) -> float:
        """ᾱ at training index t as a Python float; t = -1 means the clean image (ᾱ = 1)."""
        if t == -1:
            return 1.0
        if not 0 <= t < self.num_timesteps:
            raise ValueError(f"t must be in -1..{self.num_timesteps - 1}, got {t}")
        return float(self.alphas_cumprod[t])

    # -- forward process --
    def q_mean_var(self, x0: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of q(x_t | x_0) = N(√ᾱ_t x_0, (1 - ᾱ_t) I) (DDPM eq. 4)."""
        ab = _gather(self.alphas_cumprod, t, x0)
        return ab.sqrt() * x0, (1.0 - ab).expand_as(x0)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Draw x_t ~ q(x_t | x_0) with the given standard-normal noise."""
        ab = _gather(self.alphas_cumprod, t, x0)
        return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise

    def v_target(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """v = √ᾱ ε - √(1-ᾱ) x_0 (Salimans & Ho, 2022)."""
        ab = _gather(self.alphas_cumprod, t, x0)
        return ab.sqrt() * noise - (1.0 - ab).sqrt() * x0

    def snr(self, t: torch.Tensor) -> torch.Tensor:
        ab = self.alphas_cumprod.to(t.device)[t]
        return ab / (1.0 - ab)


def _gather(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] reshaped to broadcast over `like` ([B] -> [B, 1, 1, 1]) in like's dtype."""
    out = values.to(like.device)[t].to(like.dtype)
    return out.reshape(-1, *([1] * (like.ndim - 1)))


def _betas_from_alpha_bar(alpha_bar: torch.Tensor) -> torch.Tensor:
    """alpha_bar has T+1 entries, alpha_bar[0] = 1 at 'time 0'; returns T clipped betas."""
    betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]
    return betas.clamp(min=1e-12, max=MAX_BETA)


def make_schedule(name: str, timesteps: int = 1000) -> Schedule:
    """Build a named beta schedule of `timesteps` steps, in float64.

    - linear:  DDPM's 1e-4 → 0.02, both scaled by 1000/T (as the HW6 code does).
    - cosine:  Nichol & Dhariwal (2021), ᾱ(t) ∝ cos²((t/T + s)/(1 + s) · π/2), s = 0.008.
    - sigmoid: Jabri et al. (2022), ᾱ(t) from sigmoid((t/T)(end-start)+start)/tau), start -3, end 3, tau 1.
    """
    if not isinstance(timesteps, int) or isinstance(timesteps, bool) or timesteps < 1:
        raise ValueError(f"timesteps must be an integer >= 1, got {timesteps!r}")
    T = timesteps
    if name == "linear":
        scale = 1000.0 / T
        betas = torch.linspace(scale * 1e-4, scale * 0.02, T, dtype=torch.float64)
        if float(betas[-1]) >= 1.0:
            raise ValueError(f"linear schedule needs timesteps >= 21 (beta_end = 20/T < 1), got {T}")
        return Schedule(name, betas)
    t = torch.arange(T + 1, dtype=torch.float64) / T
    if name == "cosine":
        s = 0.008
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        return Schedule(name, _betas_from_alpha_bar(f / f[0]))
    if name == "sigmoid":
        start, end, tau = -3.0, 3.0, 1.0
        v_start = torch.sigmoid(torch.tensor(start / tau, dtype=torch.float64))
        v_end = torch.sigmoid(torch.tensor(end / tau, dtype=torch.float64))
        f = (v_end - torch.sigmoid((t * (end - start) + start) / tau)) / (v_end - v_start)
        return Schedule(name, _betas_from_alpha_bar(f / f[0]))
    raise ValueError(f"unknown schedule {name!r}; allowed: {', '.join(SCHEDULES)}")


def timestep_pairs(num_timesteps: int, steps: int, spacing: str = "trailing") -> torch.Tensor:
    """The descending (t, t_prev) pairs a `steps`-step sampler walks: a LongTensor [steps, 2].

    Spacings (T = num_timesteps, S = steps):
    - uniform:  τ_i = i·⌊T/S⌋ (DDIM paper, "leading"): 0, c, 2c, ...
    - quad:     τ_i = ⌊(i·√(0.8T)/(S-1))²⌋ (DDIM paper), made strictly increasing.
    - linspace: round(linspace(0, T-1, S)), so the first step is at T-1 and the last at 0.
    - trailing: round(T - i·T/S) - 1, so the first step is at T-1 (the HW6 code's DDIM).
    Every array ends with t_prev = -1, i.e. the last step goes to ᾱ = 1.
    """
    T, S = num_timesteps, steps
    if not isinstance(S, int) or isinstance(S, bool) or not 1 <= S <= T:
        raise ValueError(f"steps must be an integer in 1..{T}, got {S!r}")
    if spacing == "uniform":
        ts = torch.arange(S, dtype=torch.int64) * (T // S)
    elif spacing == "quad":
        raw = (torch.linspace(0, math.sqrt(0.8 * T), S, dtype=torch.float64) ** 2).floor().long()
        ts = raw.clone()
        for i in range(1, S):  # push duplicates up, then cap from the top: strictly increasing, < T
            ts[i] = max(int(ts[i]), int(ts[i - 1]) + 1)
        ts = torch.minimum(ts, torch.arange(T - S, T, dtype=torch.int64))
    elif spacing == "linspace":
        ts = torch.linspace(0, T - 1, S, dtype=torch.float64).round().long() if S > 1 else torch.tensor([T - 1])
    elif spacing == "trailing":
        ts = (T - torch.arange(S, dtype=torch.float64) * (T / S)).round().long().flip(0) - 1
    else:
        raise ValueError(f"unknown spacing {spacing!r}; allowed: {', '.join(SPACINGS)}")
    ts = ts.flip(0)  # descending
    if not bool((ts[:-1] > ts[1:]).all()) or int(ts.min()) < 0 or int(ts.max()) >= T:
        raise AssertionError(f"internal error: bad timesteps for spacing {spacing}: {ts.tolist()}")
    t_prev = torch.cat([ts[1:], torch.tensor([-1])])
    return torch.stack([ts, t_prev], dim=1)
