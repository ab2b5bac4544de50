"""Detect (AFD) and Batch tab handlers, called as plain functions on the shipped checkpoint."""
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from demo import batch as bt
from demo import detect as dt
from evaluation import detect as det
from lab import paths
from test_app_generate import needs_default

needs_cascade = pytest.mark.skipif(not os.path.isdir(paths.FACES), reason="../shared/data is absent")
LBP = "lbpcascade (OpenCV)"


@needs_default
@needs_cascade
def test_detect_on_generated_faces_reports_rate_and_detector():
    shown, info = dt.detect(None, seed=3, num_images=4, detector=LBP)
    assert len(shown) == 4 and all(img.shape[0] >= 192 and img.dtype == np.uint8 for img, _ in shown)
    assert shown[0][1].startswith("seed 3: ")
    assert "lbpcascade" in info and "not the homework's" in info and "AFD rate:" in info and "/4 = " in info


@needs_cascade
def test_detect_on_uploads_and_zip(tmp_path):
    from lab.data import load_images

    faces = load_images(paths.FACES, 64, limit=3, log=None)
    faces = faces.permute(0, 2, 3, 1).numpy()
    uploads = []
    for i, f in enumerate(faces):
        uploads.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(f).save(uploads[-1])
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(noise)
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as zf:
        for p in uploads + [str(noise)]:
            zf.write(p, os.path.basename(p))
        zf.writestr("readme.txt", "not an image, and not named like one: skipped")
    shown, info = dt.detect([str(tmp_path / "set.zip")], detector=LBP)
    assert [c.split(":")[0] for _, c in shown] == ["set.zip/0.png", "set.zip/1.png", "set.zip/2.png", "set.zip/noise.png"]
    assert "AFD rate: 3/4 = 75.0%" in info and "4 uploaded image(s)" in info
    assert shown[3][1].endswith("0 face(s)")
    # a lone image; boxes drawn in green where a face was found
    shown, info = dt.detect(uploads[0], detector=LBP)
    assert "1/1" in info and (shown[0][0] == [0, 255, 0]).all(axis=-1).any()


def test_detect_bad_inputs(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("a text file named like an image")
    with pytest.raises(ValueError, match=r"notes.jpg is not a readable image: upload \.jpg/\.png/\.webp/\.bmp images or a \.zip"):
        dt.detect([str(text)], detector=LBP)
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(ValueError, match="holds no .jpg/.png/.webp images"):
        dt.detect([str(empty)], detector=LBP)
    with pytest.raises(ValueError, match="number of images must be a whole number from 1 to 64"):
        dt.detect(None, 0, 10**6, LBP)
    with pytest.raises(ValueError, match="detector must be one of"):
        dt.detect(None, 0, 1, "nope")
    if not os.path.isfile(det.DEFAULT_YOLO):
        with pytest.raises(ValueError, match=r"yolov8x6_animeface\.pt is not at .*download it from"):
            dt.detect(None, 0, 1, "YOLOv8 yolov8x6_animeface.pt (HW6)")


@needs_default
@needs_cascade
def test_batch_writes_hw6_zip_with_progress_and_afd(tmp_path):
    calls = []
    zip_path, info, preview = bt.batch(5, seed=10, sampler="DDIM", steps=2, compute_afd=True, detector=LBP,
                                       progress=lambda f, d: calls.append(f), out_dir=str(tmp_path))
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.namelist() == [f"{i}.jpg" for i in range(1, 6)]
    assert calls[0] == 0.0 and calls[-1] == 1.0 and calls == sorted(calls)
    assert len(preview) == 5 and "seeds 10–14" in info and "AFD rate:" in info and "/5 = " in info
    # image i is seed 10+i-1, as generate.py writes it
    from demo.generate import generate

    one, _, _ = generate(12, 1, "DDIM", 2)  # the default student's setting
    assert np.array_equal(one[0], preview[2])


@pytest.mark.parametrize("kwargs,match", [
    ({"num_images": 0}, "number of images must be a whole number from 1 to 1000"),
    ({"num_images": 10**6}, "from 1 to 1000"),
    ({"num_images": 2.5}, "got 2.5"),
    ({"seed": -3}, "seed must be a whole number"),
    ({"sampler": "Euler"}, "sampler must be one of"),
    ({"steps": 0}, "steps must be a whole number from 1 to 1000"),
    ({"steps": 2.5}, "steps must be a whole number from 1 to 1000, got 2.5"),
    ({"eta": 2.0}, "eta must be a number from 0 to 1"),
])
@needs_default
def test_batch_bad_inputs(kwargs, match, tmp_path):
    args = {"num_images": 2, "seed": 0, "sampler": "DDIM", "steps": 2, "eta": 0.0, "out_dir": str(tmp_path)} | kwargs
    with pytest.raises(ValueError, match=match):
        bt.batch(**args)


def test_grade_my_submission_scores_an_uploaded_zip_with_ffd(tmp_path, monkeypatch):
    """An uploaded set gets its FFD beside the references the encoder shipped with; fewer than 1000 images are
    flagged (FFD reads higher at small n); without the encoder the summary says so in one sentence."""
    import torch

    from evaluation.face_features import EncoderConfig, FaceEncoder, features, load_face_features, save_encoder, \
        save_statistics
    from evaluation.measures import MEASURES

    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (30, 64, 64, 3), dtype=np.uint8)
    torch.manual_seed(0)
    encoder = FaceEncoder(EncoderConfig(width=8, feature_dim=16, projection_dim=8))
    save_encoder(str(tmp_path / "enc"), encoder, {"references": {"real faces": 0.5, "anime-64": 2.0}})
    save_statistics(str(tmp_path / "enc"), features(real, encoder))
    model = load_face_features(str(tmp_path / "enc"))
    monkeypatch.setattr(MEASURES, "face_features", lambda: model)
    with zipfile.ZipFile(tmp_path / "hw6.zip", "w") as zf:
        for i, img in enumerate(real[:12]):
            path = tmp_path / f"{i + 1}.jpg"
            Image.fromarray(img).save(path)
            zf.write(path, path.name)
    _, info = dt.detect([str(tmp_path / "hw6.zip")], detector=LBP)
    assert "**FFD: " in info and "at 1000 images: real faces: 0.50; anime-64: 2.00" in info
    assert "With 12 images FFD reads higher than at 1000" in info

    def absent():
        raise ValueError("The face encoder at /x lacks model.safetensors: train it with bench/train_encoder.py.")

    monkeypatch.setattr(MEASURES, "face_features", absent)
    _, info = dt.detect([str(tmp_path / "hw6.zip")], detector=LBP)
    assert "FFD: n/a — The face encoder at /x lacks model.safetensors" in info
