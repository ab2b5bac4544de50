"""Images from untrusted uploads (single images or zips of them), checked before anything is decoded.

Anyone may upload anything to a public Space, so every limit is checked from what is cheap to read: the
file's size, a zip's central directory (member count, total uncompressed size, encryption), an image's
header (format and pixel count). Only then is an image decoded, and large ones are decoded small (JPEG
draft mode) and downscaled, so memory per run stays bounded. Nothing is extracted to disk. Every refusal
is one ValueError sentence naming the file and what is allowed.
"""
from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from .refusal import Refusal

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "MPO"}
MAX_FILE_BYTES = 50 * 2**20  # one uploaded file (an image or a zip)
MAX_IMAGES = 1000  # per run, zips included
MAX_ZIP_MEMBERS = 5000  # entries of any kind in one zip's directory
MAX_ZIP_BYTES = 300 * 2**20  # uncompressed bytes of a zip's images
MAX_PIXELS = 40_000_000  # per image, from its header: a 40-megapixel photo is fine, a 12000x12000 bomb is not
MAX_SIDE = 256  # images are decoded at most this large (the detectors look at 64x64)


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def decode(data: bytes, name: str, max_side: int = MAX_SIDE) -> np.ndarray:
    """uint8 RGB [H, W, 3] of one image file's bytes, at most max_side on its longer side."""
    try:
        with Image.open(io.BytesIO(data)) as im:  # reads the header only
            if im.format not in FORMATS:
                raise Refusal("wrong_format", f"{name} is a {im.format} file: upload .jpg/.png/.webp/.bmp images or "
                              f"a .zip of them", file=name, format=im.format)
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise Refusal("pixels", f"{name} is {w}x{h} pixels; images may have at most {MAX_PIXELS / 1e6:.0f} "
                              f"megapixels", file=name, w=w, h=h, most=f"{MAX_PIXELS / 1e6:.0f}")
            if max(w, h) > max_side:
                im.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2, 1/4 or 1/8 size directly
            im = im.convert("RGB")
            if max(im.size) > max_side:
                im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
            return np.asarray(im)
    except Image.DecompressionBombError:  # Pillow refuses to even open images over twice its own limit
        over = f"{2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f}"
        raise Refusal("bomb", f"{name} is over {over} megapixels; images may have at most {MAX_PIXELS / 1e6:.0f} "
                      f"megapixels", file=name, over=over, most=f"{MAX_PIXELS / 1e6:.0f}") from None
    except ValueError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise Refusal("unreadable", f"{name} is not a readable image: upload .jpg/.png/.webp/.bmp images or a .zip of "
                      f"them", file=name) from None


def _zip_members(zf: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise Refusal("zip_entries", f"{name} lists {len(infos)} entries; a zip may hold at most {MAX_ZIP_MEMBERS}",
                      file=name, n=len(infos), most=MAX_ZIP_MEMBERS)
    members = [i for i in infos if not i.is_dir() and i.filename.lower().endswith(IMAGE_EXTS)
               and "__MACOSX" not in i.filename and not os.path.basename(i.filename).startswith(".")]
    if not members:
        raise Refusal("no_images", f"{name} holds no .jpg/.png/.webp images", file=name)
    if any(i.flag_bits & 0x1 for i in members):
        raise Refusal("encrypted", f"{name} is encrypted: upload a zip without a password", file=name)
    total = sum(i.file_size for i in members)
    if total > MAX_ZIP_BYTES:
        raise Refusal("unpacks", f"{name} unpacks to {_mb(total)} of images; a zip may unpack to at most "
                      f"{_mb(MAX_ZIP_BYTES)}", file=name, size=_mb(total), most=_mb(MAX_ZIP_BYTES))
    return sorted(members, key=lambda i: (len(i.filename), i.filename))  # 2.jpg before 10.jpg


def read_images(paths: Sequence[str], max_images: int = MAX_IMAGES) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB) for each uploaded image and each image inside an uploaded zip, all limits checked
    (see the module docstring) and the count checked before any image is decoded."""
    plan: list[tuple[str, str, zipfile.ZipInfo | None]] = []  # (shown name, file path, zip member)
    for path in paths:
        name = os.path.basename(path)
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise Refusal("file_size", f"{name} is {_mb(size)}; an upload may be at most {_mb(MAX_FILE_BYTES)}",
                          file=name, size=_mb(size), most=_mb(MAX_FILE_BYTES))
        if zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as zf:
                    plan += [(f"{name}/{m.filename}", path, m) for m in _zip_members(zf, name)]
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as e:
                raise Refusal("bad_zip", f"{name} is a damaged or unsupported zip ({e}): upload a plain .zip of images",
                              file=name) from None
        else:
            plan.append((name, path, None))
        if len(plan) > max_images:
            raise Refusal("too_many", f"at most {max_images} images per run; these uploads hold more", most=max_images)
    out = []
    with contextlib.ExitStack() as stack:
        zips: dict[str, zipfile.ZipFile] = {}
        for shown, path, member in plan:
            if member is None:
                with open(path, "rb") as f:
                    data = f.read()
            else:
                if path not in zips:
                    zips[path] = stack.enter_context(zipfile.ZipFile(path))
                try:
                    with zips[path].open(member) as f:
                        data = f.read(member.file_size + 1)  # the CRC is checked as the read ends
                except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as e:
                    raise Refusal("damaged", f"{shown} cannot be read from its zip ({e}): the zip is damaged",
                                  file=shown) from None
                if len(data) > member.file_size:
                    raise Refusal("damaged", f"{shown} is larger than its zip entry says: the zip is damaged",
                                  file=shown)
            out.append((shown, decode(data, shown)))
    return out
