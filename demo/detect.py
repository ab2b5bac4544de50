"""The Detect (AFD) tab: anime-face boxes with confidences on generated or uploaded images, and the AFD
rate (the fraction of images with at least one face) over them. Also the detector used by the Batch tab."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw

from evaluation import detect as det
from lab import inputs
from lab.pipeline import generate_batches
from lab.registry import REGISTRY
from lab.uploads import read_images

from . import limits
from .common import DEFAULT_CHECKPOINT, DETECTOR_CHOICES, UNCHANGED, describe, get_detector, last  # noqa: F401

MAX_GENERATED = 64
MAX_UPLOADED = 1000
SHOWN = 64


def load_uploads(paths: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB) for each uploaded image and each image inside an uploaded zip, checked before decoding
    (lab.uploads)."""
    return read_images(paths, MAX_UPLOADED)


def annotate(image: np.ndarray, boxes: list[det.Box], min_side: int = 192) -> np.ndarray:
    """The image (enlarged to at least `min_side` px, nearest-neighbour) with its boxes and confidences."""
    h, w = image.shape[:2]
    k = max(1, -(-min_side // min(h, w)))
    im = Image.fromarray(image).resize((w * k, h * k), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(im)
    for x1, y1, x2, y2, conf in boxes:
        draw.rectangle([x1 * k, y1 * k, x2 * k - 1, y2 * k - 1], outline=(0, 255, 0), width=max(2, k // 2))
        label = "face" if conf is None else f"face {conf:.2f}"
        draw.text((x1 * k + 3, y1 * k + 2), label, fill=(0, 255, 0), stroke_width=2, stroke_fill=(0, 0, 0))
    return np.asarray(im)


DETECT_CHUNK = 16  # images per detector call: Stop ends the work within one chunk


def detect_stream(files: Sequence[str] | None = None, seed: int = 0, num_images: int = 16,
                  detector: str = "Best available", checkpoint: str = DEFAULT_CHECKPOINT,
                  progress: Callable[[float, str], None] | None = None) -> Iterator[tuple]:
    """Boxes on the uploaded images (or zip), or on `num_images` faces generated from `seed` when nothing is
    uploaded. Yields (UNCHANGED, status) while it works, then (annotated images with captions, markdown
    summary with the AFD rate)."""
    detector_ = get_detector(detector)
    deadline = limits.LIMITS.deadline()
    if files:
        named = load_uploads([files] if isinstance(files, str) else files)
        source = f"{len(named)} uploaded image(s)"
    else:
        seeds = inputs.seeds(seed, num_images, MAX_GENERATED)
        images = []
        for _, batch in generate_batches(REGISTRY.model(checkpoint), seeds, ticks=True):
            deadline.check()
            if batch is not None:
                images += list(batch)
            yield UNCHANGED, "generating faces …"
        named = [(f"seed {s}", img) for s, img in zip(seeds, images)]
        source = f"{len(named)} image(s) generated on {checkpoint} (seeds {seeds[0]}–{seeds[-1]}, DPM-Solver++ 20)"
    boxes: list = []
    for i in range(0, len(named), DETECT_CHUNK):
        deadline.check()
        boxes += detector_.detect_batch([img for _, img in named[i:i + DETECT_CHUNK]])
        if progress:
            progress(len(boxes) / len(named), f"detecting faces: {len(boxes)}/{len(named)}")
        yield UNCHANGED, f"detecting faces: {len(boxes)}/{len(named)} …"
    found = sum(len(b) > 0 for b in boxes)
    shown = [(annotate(img, b), f"{name}: {len(b)} face(s)" + (f", best {max(c for *_, c in b):.2f}" if b
                                                              and b[0][4] is not None else ""))
             for (name, img), b in list(zip(named, boxes))[:SHOWN]]
    summary = (f"Detector: {describe(detector_)}.\n\n**AFD rate: {found}/{len(named)} = {found / len(named):.1%}** "
               f"of {source} have at least one face."
               + (f" Showing the first {SHOWN}." if len(named) > SHOWN else ""))
    yield shown, summary


def detect(*args, **kwargs) -> tuple[list[tuple[np.ndarray, str]], str]:
    return last(detect_stream(*args, **kwargs))
