"""Anime Face Diffusion Lab: a compact diffusion core (schedules, UNet, samplers)."""
from .samplers import (SAMPLERS, SamplerStep, Sampling, ddim, ddpm, dpm_solver, eps_model, make_sampler, sample,
                       seeded_noise)
from .schedules import SCHEDULES, SPACINGS, Schedule, make_schedule, timestep_pairs
from .unet import UNet, UNetConfig

__all__ = ["SAMPLERS", "SCHEDULES", "SPACINGS", "SamplerStep", "Sampling", "Schedule", "UNet", "UNetConfig", "ddim",
           "ddpm", "dpm_solver", "eps_model", "make_sampler", "make_schedule", "sample", "seeded_noise",
           "timestep_pairs"]
