"""The Detect (AFD) tab: anime-face boxes with confidences on generated or uploaded images, and the AFD
rate (the fraction of images with at least one face) over them. Also the detector used by the Batch tab."""
from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from evaluation import detect as det
from lab import inputs
from lab.pipeline import generate_batches
from lab.registry import REGISTRY

from .common import DEFAULT_CHECKPOINT, DETECTOR_CHOICES, describe, get_detector  # noqa: F401 (re-exported)
MAX_GENERATED = 64
MAX_UPLOADED = 1000
SHOWN = 64
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def _open(data: bytes | str, name: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError):
        raise ValueError(f"{name} is not an image: upload .jpg/.png/.webp images or a .zip of them") from None


def load_uploads(paths: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB) for each uploaded image, and for each image inside an uploaded zip."""
    out: list[tuple[str, np.ndarray]] = []
    for path in paths:
        name = os.path.basename(path)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                members = sorted((n for n in zf.namelist() if n.lower().endswith(IMAGE_EXTS) and "__MACOSX" not in n),
                                 key=lambda n: (len(n), n))  # 2.jpg before 10.jpg
                if not members:
                    raise ValueError(f"{name} holds no .jpg/.png/.webp images")
                out += [(f"{name}/{m}", _open(zf.read(m), f"{name}/{m}")) for m in members]
        else:
            out.append((name, _open(path, name)))
        if len(out) > MAX_UPLOADED:
            raise ValueError(f"at most {MAX_UPLOADED} images per run, got more")
    return out


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


def detect(files: Sequence[str] | None = None, seed: int = 0, num_images: int = 16,
           detector: str = "Best available", checkpoint: str = DEFAULT_CHECKPOINT
           ) -> tuple[list[tuple[np.ndarray, str]], str]:
    """Boxes on the uploaded images (or zip), or on `num_images` faces generated from `seed` when nothing is
    uploaded. Returns (annotated images with captions, markdown summary with the AFD rate)."""
    if files:
        named = load_uploads([files] if isinstance(files, str) else files)
        source = f"{len(named)} uploaded image(s)"
    else:
        seeds = inputs.seeds(seed, num_images, MAX_GENERATED)
        images = [img for _, batch in generate_batches(REGISTRY.model(checkpoint), seeds) for img in batch]
        named = [(f"seed {s}", img) for s, img in zip(seeds, images)]
        source = f"{len(named)} image(s) generated on {checkpoint} (seeds {seeds[0]}–{seeds[-1]}, DPM-Solver++ 20)"
    detector_ = get_detector(detector)
    boxes = detector_.detect_batch([img for _, img in named])
    found = sum(len(b) > 0 for b in boxes)
    shown = [(annotate(img, b), f"{name}: {len(b)} face(s)" + (f", best {max(c for *_, c in b):.2f}" if b
                                                              and b[0][4] is not None else ""))
             for (name, img), b in list(zip(named, boxes))[:SHOWN]]
    summary = (f"Detector: {describe(detector_)}.\n\n**AFD rate: {found}/{len(named)} = {found / len(named):.1%}** "
               f"of {source} have at least one face."
               + (f" Showing the first {SHOWN}." if len(named) > SHOWN else ""))
    return shown, summary
