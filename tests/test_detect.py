"""Detectors: the ultralytics YOLOv8 path with a stand-in YOLOv8n built from its yaml (the real
yolov8x6_animeface.pt cannot be had offline), our safetensors detector format, and the fallback order."""
import json
import os
import socket

import numpy as np
import pytest
import torch

from evaluation import detect as det
from lab import paths

CASCADE = det.DEFAULT_CASCADE


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to resolve a name or open a connection is recorded and refused."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[:2])
        raise OSError("network access attempted in a test")

    for mod, name in ((socket, "getaddrinfo"), (socket, "create_connection"), (socket.socket, "connect"),
                      (socket.socket, "connect_ex")):
        monkeypatch.setattr(mod, name, refuse)
    return attempts


@pytest.fixture(scope="module")
def stand_in():
    """A YOLOv8n with random weights, one class, from ultralytics' bundled yaml (no file, no download)."""
    torch.manual_seed(0)
    return det.build_own_yolo()


def images(n=6, size=64):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def test_yolo_path_runs_offline_and_keeps_torch_threads(stand_in, no_network):
    threads = torch.get_num_threads()
    d = det.YoloDetector(model=stand_in, conf=0.0, iou=0.8, imgsz=64)
    boxes = d.detect_batch(images())
    assert len(boxes) == 6 and any(boxes)
    for per_image in boxes:
        for x1, y1, x2, y2, conf in per_image:
            assert 0 <= x1 <= x2 <= 64 and 0 <= y1 <= y2 <= 64 and 0 <= conf <= 1
    assert no_network == [], f"network access attempted: {no_network}"
    assert torch.get_num_threads() == threads


def test_yolo_reads_our_rgb_arrays_as_ultralytics_reads_pil_images(stand_in):
    """ultralytics takes numpy arrays as BGR; ours are RGB. PIL input is converted by ultralytics itself,
    so equal boxes mean the channel order is right (a swap changes the low-confidence boxes)."""
    from PIL import Image

    imgs = images(4)
    ours = det.YoloDetector(model=stand_in, conf=0.0, iou=0.8, imgsz=64).detect_batch(imgs)
    ref = stand_in.predict([Image.fromarray(i) for i in imgs], conf=0.0, iou=0.8, imgsz=64, verbose=False)
    for mine, r in zip(ours, ref):
        np.testing.assert_allclose([b[:4] for b in mine], r.boxes.xyxy.numpy(), atol=1e-4)
        np.testing.assert_allclose([b[4] for b in mine], r.boxes.conf.numpy(), atol=1e-5)
    swapped = det.YoloDetector(model=stand_in, conf=0.0, iou=0.8, imgsz=64).detect_batch([i[..., ::-1] for i in imgs])
    assert any(len(a) != len(b) or not np.allclose([x[4] for x in a], [x[4] for x in b]) for a, b in zip(ours, swapped))


def test_homework_pt_path_and_our_safetensors_format(stand_in, tmp_path, no_network):
    from safetensors.torch import save_file

    imgs = images(4)
    reference = det.YoloDetector(model=stand_in, conf=0.0, iou=0.8, imgsz=64).detect_batch(imgs)
    # the homework's file is an ultralytics .pt: a stand-in saved under its name takes that path
    pt = str(tmp_path / "yolov8x6_animeface.pt")
    stand_in.save(pt)
    hw = det.YoloDetector(pt, conf=0.0, iou=0.8, imgsz=64)
    assert hw.is_homework_detector and "yolov8x6_animeface.pt" in hw.name
    assert [len(b) for b in hw.detect_batch(imgs)] == [len(b) for b in reference]
    # ours: detector.json + fp32 safetensors, loaded without unpickling
    folder = tmp_path / "afd"
    folder.mkdir()
    save_file({k: v.contiguous() for k, v in stand_in.model.state_dict().items()}, str(folder / "model.safetensors"))
    (folder / "detector.json").write_text(json.dumps({"format": det.OWN_FORMAT, "yaml": "yolov8n.yaml",
                                                      "names": ["face"]}))
    own = det.YoloDetector(str(folder), conf=0.0, iou=0.8, imgsz=64)
    assert not own.is_homework_detector
    for a, b in zip(own.detect_batch(imgs), reference):
        np.testing.assert_allclose(a, b, atol=1e-4)
    assert no_network == []


def test_missing_and_bad_detector_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"yolov8x6_animeface\.pt is not at .*download it from .*put it there"):
        det.YoloDetector(str(tmp_path / "yolov8x6_animeface.pt"))
    (tmp_path / "half").mkdir()
    with pytest.raises(FileNotFoundError, match="needs detector.json and model.safetensors"):
        det.YoloDetector(str(tmp_path / "half"))
    for kwargs, match in (({"conf": 1.5}, r"conf must be in \[0, 1\]"), ({"iou": -0.1}, r"iou must be in \[0, 1\]"),
                          ({"imgsz": 10}, r"imgsz must be a whole number in 32\.\.1280")):
        with pytest.raises(ValueError, match=match):
            det.YoloDetector(str(tmp_path / "x.pt"), **kwargs)
    with pytest.raises(ValueError, match="detector must be one of"):
        det.make_detector("retinaface")
    with pytest.raises(FileNotFoundError, match="No anime-face detector found"):
        det.make_detector("auto", str(tmp_path / "a.pt"), str(tmp_path / "b"), str(tmp_path / "c.xml"))


@pytest.mark.skipif(not os.path.isfile(CASCADE), reason="../shared/detectors is not beside the repo")
def test_auto_falls_back_in_order_and_face_rate(tmp_path, stand_in):
    auto = det.make_detector("auto", str(tmp_path / "none.pt"), str(tmp_path / "none"), CASCADE)
    assert isinstance(auto, det.LbpCascadeDetector)
    pt = str(tmp_path / "yolov8x6_animeface.pt")
    stand_in.save(pt)
    assert det.make_detector("auto", pt, str(tmp_path / "none"), CASCADE).is_homework_detector
    boxes = auto.detect_batch([np.zeros((64, 64, 3), np.uint8)])
    assert boxes == [[]]
    with pytest.raises(ValueError, match="at least one image"):
        det.face_rate(auto, [])
    with pytest.raises(ValueError, match="uint8 RGB"):
        auto.detect_batch([np.zeros((8, 8), np.uint8)])


def test_no_network_from_import_to_prediction(tmp_path):
    """In a fresh process with sockets refused from the start, an empty config dir and no YOLO_* variables:
    importing ultralytics, building the model and predicting attempt no network access (no font download)."""
    import subprocess
    import sys

    script = f"""
import socket, sys
attempts = []
def refuse(*a, **k):
    attempts.append(repr(a[:2])); raise OSError("refused")
socket.getaddrinfo = socket.create_connection = socket.socket.connect = refuse
import numpy as np
from evaluation import detect as det
d = det.YoloDetector(model=det.build_own_yolo(), conf=0.0)
d.detect_batch([np.zeros((64, 64, 3), np.uint8)])
open("notes.png", "w").write("text, not an image")
from PIL import Image, UnidentifiedImageError
try:
    Image.open("notes.png")  # ultralytics' PIL patch would pip-install pi-heif here
except UnidentifiedImageError:
    print("UNREADABLE OK")
print("ATTEMPTS", attempts)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOLO_")}
    env["HOME"] = str(tmp_path)  # the default config dir lands in this empty home
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "ATTEMPTS []" in res.stdout and "UNREADABLE OK" in res.stdout, res.stdout[-2000:]
    assert (tmp_path / ".cache" / "anime-face-lab" / "yolo" / "Ultralytics" / "Arial.ttf").is_file()


@pytest.mark.skipif(not os.path.isfile(os.path.join(det.DEFAULT_OWN, "model.safetensors")),
                    reason="checkpoints/afd-yolov8n is not present")
def test_shipped_detector_finds_held_out_faces_not_negatives():
    """Our YOLOv8n at the HW6 settings, on faces it never saw (the last files by name) and on negatives."""
    from PIL import Image

    from lab.data import list_images

    faces_dir = paths.FACES
    if not os.path.isdir(faces_dir):
        pytest.skip("../shared/data is not beside the repo")
    from helpers import bench_script

    train_detector = bench_script("train_detector")
    load_faces, make_negative = train_detector.load_faces, train_detector.make_negative

    held = list_images(faces_dir)[-100:]
    faces = load_faces(faces_dir, held)
    ours = det.make_detector("ours")
    assert not ours.is_homework_detector and (ours.conf, ours.iou, ours.imgsz) == (0.8, 0.8, 64)
    real64 = [np.asarray(Image.fromarray(f).resize((64, 64), Image.Resampling.BICUBIC)) for f in faces]
    assert det.face_rate(ours, real64) >= 0.97
    rng = np.random.default_rng(0)
    for kind in ("noise", "blurred"):
        assert det.face_rate(ours, [make_negative(f, kind, rng) for f in faces]) <= 0.02, kind
