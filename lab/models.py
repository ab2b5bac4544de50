"""The one model interface: a diffusion model, a distilled student and the StyleGAN answer the same calls, so no
tab or CLI asks which kind it holds.

    settings = model.check(sampler, steps, eta, psi)   # validated once, at the request's boundary
    model.evaluations(settings)                        # network evaluations per image
    model.images(seeds, settings)                      # uint8 [N, H, W, 3], one batch
    model.ticking(seeds, settings)                     # None after each network evaluation, then the images
    model.stream(settings, seeds=… or x_T=…)           # SamplerSteps for the live views (models with steps)
    model.interpolation(seed_a, seed_b, frames, steps, psi)   # None per evaluation, then two strips
    model.how(settings)                                # (English, 中文): how the images were made

A sampler a model cannot take is one ValueError sentence naming what it takes. An image depends on its seed alone.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from diffusion.noise import seeded_noise, slerp
from diffusion.samplers import SAMPLER_TABLE, Model, Sampling, eps_model, make_sampler, sample, sampler_spec
from diffusion.schedules import Schedule
from diffusion.unet import UNet
from gan.stylegan import Generator

from . import inputs
from .refusal import Refusal


SAMPLER_LABELS = {spec.display: name for name, spec in SAMPLER_TABLE.items()}  # "DPM-Solver++" → "dpm-solver"
SAMPLER_DISPLAY = {name: spec.display for name, spec in SAMPLER_TABLE.items()}  # "dpm-solver" → "DPM-Solver++"


@dataclass(frozen=True)
class Settings:
    """A request's sampling settings after one validation: steps is None for DDPM (all T) and the GAN."""
    sampler: str
    steps: int | None
    eta: float
    psi: float = 1.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] in [-1, 1] -> uint8 [B, H, W, 3] (round half up, as torchvision's save_image)."""
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5 + 0.5).clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def _draining(run: Sampling) -> Iterator[np.ndarray | None]:
    """None after every network evaluation of `run`, then its final images; closing stops the work."""
    try:
        for last in run:
            yield None
    finally:
        run.close()
    yield to_uint8(last.x)


@dataclass
class LoadedModel:
    """A diffusion UNet with its schedule, sampled by any sampler of the table."""
    net: UNet
    schedule: Schedule
    prediction: str
    config: dict
    path: str
    kind = "diffusion"
    has_steps = True

    @property
    def eps(self) -> Model:
        """The network as the eps-predicting callable the samplers take."""
        return eps_model(self.net, self.schedule, self.prediction)

    @property
    def image_size(self) -> int:
        return self.net.config.image_size

    def check(self, sampler: str = "dpm-solver", steps: int | None = 20, eta: float = 0.0, psi: float = 1.0
              ) -> Settings:
        spec = sampler_spec(sampler)
        if spec.default_steps is None:  # DDPM walks every training step, with its own noise
            return Settings(sampler, None, 1.0)
        return Settings(sampler, inputs.steps(steps, self.schedule.num_timesteps),
                        inputs.eta(eta) if spec.takes_eta else 0.0)

    def evaluations(self, settings: Settings) -> int:
        return self.schedule.num_timesteps if settings.steps is None else settings.steps

    def default_sampler(self) -> tuple[str, int | None, float]:
        """(sampler, steps, eta) this model is sampled with when nothing else is asked: generate.py's defaults."""
        return "dpm-solver", 20, 0.0

    def start_noise(self, seeds: Sequence[int]) -> tuple[torch.Tensor, list[torch.Generator]]:
        """x_T for each seed (in the UNet's memory format) and the generator each image keeps drawing from."""
        device = next(self.net.parameters()).device
        noise, gens = seeded_noise(list(seeds), (3, self.image_size, self.image_size), device=device)
        return (noise.contiguous(memory_format=torch.channels_last) if device.type == "cpu" else noise), gens

    def stream(self, settings: Settings, seeds: Sequence[int] | None = None, x_T: torch.Tensor | None = None
               ) -> Sampling:
        """A running sampler over the x_T of `seeds` (each image with its own generator), or over a given x_T
        for a deterministic sampler (interpolation). Iterate for SamplerSteps; close() stops the work."""
        if (seeds is None) == (x_T is None):
            raise ValueError("give either seeds or x_T")
        generators = None
        if seeds is not None:
            x_T, generators = self.start_noise(seeds)
        elif settings.steps is None or settings.eta > 0:
            raise ValueError("a given x_T needs a deterministic sampler (DDIM with eta 0 or DPM-Solver++)")
        return make_sampler(settings.sampler, self.eps, self.schedule, x_T, steps=settings.steps, eta=settings.eta,
                            generator=generators)

    def images(self, seeds: Sequence[int], settings: Settings) -> np.ndarray:
        return to_uint8(sample(self.stream(settings, seeds=seeds)))

    def ticking(self, seeds: Sequence[int], settings: Settings) -> Iterator[np.ndarray | None]:
        return _draining(self.stream(settings, seeds=seeds))

    def interpolation(self, seed_a: int, seed_b: int, frames: int, steps: int = 20, psi: float = 1.0
                      ) -> Iterator[tuple[np.ndarray, np.ndarray] | None]:
        """x_T blended by slerp, then linearly for comparison, each sampled with deterministic DDIM."""
        settings = self.interpolation_settings(steps)
        weights = np.linspace(0, 1, frames)
        noise, _ = self.start_noise([seed_a, seed_b])
        strips = []
        for blend in (slerp, lambda a, b, w: (1 - w) * a + w * b):
            x_T = torch.stack([blend(noise[0], noise[1], float(w)) for w in weights])
            x_T = x_T.contiguous(memory_format=torch.channels_last) if x_T.device.type == "cpu" else x_T
            for images in _draining(self.stream(settings, x_T=x_T)):
                if images is None:
                    yield None
            strips.append(images)
        yield strips[0], strips[1]

    def interpolation_settings(self, steps: int) -> Settings:
        return self.check("ddim", steps, 0.0)

    def how(self, settings: Settings) -> tuple[str, str]:
        name = SAMPLER_TABLE[settings.sampler].display
        n = self.evaluations(settings)
        eta = f", eta {settings.eta:g}" if SAMPLER_TABLE[settings.sampler].takes_eta else ""
        return f"{name} {n} network evaluations{eta}", f"{name} {n} 次網路運算{eta.replace(', ', '，')}"

    def step_counts(self, wanted: list[int]) -> list[int]:
        """The step counts of `wanted` this model samples at (a student: those it was made for)."""
        return list(wanted)

    def label(self, settings: Settings) -> str:
        """A short name for how the images were made: "DDIM 20"."""
        steps = "" if settings.steps is None else f" {settings.steps}"
        return f"{SAMPLER_TABLE[settings.sampler].display}{steps}"

    def require_steps(self, what: str) -> LoadedModel:
        """This model, for a view that shows denoising steps."""
        return self

    def lineage(self) -> str | None:
        """A distilled student's method and teacher ("progressive of anime-64"), which every round of one run
        shares; None for a model trained from data."""
        return None

    def teacher(self) -> str | None:
        """The checkpoint a distilled student learnt from; None for a model trained from data."""
        return None


@dataclass
class DistilledModel(LoadedModel):
    """A few-step student (distill.py): the teacher's UNet and schedule, made for one sampler at a few steps,
    which its config.json names ("sampler": {"name", "steps", "eta", optionally "allowed_steps"})."""
    kind = "student"

    def made_for(self) -> tuple[str, list[int], float]:
        spec = self.config["sampler"]
        return spec["name"], sorted(spec.get("allowed_steps", [spec["steps"]])), float(spec.get("eta", 0.0))

    def check(self, sampler: str = "ddim", steps: int | None = None, eta: float = 0.0, psi: float = 1.0
              ) -> Settings:
        name, allowed, made_eta = self.made_for()
        if SAMPLER_TABLE[name].takes_eta:
            inputs.eta(eta)  # a value out of range is named as such first, as the teacher would
        display = SAMPLER_TABLE[name].display
        takes = f"{display} at {' or '.join(map(str, allowed))} step{'s' if allowed != [1] else ''}"
        if sampler != name:
            asked = sampler_spec(sampler).display
            raise Refusal("student", f"this distilled student takes {takes} only, not {asked}", takes=takes,
                          asked=asked)
        steps = self.config["sampler"]["steps"] if steps is None else inputs.steps(steps, self.schedule.num_timesteps)
        if steps not in allowed:
            raise Refusal("student", f"this distilled student takes {takes} only, not {steps} steps", takes=takes,
                          asked=f"{steps} steps")
        return Settings(name, steps, made_eta)

    def step_counts(self, wanted: list[int]) -> list[int]:
        return self.made_for()[1]

    def default_sampler(self) -> tuple[str, int | None, float]:
        name, _, eta = self.made_for()
        return name, self.config["sampler"]["steps"], eta

    def interpolation_settings(self, steps: int) -> Settings:
        """Interpolation needs a deterministic sampler: the steps it takes nearest `steps`; a student made for
        re-noising (η > 0) goes in its fewest steps, which for one step is exactly its sampler."""
        name, allowed, made_eta = self.made_for()
        chosen = allowed[0] if made_eta > 0 else min(allowed, key=lambda s: abs(s - steps))
        return Settings(name, chosen, 0.0)

    def how(self, settings: Settings) -> tuple[str, str]:
        en, zh = super().how(settings)
        return f"distilled student, {en}", f"蒸餾學生模型，{zh}"

    def lineage(self) -> str | None:
        return f"{(self.config.get('distillation') or {}).get('method', 'distilled')} of {self.teacher() or '?'}"

    def teacher(self) -> str | None:
        """The checkpoint folder name of the model it was distilled from, as its config.json records it."""
        teacher = (self.config.get("distillation") or {}).get("teacher")
        return str(teacher).rstrip("/").replace("\\", "/").split("/")[-1] if teacher else None


@dataclass
class LoadedGAN:
    """A StyleGAN generator: one pass from a seed to an image, no sampler, no steps; ψ is its truncation."""
    generator: Generator
    config: dict
    path: str
    kind = "stylegan"
    has_steps = False

    @property
    def image_size(self) -> int:
        return self.generator.config.image_size

    def check(self, sampler: str = "dpm-solver", steps: int | None = 20, eta: float = 0.0, psi: float = 1.0
              ) -> Settings:
        return Settings("stylegan", None, 0.0, inputs.psi(psi))  # sampler, steps and eta do not apply

    def evaluations(self, settings: Settings) -> int:
        return 1

    def default_sampler(self) -> tuple[str, int | None, float]:
        return "dpm-solver", 20, 0.0  # ignored: one generator pass

    def stream(self, settings: Settings, seeds=None, x_T=None) -> Sampling:
        return self.require_steps("this view")  # raises: a GAN has no steps to show

    def images(self, seeds: Sequence[int], settings: Settings) -> np.ndarray:
        from gan.stylegan import generate

        return to_uint8(generate(self.generator, list(seeds), settings.psi))

    def ticking(self, seeds: Sequence[int], settings: Settings) -> Iterator[np.ndarray | None]:
        yield self.images(seeds, settings)

    def interpolation(self, seed_a: int, seed_b: int, frames: int, steps: int = 20, psi: float = 1.0
                      ) -> Iterator[tuple[np.ndarray, np.ndarray] | None]:
        """Linear in w, then slerp in z."""
        from gan.stylegan import interpolate

        strips = interpolate(self.generator, seed_a, seed_b, np.linspace(0, 1, frames), inputs.psi(psi))
        yield tuple(to_uint8(x) for x in strips)

    def how(self, settings: Settings) -> tuple[str, str]:
        return (f"StyleGAN, one generator pass, truncation ψ {settings.psi:g}",
                f"StyleGAN，生成器運算一次，截斷 ψ {settings.psi:g}")

    def label(self, settings: Settings) -> str:
        return f"StyleGAN ψ {settings.psi:g}"

    def lineage(self) -> str | None:
        return None

    def teacher(self) -> str | None:
        return None

    def require_steps(self, what: str):
        name = self.config.get("name") or self.path.rstrip("/").split("/")[-1]
        raise Refusal("no_steps", f"{name} is a StyleGAN: it makes an image in one pass, with no steps for {what}; "
                      f"choose a diffusion checkpoint", model=name, what=what)
