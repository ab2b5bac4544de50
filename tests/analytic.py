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


def gmm_eps(schedule: Schedule, means: torch.Tensor, weights: torch.Tensor, std: float):
    """Data ~ Σ_k w_k N(μ_k, std² I) in the plane: x_t ~ Σ_k w_k N(√ᾱ μ_k, (ᾱ std² + 1 − ᾱ) I), so
    E[ε | x_t] = −√(1−ᾱ) ∇log p_t(x_t) = √(1−ᾱ) Σ_k r_k(x_t) (x_t − √ᾱ μ_k) / (ᾱ std² + 1 − ᾱ), r_k the
    components' posterior weights."""
    def model(x, t):
        ab = schedule.alphas_cumprod[t].to(x.dtype)[:, None, None]  # [B, 1, 1]
        var = ab * std**2 + 1 - ab
        diff = x[:, None, :] - ab.sqrt() * means[None].to(x.dtype)  # [B, K, 2]
        logits = torch.log(weights.to(x.dtype))[None] - (diff**2).sum(-1) / (2 * var[:, :, 0])
        r = torch.softmax(logits, dim=1)[:, :, None]
        return (1 - ab[:, :, 0]).sqrt() * (r * diff).sum(1) / var[:, :, 0]
    return model
