"""Exact eps-predictors for data whose score is known in closed form: a point mass and a Gaussian."""
import torch

from diffusion.schedules import Schedule


def _alpha_bar(schedule: Schedule, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return schedule.alphas_cumprod[t].to(like.dtype).reshape(-1, *([1] * (like.ndim - 1)))


def point_mass_eps(schedule: Schedule, x0: torch.Tensor):
    """Data is the single image x0: E[ε | x_t] = (x_t - √ᾱ x0) / √(1-ᾱ)."""
    def model(x, t):
        ab = _alpha_bar(schedule, t, x)
        return (x - ab.sqrt() * x0) / (1 - ab).sqrt()
    return model


def gaussian_eps(schedule: Schedule, mean: float, std: float):
    """Data ~ N(mean, std²) per pixel: x_t ~ N(√ᾱ mean, ᾱ std² + 1 - ᾱ), and
    E[ε | x_t] = √(1-ᾱ) (x_t - √ᾱ mean) / (ᾱ std² + 1 - ᾱ)."""
    def model(x, t):
        ab = _alpha_bar(schedule, t, x)
        return (1 - ab).sqrt() * (x - ab.sqrt() * mean) / (ab * std**2 + 1 - ab)
    return model
