"""The StyleGAN baseline: a generator behind the same seed → image interface as the diffusion model."""
