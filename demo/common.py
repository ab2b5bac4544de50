"""What several tabs show the same way: sampler and detector names as the UI words them, and how a
detector is described. Models and detectors themselves come from lab.registry."""
from __future__ import annotations

from lab.registry import REGISTRY

SAMPLER_NAMES = {"DPM-Solver++": "dpm-solver", "DDIM": "ddim", "DDPM": "ddpm"}
DETECTOR_CHOICES = {"Best available": "auto", "YOLOv8 yolov8x6_animeface.pt (HW6)": "yolov8x6",
                    "Our YOLOv8n (not the HW6 detector)": "ours", "lbpcascade (OpenCV)": "lbpcascade"}
DEFAULT_CHECKPOINT = REGISTRY.default


def sampler_name(label: str) -> str:
    """The pipeline's name for a UI sampler label."""
    if label not in SAMPLER_NAMES:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLER_NAMES)}, got {label!r}")
    return SAMPLER_NAMES[label]


def get_detector(choice: str = "Best available"):
    """The detector for a UI choice, from the registry (loaded once)."""
    if choice not in DETECTOR_CHOICES:
        raise ValueError(f"detector must be one of {', '.join(DETECTOR_CHOICES)}, got {choice!r}")
    return REGISTRY.detector(DETECTOR_CHOICES[choice])


def describe(detector) -> str:
    if getattr(detector, "is_homework_detector", False):
        return f"**{detector.name}**, the HW6 detector (conf {detector.conf}, iou {detector.iou}, imgsz {detector.imgsz})"
    return f"**{detector.name}** — not the homework's YOLOv8 detector, so its rate is an estimate of HW6's AFD"


class _Unchanged:
    """Yielded by a tab's stream for an output that stays as it is (app.py turns it into gr.skip())."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


def last(stream):
    """The final value of a tab's stream: what the plain (non-streaming) call returns."""
    result = None
    for result in stream:
        pass
    return result
