"""Face images from a flat folder or a .zip (the Kaggle HW6 download), decoded once into memory.

33k 64x64 faces are 400 MB as uint8: holding them in RAM keeps a 2-core CPU busy with the UNet
rather than with JPEG decoding. Unreadable files are skipped and reported, never a crash mid-run.
"""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

IMAGE_EXTS = (".jpg", ".jpeg", ".png")
AUGMENTATIONS = ("none", "flip", "hw6-medium")
# The held-out split: a file whose name hashes below this (of 10,000) is never trained on, so quality
# measures compare generated faces with real faces no model here has seen. A rule on the name alone keeps
# the split fixed whatever else the folder holds: 2,051 of the 33,492 faces in ../shared/data/anime-faces.
HELDOUT_PER_10000 = 600


def is_heldout(name: str) -> bool:
    """True for the files set apart for evaluation (by their base name's sha256)."""
    digest = hashlib.sha256(os.path.basename(name).encode()).hexdigest()
    return int(digest[:8], 16) % 10_000 < HELDOUT_PER_10000


def select_split(names: list[str], split: str) -> list[str]:
    """names for split "train" (held-out files removed), "heldout" (only those) or "all"."""
    if split == "all":
        return list(names)
    if split not in ("train", "heldout"):
        raise ValueError(f"unknown split {split!r}; allowed: train, heldout, all")
    return [n for n in names if is_heldout(n) == (split == "heldout")]


def _decode(data: bytes | str, size: int) -> np.ndarray:
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
        im = im.convert("RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.Resampling.BICUBIC)
        return np.asarray(im, dtype=np.uint8)


def list_images(path: str) -> list[str]:
    """Image files of a flat folder (sorted) or of a zip (any depth), by extension."""
    if not os.path.exists(path):
        raise ValueError(f"data path {path} does not exist: pass a folder of .jpg/.png images or a .zip of them")
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTS) and not n.startswith("."))
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if n.lower().endswith(IMAGE_EXTS)
                           and not os.path.basename(n).startswith(".") and "__MACOSX" not in n)
    else:
        raise ValueError(f"data path {path} is neither a folder nor a .zip file")
    if not names:
        raise ValueError(f"no .jpg/.jpeg/.png images found in {path}")
    return names


def load_images(path: str, size: int = 64, limit: int = 0,
                log: Callable[[str], None] | None = print, split: str = "all") -> torch.Tensor:
    """The images of `path` in `split` (see select_split) as a uint8 tensor [N, 3, size, size];
    unreadable files are skipped and logged."""
    names = select_split(list_images(path), split)
    if not names:
        raise ValueError(f"no images of split {split!r} in {path}")
    if limit:
        names = names[:limit]
    arrays, skipped = [], []
    zf = zipfile.ZipFile(path) if not os.path.isdir(path) else None
    try:
        for name in names:
            try:
                src = zf.read(name) if zf else os.path.join(path, name)
                arrays.append(_decode(src, size))
            except (UnidentifiedImageError, OSError, ValueError, zipfile.BadZipFile) as e:
                skipped.append(f"{name} ({type(e).__name__})")
    finally:
        if zf:
            zf.close()
    if log and skipped:
        log(f"skipped {len(skipped)} unreadable file(s): {', '.join(skipped[:5])}{' …' if len(skipped) > 5 else ''}")
    if not arrays:
        raise ValueError(f"none of the {len(names)} image files in {path} could be read")
    if log:
        log(f"loaded {len(arrays)} images of {size}x{size} from {path}")
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def faces_hwc(path: str, split: str, size: int = 64, limit: int = 0) -> np.ndarray:
    """uint8 [N, size, size, 3] of a split, decoded exactly as training decodes its data (load_images: bicubic to
    `size`). Every quality measure takes its real faces from here: a critic tells a box-resized real set from a
    bicubic one, so real and training faces must be processed alike."""
    return load_images(path, size, limit=limit, log=None, split=split).permute(0, 2, 3, 1).numpy()


def real_faces(split: str, path: str | None = None) -> np.ndarray:
    """faces_hwc of the real faces (paths.FACES by default) for a measuring script; where they are absent, the
    script stops with one sentence saying where they go."""
    from . import paths

    path = path or paths.FACES
    if not os.path.isdir(path):
        raise SystemExit(f"no real faces at {path}: set ANIME_FACES_DIR")
    return faces_hwc(path, split)


def sample_faces(path: str, split: str, n: int, seed: int, resample: str = "bicubic", size: int = 64) -> np.ndarray:
    """n faces of a split chosen by `seed` (in file order), uint8 [n, size, size, 3]; resample "bicubic" decodes
    them as training does, "box" with the other filter (a calibration set: a critic sees the difference)."""
    if resample not in ("bicubic", "box"):
        raise ValueError(f"resample must be bicubic or box, got {resample!r}")
    names = select_split(list_images(path), split)
    picked = [names[i] for i in sorted(np.random.default_rng(seed).choice(len(names), n, replace=False))]
    if resample == "bicubic":
        return np.stack([_decode(os.path.join(path, name), size) for name in picked])
    out = []
    for name in picked:
        with Image.open(os.path.join(path, name)) as im:
            out.append(np.asarray(im.convert("RGB").resize((size, size), Image.Resampling.BOX)))
    return np.stack(out)


def augment(batch: torch.Tensor, preset: str = "flip") -> torch.Tensor:
    """uint8 [B, 3, H, W] -> float in [-1, 1], augmented per image with torch's global RNG.

    hw6-medium is the HW6 code's RandomHorizontalFlip, RandomRotation(10), ColorJitter(0.25, 0.25).
    """
    if preset not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {preset!r}; allowed: {', '.join(AUGMENTATIONS)}")
    x = batch.float() / 255.0
    if preset in ("flip", "hw6-medium"):
        flip = torch.rand(x.shape[0]) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if preset == "hw6-medium":
        from torchvision.transforms.v2 import functional as TF

        out = []
        for img in x:
            angle = float(torch.empty(1).uniform_(-10, 10))
            img = TF.rotate(img, angle)
            img = TF.adjust_brightness(img, float(torch.empty(1).uniform_(0.75, 1.25)))
            img = TF.adjust_contrast(img, float(torch.empty(1).uniform_(0.75, 1.25)))
            out.append(img)
        x = torch.stack(out)
    return x * 2 - 1
