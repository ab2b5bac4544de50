"""The one sampling path: seeds → x_T per seed → a sampler (or the GAN) → images.

Every tab and CLI goes through here. `stream()` is the per-step view the live tabs pull from (and stop by
closing); `sample_images()` drains it to uint8 images; `generate_batches()` and `write_images()` do that a
batch at a time for any number of images. An image depends on its seed alone, whatever the batch.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from diffusion.noise import seeded_noise, slerp
from diffusion.samplers import SAMPLERS, Sampling, make_sampler, sample

from . import inputs
from .checkpoint import LoadedGAN, LoadedModel

JPEG_QUALITY = 95


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3] (round half up, as torchvision's save_image)."""
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5 + 0.5).clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def check_sampler(model: LoadedModel, sampler: str, steps: int | None, eta: float) -> tuple[int | None, float]:
    """(steps, eta) checked for this model: DDPM takes neither (steps None, eta 1)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if sampler == "ddpm":
        return None, 1.0
    return inputs.steps(steps, model.schedule.num_timesteps), inputs.eta(eta) if sampler == "ddim" else 0.0


def network_evaluations(model: LoadedModel | LoadedGAN, sampler: str, steps: int | None) -> int:
    """Network evaluations per image: one generator pass for a GAN, T for DDPM, else the steps."""
    if isinstance(model, LoadedGAN):
        return 1
    T = model.schedule.num_timesteps
    return T if sampler == "ddpm" else inputs.steps(steps, T)


def ms_per_image_evaluation(model: LoadedModel, batch: int = 8, repeats: int = 3) -> float:
    """Milliseconds one image costs per network evaluation here (a batch of `batch`, median of `repeats`
    after a warm-up): what the app's expected times are computed from."""
    import time

    device = next(model.net.parameters()).device
    x = torch.randn(batch, 3, model.image_size, model.image_size, device=device)
    x = x.contiguous(memory_format=torch.channels_last) if device.type == "cpu" else x
    t = torch.full((batch,), model.schedule.num_timesteps // 2, device=device)
    times = []
    with torch.inference_mode():
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            model.net(x, t)
            times.append(time.perf_counter() - t0)
    return 1e3 * sorted(times[1:])[len(times[1:]) // 2] / batch


def start_noise(model: LoadedModel, seeds: Sequence[int]) -> tuple[torch.Tensor, list[torch.Generator]]:
    """x_T for each seed (in the UNet's memory format) and the generator each image keeps drawing from."""
    device = next(model.net.parameters()).device
    noise, gens = seeded_noise(list(seeds), (3, model.image_size, model.image_size), device=device)
    if device.type == "cpu":
        noise = noise.contiguous(memory_format=torch.channels_last)
    return noise, gens


def stream(model: LoadedModel, sampler: str = "dpm-solver", steps: int | None = 20, eta: float = 0.0,
           seeds: Sequence[int] | None = None, x_T: torch.Tensor | None = None) -> Sampling:
    """A running sampler over the x_T of `seeds` (each image with its own generator), or over a given x_T
    for a deterministic sampler (interpolation). Iterate for SamplerSteps; close() stops the work."""
    steps, eta = check_sampler(model, sampler, steps, eta)
    if (seeds is None) == (x_T is None):
        raise ValueError("give either seeds or x_T")
    generators = None
    if seeds is not None:
        x_T, generators = start_noise(model, seeds)
    elif sampler == "ddpm" or eta > 0:
        raise ValueError("a given x_T needs a deterministic sampler (DDIM with eta 0 or DPM-Solver++)")
    return make_sampler(sampler, model.eps, model.schedule, x_T, steps=steps, eta=eta, generator=generators)


def sample_images(model: LoadedModel | LoadedGAN, seeds: Sequence[int], sampler: str = "dpm-solver",
                  steps: int | None = 20, eta: float = 0.0, psi: float = 1.0) -> np.ndarray:
    """uint8 [len(seeds), H, W, 3] in one batch. A StyleGAN ignores sampler, steps and eta and takes ψ."""
    if isinstance(model, LoadedGAN):
        from gan.stylegan import generate

        return to_uint8(generate(model.generator, list(seeds), inputs.psi(psi)))
    return to_uint8(sample(stream(model, sampler, steps, eta, seeds=seeds)))


def generate_batches(model: LoadedModel | LoadedGAN, seeds: Sequence[int], sampler: str = "dpm-solver",
                     steps: int | None = 20, eta: float = 0.0, batch_size: int = 64, psi: float = 1.0,
                     ticks: bool = False) -> Iterator[tuple[list[int], np.ndarray | None]]:
    """Yield (seeds, uint8 images) a batch at a time. With `ticks`, also (seeds, None) after every network
    evaluation, so a caller can report progress or stop between them (closing the iterator stops the work).
    Bad arguments raise ValueError here, before any work."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if isinstance(model, LoadedGAN):
        inputs.psi(psi)
    else:
        steps, eta = check_sampler(model, sampler, steps, eta)
    seeds = list(seeds)

    def batches():
        for i in range(0, len(seeds), batch_size):
            chunk = seeds[i:i + batch_size]
            if not ticks or isinstance(model, LoadedGAN):
                yield chunk, sample_images(model, chunk, sampler, steps, eta, psi)
                continue
            run = stream(model, sampler, steps, eta, seeds=chunk)
            try:
                for last in run:
                    yield chunk, None
            finally:
                run.close()
            yield chunk, to_uint8(last.x)

    return batches()


def interpolation(model: LoadedModel | LoadedGAN, seed_a: int, seed_b: int, frames: int, steps: int = 20,
                  psi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Two uint8 strips of `frames` images from seed A to seed B. Diffusion: x_T blended by slerp, then
    linearly for comparison, each sampled with deterministic DDIM. StyleGAN: linear in w, then slerp in z."""
    for result in interpolation_stream(model, seed_a, seed_b, frames, steps, psi):
        pass
    return result


def interpolation_stream(model: LoadedModel | LoadedGAN, seed_a: int, seed_b: int, frames: int, steps: int = 20,
                         psi: float = 1.0) -> Iterator[tuple[np.ndarray, np.ndarray] | None]:
    """interpolation() step by step: None after every network evaluation, then the two strips."""
    weights = np.linspace(0, 1, frames)
    if isinstance(model, LoadedGAN):
        from gan.stylegan import interpolate

        yield tuple(to_uint8(x) for x in interpolate(model.generator, seed_a, seed_b, weights, inputs.psi(psi)))
        return
    noise, _ = start_noise(model, [seed_a, seed_b])
    strips = []
    for blend in (slerp, lambda a, b, w: (1 - w) * a + w * b):
        x_T = torch.stack([blend(noise[0], noise[1], float(w)) for w in weights])
        x_T = x_T.contiguous(memory_format=torch.channels_last) if x_T.device.type == "cpu" else x_T
        run = stream(model, "ddim", steps, 0.0, x_T=x_T)
        try:
            for step in run:
                yield None
        finally:
            run.close()
        strips.append(to_uint8(step.x))
    yield strips[0], strips[1]


def write_zip(folder: str, names: Sequence[str], zip_path: str) -> None:
    """A zip of `names` with fixed timestamps, so equal images give a byte-identical zip."""
    import zipfile

    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(2023, 1, 1, 0, 0, 0))
            with open(os.path.join(folder, name), "rb") as f:
                zf.writestr(info, f.read())


def write_images(model: LoadedModel | LoadedGAN, n: int, out: str, sampler: str = "dpm-solver",
                 steps: int | None = 20, eta: float = 0.0, seed: int = 0, batch_size: int = 64, psi: float = 1.0,
                 seeds: Sequence[int] | None = None, ticks: bool = False
                 ) -> Iterator[tuple[list[str], np.ndarray | None]]:
    """Write out/1.jpg … out/N.jpg (the HW6 submission format; image i from seed seed+i-1) a batch at a time,
    yielding (file names, uint8 images) per batch, so memory stays bounded for any N. `seeds`, a subset of
    seed … seed+n-1, writes only those files (one process's share of a parallel run). `ticks`: as in
    generate_batches, (names, None) after every network evaluation."""
    from PIL import Image

    todo = list(range(seed, seed + n)) if seeds is None else list(seeds)
    batches = generate_batches(model, todo, sampler, steps, eta, batch_size, psi, ticks)
    os.makedirs(out, exist_ok=True)
    for chunk, images in batches:
        names = [f"{s - seed + 1}.jpg" for s in chunk]
        if images is None:
            yield names, None
            continue
        for name, img in zip(names, images):
            Image.fromarray(img).save(os.path.join(out, name), quality=JPEG_QUALITY)
        yield names, images
