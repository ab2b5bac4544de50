"""The one sampling path: seeds → a model (lab.models: diffusion, distilled student or GAN) → images.

Every tab and CLI goes through here or through the model interface itself. `stream()` is the per-step view the
live tabs pull from (and stop by closing); `sample_images()` makes one batch; `generate_batches()` and
`write_images()` go a batch at a time for any number of images. Settings are validated once per request
(`model.check`). An image depends on its seed alone, whatever the batch.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from diffusion.samplers import Sampling

from .models import LoadedGAN, LoadedModel, Settings, to_uint8  # noqa: F401  (to_uint8: the tabs' converter)

JPEG_QUALITY = 95
Model = LoadedModel | LoadedGAN


def network_evaluations(model: Model, sampler: str, steps: int | None) -> int:
    """Network evaluations per image: one generator pass for a GAN, T for DDPM, else the steps."""
    return model.evaluations(model.check(sampler, steps))


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


def stream(model: Model, sampler: str = "dpm-solver", steps: int | None = 20, eta: float = 0.0,
           seeds: Sequence[int] | None = None, x_T: torch.Tensor | None = None) -> Sampling:
    """A running sampler over the x_T of `seeds`, or over a given x_T for a deterministic sampler. Iterate for
    SamplerSteps; close() stops the work. A model without steps (the GAN) says so."""
    return model.stream(model.check(sampler, steps, eta), seeds=seeds, x_T=x_T)


def own(model: Model, sampler: str | None, steps: int | None, eta: float | None) -> tuple:
    """The sampler, steps and eta asked for; where no sampler is named, the model's own (generate.py's defaults:
    DPM-Solver++ 20 for a teacher, what a distilled student was made for)."""
    if sampler is not None:
        return sampler, steps, 0.0 if eta is None else eta
    return model.default_sampler()


def sample_images(model: Model, seeds: Sequence[int], sampler: str | None = None,
                  steps: int | None = None, eta: float | None = None, psi: float = 1.0) -> np.ndarray:
    """uint8 [len(seeds), H, W, 3] in one batch, at the model's own sampler unless one is named. A StyleGAN
    ignores sampler, steps and eta and takes ψ."""
    return model.images(list(seeds), model.check(*own(model, sampler, steps, eta), psi))


def generate_batches(model: Model, seeds: Sequence[int], sampler: str | None = None,
                     steps: int | None = None, eta: float | None = None, batch_size: int = 64, psi: float = 1.0,
                     ticks: bool = False) -> Iterator[tuple[list[int], np.ndarray | None]]:
    """Yield (seeds, uint8 images) a batch at a time. With `ticks`, also (seeds, None) after every network
    evaluation, so a caller can report progress or stop between them (closing the iterator stops the work).
    No sampler named: the model's own. Bad arguments raise ValueError here, before any work."""
    return batches(model, seeds, model.check(*own(model, sampler, steps, eta), psi), batch_size, ticks)


def batches(model: Model, seeds: Sequence[int], settings: Settings, batch_size: int = 64, ticks: bool = False
            ) -> Iterator[tuple[list[int], np.ndarray | None]]:
    """generate_batches() with settings already checked (model.check)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    seeds = list(seeds)

    def run():
        for i in range(0, len(seeds), batch_size):
            chunk = seeds[i:i + batch_size]
            if not ticks:
                yield chunk, model.images(chunk, settings)
                continue
            for images in model.ticking(chunk, settings):
                yield chunk, images

    return run()


def interpolation(model: Model, seed_a: int, seed_b: int, frames: int, steps: int = 20,
                  psi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Two uint8 strips of `frames` images from seed A to seed B. Diffusion: x_T blended by slerp, then
    linearly for comparison, each sampled with deterministic DDIM. StyleGAN: linear in w, then slerp in z."""
    for result in interpolation_stream(model, seed_a, seed_b, frames, steps, psi):
        pass
    return result


def interpolation_stream(model: Model, seed_a: int, seed_b: int, frames: int, steps: int = 20,
                         psi: float = 1.0) -> Iterator[tuple[np.ndarray, np.ndarray] | None]:
    """interpolation() step by step: None after every network evaluation, then the two strips."""
    return model.interpolation(seed_a, seed_b, frames, steps, psi)


def cached_images(model: Model, name: str, n: int, first_seed: int = 0) -> np.ndarray:
    """n images at generate.py's defaults (the model's own sampler: DPM-Solver++ 20, a student's steps; StyleGAN
    ψ 1) from seeds first_seed … first_seed+n-1,
    cached in the lab cache by checkpoint name, steps trained, n and first seed: the measuring scripts
    (bench/quality.py's seed s is first_seed 100000·s) share one set of generated images."""
    from . import paths

    tag = f"-from{first_seed}" if first_seed else ""
    cache = os.path.join(paths.CACHE, "diagnose", f"{name}-{model.config.get('steps_trained')}-{n}{tag}.npy")
    if os.path.isfile(cache):
        return np.load(cache)
    sampler, steps, eta = model.default_sampler()
    images = np.concatenate([b for _, b in generate_batches(model, range(first_seed, first_seed + n), sampler, steps,
                                                            eta)])
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    np.save(cache, images)
    return images


def write_zip(folder: str, names: Sequence[str], zip_path: str) -> None:
    """A zip of `names` with fixed timestamps, so equal images give a byte-identical zip."""
    import zipfile

    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(2023, 1, 1, 0, 0, 0))
            with open(os.path.join(folder, name), "rb") as f:
                zf.writestr(info, f.read())


def write_images(model: Model, n: int, out: str, settings: Settings, seed: int = 0, batch_size: int = 64,
                 seeds: Sequence[int] | None = None, ticks: bool = False
                 ) -> Iterator[tuple[list[str], np.ndarray | None]]:
    """Write out/1.jpg … out/N.jpg (the HW6 submission format; image i from seed seed+i-1) a batch at a time,
    yielding (file names, uint8 images) per batch, so memory stays bounded for any N. `seeds`, a subset of
    seed … seed+n-1, writes only those files (one process's share of a parallel run). `ticks`: as in
    generate_batches, (names, None) after every network evaluation. settings: model.check(...)."""
    from PIL import Image

    todo = list(range(seed, seed + n)) if seeds is None else list(seeds)
    run = batches(model, todo, settings, batch_size, ticks)
    os.makedirs(out, exist_ok=True)
    for chunk, images in run:
        names = [f"{s - seed + 1}.jpg" for s in chunk]
        if images is None:
            yield names, None
            continue
        for name, img in zip(names, images):
            Image.fromarray(img).save(os.path.join(out, name), quality=JPEG_QUALITY)
        yield names, images
