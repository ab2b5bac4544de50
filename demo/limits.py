"""How much work one request may ask for, and what it is expected to cost on this machine.

Public mode (a Hugging Face Space, where $SPACE_ID is set, or `python app.py --public`) suits a shared
2-core machine opened by a whole class: DDPM off by default and capped, Compare capped by its total network
evaluations, every job stopped after a time limit, and a short queue. Locally the limits are generous.

Costs are counted in image-evaluations (one image through the network once); `calibrate()` measures
their price here at start-up, so each tab can say what a run will take on this machine.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from lab.refusal import Refusal


@dataclass(frozen=True)
class Limits:
    public: bool
    job_seconds: float  # a running job is stopped after this
    queue_size: int  # requests waiting beyond this are turned away with a message
    ddpm_by_default: bool  # Compare and Diffusion-vs-GAN include DDPM-1000 unless asked not to
    max_ddpm_images: int  # DDPM costs 1000 network evaluations per image
    max_compare_evaluations: int  # Compare: the sum of the steps of all its cells (+ 1000 for DDPM)
    max_image_evaluations: int  # any job: images × network evaluations
    max_train_seconds: float  # the 2-D playground's live training stops here (with what it has learnt)

    @classmethod
    def for_mode(cls, public: bool) -> Limits:
        if public:
            # a queue of 64: a class of 30 that each press a button at once is served, not turned away. One CPU
            # slot serves them in turn, so a run may cost at most 10,000 image-evaluations, about a minute here:
            # five HW6 zips at the 2-step default (1000 × 2, 12 s here), or 1000 images of the teacher at
            # DPM-Solver++ 10; 30 runs at the cap are through in half an hour, 30 default zips in about 6 min
            return cls(True, job_seconds=240, queue_size=64, ddpm_by_default=False, max_ddpm_images=4,
                       max_compare_evaluations=1600, max_image_evaluations=10_000, max_train_seconds=30)
        return cls(False, job_seconds=3600, queue_size=64, ddpm_by_default=True, max_ddpm_images=64,
                   max_compare_evaluations=20_000, max_image_evaluations=1_000_000, max_train_seconds=600)

    def check_cost(self, images: int, evaluations: int, what: str) -> None:
        """Refuse a job of images × evaluations above the cap, before it starts."""
        if evaluations >= 1000 and images > self.max_ddpm_images:
            raise Refusal("ddpm_limit", f"DDPM (1000 steps per image) is limited to {self.max_ddpm_images} images per "
                          f"run here; {what} asked for {images}: use DDIM or DPM-Solver++, or fewer images",
                          most=self.max_ddpm_images, n=images)
        if images * evaluations > self.max_image_evaluations:
            raise Refusal("cost_limit", f"{what} asks for {images} images × {evaluations} network evaluations = "
                          f"{images * evaluations:,}, above this machine's limit of "
                          f"{self.max_image_evaluations:,} per run: ask for fewer images or steps", images=images,
                          evaluations=evaluations, total=f"{images * evaluations:,}",
                          most=f"{self.max_image_evaluations:,}")

    def deadline(self) -> Deadline:
        return Deadline(self.job_seconds)


class Deadline:
    """Checked between steps: past the limit, the job stops with a sentence saying why."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.start = seconds, time.monotonic()

    def check(self) -> None:
        if time.monotonic() - self.start > self.seconds:
            raise Refusal("time_limit", f"stopped after {self.seconds:.0f} s, the time limit per job on this shared "
                          f"machine: ask for fewer images or steps", seconds=f"{self.seconds:.0f}")


def public_from_env() -> bool:
    return bool(os.environ.get("SPACE_ID"))


LIMITS = Limits.for_mode(public_from_env())


def set_public(public: bool) -> Limits:
    """Switch the module's limits (app.py calls this for --public)."""
    global LIMITS
    LIMITS = Limits.for_mode(public)
    return LIMITS


# ----------------------------------------------------------------------------- expected times

_MS_PER_IMAGE_EVALUATION: dict[str, float] = {}


def calibrate(model) -> float:
    """Milliseconds per image-evaluation of this diffusion model here, measured once."""
    from lab.pipeline import ms_per_image_evaluation

    if "ms" not in _MS_PER_IMAGE_EVALUATION:
        _MS_PER_IMAGE_EVALUATION["ms"] = ms_per_image_evaluation(model)
    return _MS_PER_IMAGE_EVALUATION["ms"]


def expected(images: int, evaluations: int, language: str = "en") -> str:
    """'about 2 s' ("zh": '約 2 秒') for a job of images × evaluations, from the calibration (empty before it)."""
    ms = _MS_PER_IMAGE_EVALUATION.get("ms")
    if ms is None:
        return ""
    seconds = images * evaluations * ms / 1e3
    value, unit = ((f"{seconds:.1f}", "s") if seconds < 10 else (f"{seconds:.0f}", "s") if seconds < 120
                   else (f"{seconds / 60:.0f}", "min"))
    if language == "zh":
        return f"約 {value} {'秒' if unit == 's' else '分鐘'}"
    return f"about {value} {unit}"
