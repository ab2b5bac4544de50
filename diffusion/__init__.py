"""The diffusion core: schedules, the UNet, seeded noise and the DDPM / DDIM / DPM-Solver++ samplers.

It depends on torch alone: nothing here imports the GAN, detection, FID, training or the UI."""
from .noise import seeded_noise, slerp
from .samplers import SAMPLERS, SamplerStep, Sampling, ddim, ddpm, dpm_solver, eps_model, make_sampler, sample
from .schedules import SCHEDULES, SPACINGS, Schedule, make_schedule, timestep_pairs
from .unet import UNet, UNetConfig

__all__ = ["SAMPLERS", "SCHEDULES", "SPACINGS", "SamplerStep", "Sampling", "Schedule", "UNet", "UNetConfig", "ddim",
           "ddpm", "dpm_solver", "eps_model", "make_sampler", "make_schedule", "sample", "seeded_noise",
           "slerp", "timestep_pairs"]
