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


def labelled_grid(cells: list[list], row_labels: list[str], col_labels: list[str], scale: int = 2,
                  left: int = 90, top: int = 24, pad: int = 4):
    """Images (uint8 [H, W, 3], or None for an empty cell) in rows and columns on one white image, enlarged
    `scale` times (nearest neighbour, so a projector shows pixels), row labels at the left, column labels on
    top: the labels are part of the picture, so nothing in the page can cover them."""
    import numpy as np
    from PIL import Image, ImageDraw

    first = next(c for row in cells for c in row if c is not None)
    h, w = first.shape[0] * scale, first.shape[1] * scale
    canvas = Image.new("RGB", (left + len(col_labels) * (w + pad) - pad, top + len(row_labels) * (h + pad) - pad),
                       "white")
    draw = ImageDraw.Draw(canvas)
    for j, label in enumerate(col_labels):
        draw.text((left + j * (w + pad) + 2, 4), label, fill="black", font_size=14)
    for i, label in enumerate(row_labels):
        draw.text((4, top + i * (h + pad) + h // 2 - 8), label, fill="black", font_size=14)
        for j, cell in enumerate(cells[i]):
            if cell is not None:
                canvas.paste(Image.fromarray(cell).resize((w, h), Image.Resampling.NEAREST),
                             (left + j * (w + pad), top + i * (h + pad)))
    return np.asarray(canvas)
