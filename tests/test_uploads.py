"""Hostile uploads are refused from what is cheap to read, before anything large is decoded."""
import io
import os
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from lab import uploads


def huge_png(width: int, height: int) -> bytes:
    """A valid, tiny PNG file that claims width x height pixels (mostly zeros compress to almost nothing)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\x00" * width  # filter byte + one gray byte per pixel
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def png(size=(32, 32), seed=0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_a_zip_of_huge_mostly_zero_pngs_is_refused_from_the_headers(tmp_path):
    bomb = huge_png(12000, 12000)
    assert len(bomb) < 300_000
    path = tmp_path / "bombs.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(4):
            zf.writestr(f"{i}.png", bomb)
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=r"bombs.zip/0.png is 12000x12000 pixels; images may have at most 40 megapixels"):
        uploads.read_images([str(path)])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"peak memory grew by {grown_mb:.0f} MB: the image was decoded"


def test_a_20000_square_png_is_refused_with_a_sentence(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(huge_png(20000, 20000))
    with pytest.raises(ValueError, match="big.png is over 179 megapixels; images may have at most 40 megapixels"):
        uploads.read_images([str(path)])


def test_zip_limits_from_the_central_directory(tmp_path, monkeypatch):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(12):
            zf.writestr(f"{i}.png", png(seed=i))
    with pytest.raises(ValueError, match="at most 10 images per run"):
        uploads.read_images([str(many)], max_images=10)
    monkeypatch.setattr(uploads, "MAX_ZIP_BYTES", 1000)
    with pytest.raises(ValueError, match="many.zip unpacks to .* a zip may unpack to at most"):
        uploads.read_images([str(many)])


def test_damaged_encrypted_and_foreign_files(tmp_path):
    good = png()
    bad_crc = tmp_path / "crc.zip"
    with zipfile.ZipFile(bad_crc, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.png", good)
    raw = bytearray(bad_crc.read_bytes())
    at = raw.find(good[100:120])
    raw[at] ^= 0xFF  # corrupt the stored data, not the directory
    bad_crc.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="crc.zip/a.png cannot be read from its zip .*damaged"):
        uploads.read_images([str(bad_crc)])

    encrypted = tmp_path / "locked.zip"
    with zipfile.ZipFile(encrypted, "w") as zf:
        zf.writestr("a.png", good)
    raw = bytearray(encrypted.read_bytes())
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):  # set the "encrypted" flag bit in both headers
        i = raw.find(sig)
        flag_at = i + (6 if sig == b"PK\x03\x04" else 8)
        raw[flag_at] |= 0x1
    encrypted.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="locked.zip is encrypted"):
        uploads.read_images([str(encrypted)])

    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="notes.png is not a readable image"):
        uploads.read_images([str(text)])
    gif = tmp_path / "anim.png"
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    with pytest.raises(ValueError, match="anim.png is a GIF file: upload"):
        uploads.read_images([str(gif)])
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(ValueError, match="empty.zip holds no"):
        uploads.read_images([str(empty)])


def test_large_images_are_decoded_small_and_names_never_touch_the_disk(tmp_path):
    photo = io.BytesIO()
    Image.fromarray(np.full((2000, 3000, 3), 128, dtype=np.uint8)).save(photo, "JPEG")
    path = tmp_path / "photo.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../../escape/photo.jpg", photo.getvalue())
        zf.writestr("2.png", png(seed=2))
        zf.writestr("10.png", png(seed=10))
    before = set(os.listdir(tmp_path))
    got = uploads.read_images([str(path)])
    assert [n for n, _ in got] == ["photo.zip/2.png", "photo.zip/10.png", "photo.zip/../../escape/photo.jpg"]
    assert max(got[2][1].shape[:2]) == uploads.MAX_SIDE and got[2][1].dtype == np.uint8
    assert got[0][1].shape == (32, 32, 3)
    assert set(os.listdir(tmp_path)) == before and not os.path.exists(tmp_path.parent / "escape")
