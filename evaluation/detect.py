"""Anime-face detectors behind one interface: `detect_batch(images) -> boxes per image`.

- `YoloDetector`: YOLOv8 through ultralytics. The homework's AFD uses `yolov8x6_animeface.pt` at conf 0.8,
  iou 0.8, imgsz 64 (the defaults here). It also loads our own small YOLOv8n (`checkpoints/afd-yolov8n`,
  config + safetensors, built by `bench/train_detector.py`), which is *not* the homework's detector.
- `LbpCascadeDetector`: nagadomi's lbpcascade_animeface (OpenCV 4), offline and fast.

`default_detector()` picks the first one whose file is present, in that order. A box is
(x1, y1, x2, y2, confidence) in the image's own pixels; the cascade gives no confidence (None).
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence

import numpy as np

from lab import paths

DEFAULT_CASCADE = paths.LBPCASCADE
CASCADE_URL = "https://raw.githubusercontent.com/nagadomi/lbpcascade_animeface/master/lbpcascade_animeface.xml"
DEFAULT_YOLO = paths.YOLO_WEIGHTS
YOLO_URL = "https://github.com/MagicalKyaru/yolov8_animeface/releases"
DEFAULT_OWN = paths.OWN_DETECTOR
OWN_FORMAT = "anime-face-detector/1"
HW6_SETTINGS = {"conf": 0.8, "iou": 0.8, "imgsz": 64}

Box = tuple[float, float, float, float, "float | None"]


def check_rgb(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("expected a uint8 RGB image of shape [H, W, 3]")
    return image


class LbpCascadeDetector:
    """Face rate settings: the image at 64x64, equalised gray, detectMultiScale(scaleFactor 1.1,
    minNeighbors 3, minSize 24x24). It finds a face in 99 % of real training faces and none of pure noise."""
    name = "lbpcascade_animeface (OpenCV)"
    is_homework_detector = False

    def __init__(self, path: str = DEFAULT_CASCADE, size: int = 64, scale_factor: float = 1.1,
                 min_neighbors: int = 3, min_size: int = 24) -> None:
        import cv2

        if not os.path.isfile(path):
            raise FileNotFoundError(f"The anime-face cascade lbpcascade_animeface.xml is not at {path}: download it "
                                    f"from {CASCADE_URL} and pass its path (or set LBPCASCADE_PATH).")
        self._cv2, self.path = cv2, path
        try:
            self.cascade = cv2.CascadeClassifier(path)
        except (cv2.error, SystemError):  # OpenCV raises on a file it cannot parse at all
            self.cascade = None
        if self.cascade is None or self.cascade.empty():
            raise ValueError(f"{path} is not a valid OpenCV cascade file")
        self.size, self.scale_factor, self.min_neighbors, self.min_size = size, scale_factor, min_neighbors, min_size

    def detect(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Boxes (x, y, w, h) in the image's own pixels, for a uint8 RGB array [H, W, 3]."""
        cv2 = self._cv2
        h, w = check_rgb(image).shape[:2]
        small = cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_AREA) if (h, w) != (
            self.size, self.size) else image
        gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        boxes = self.cascade.detectMultiScale(gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                                              minSize=(self.min_size, self.min_size))
        sx, sy = w / self.size, h / self.size
        return [(int(x * sx), int(y * sy), int(bw * sx), int(bh * sy)) for x, y, bw, bh in boxes]

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Box]]:
        return [[(x, y, x + w, y + h, None) for x, y, w, h in self.detect(img)] for img in images]

    def face_rate(self, images: Iterable[np.ndarray]) -> float:
        """Fraction of images with at least one face."""
        return face_rate(self, list(images))


# ----------------------------------------------------------------------------- ultralytics, offline

def import_ultralytics():
    """Import ultralytics so that it never reaches the network and leaves torch's thread count alone.

    YOLO_OFFLINE stops its online checks; a TTF at $YOLO_CONFIG_DIR/Ultralytics/Arial.ttf (matplotlib's
    DejaVuSans) stops it fetching a font. On import it sets OMP_NUM_THREADS=1 where unset, and on a CPU
    device it calls torch.set_num_threads(cpu_count - 1): both would halve the UNet's speed here. It also
    patches PIL.Image.open (see below).
    """
    import torch

    threads = torch.get_num_threads()
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", paths.YOLO_CONFIG)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    font = os.path.join(os.environ["YOLO_CONFIG_DIR"], "Ultralytics", "Arial.ttf")
    if not os.path.isfile(font):
        import matplotlib

        os.makedirs(os.path.dirname(font), exist_ok=True)
        shutil.copyfile(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"), font)
    import ultralytics
    from PIL import Image
    from ultralytics.utils import patches, torch_utils

    torch_utils.NUM_THREADS = threads  # select_device("cpu") resets torch's threads to this
    torch.set_num_threads(threads)
    # On import it also replaces PIL.Image.open, for every caller in the process, with a wrapper that answers an
    # unreadable file by pip-installing pi-heif (a network access) and then fails with ModuleNotFoundError:
    # give PIL its own open back, so a text file uploaded as an image stays a clear "not an image" error.
    Image.open = getattr(patches, "_image_open", Image.open)
    return ultralytics


@contextlib.contextmanager
def keep_torch_threads():
    import torch

    threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def build_own_yolo(yaml: str = "yolov8n.yaml", names: Sequence[str] = ("face",)):
    """A fresh YOLOv8 detection model (random weights) from ultralytics' bundled yaml: no file, no network."""
    import_ultralytics()
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel

    yolo = YOLO(yaml, task="detect")
    yolo.model = DetectionModel(yaml, nc=len(names), verbose=False)
    yolo.model.names = dict(enumerate(names))
    return yolo


class YoloDetector:
    """YOLOv8 anime-face detector through ultralytics; defaults are the homework's settings.

    `weights` is either an ultralytics .pt (e.g. yolov8x6_animeface.pt: a pickle, so only ever a file the
    operator put there, never an upload) or a folder with detector.json + model.safetensors (our own).
    """
    is_homework_detector = False

    def __init__(self, weights: str = DEFAULT_YOLO, conf: float = 0.8, iou: float = 0.8, imgsz: int = 64,
                 batch: int = 64, model=None, name: str | None = None) -> None:
        for what, value, lo, hi in (("conf", conf, 0, 1), ("iou", iou, 0, 1)):
            if not lo <= value <= hi:
                raise ValueError(f"{what} must be in [{lo}, {hi}], got {value}")
        if int(imgsz) != imgsz or not 32 <= imgsz <= 1280:
            raise ValueError(f"imgsz must be a whole number in 32..1280, got {imgsz}")
        self.conf, self.iou, self.imgsz, self.batch, self.path = conf, iou, int(imgsz), batch, weights
        if model is not None:  # an already built ultralytics YOLO (tests, training scripts)
            self.model, self.name = model, name or "YOLOv8 (given model)"
        elif os.path.isdir(weights):
            self.model, self.name = self._load_own(weights), name or f"our YOLOv8n ({os.path.basename(weights)})"
        elif os.path.isfile(weights):
            import_ultralytics()
            from ultralytics import YOLO

            with keep_torch_threads():
                self.model = YOLO(weights, task="detect")
            self.name = name or f"YOLOv8 {os.path.basename(weights)}"
            self.is_homework_detector = os.path.basename(weights) == "yolov8x6_animeface.pt"
        else:
            raise FileNotFoundError(f"The YOLOv8 anime-face detector yolov8x6_animeface.pt is not at {weights}: "
                                    f"download it from {YOLO_URL} and put it there (or set AFD_YOLO_WEIGHTS).")

    @staticmethod
    def _load_own(folder: str):
        from safetensors.torch import load_file

        config_path, weights_path = os.path.join(folder, "detector.json"), os.path.join(folder, "model.safetensors")
        if not (os.path.isfile(config_path) and os.path.isfile(weights_path)):
            raise FileNotFoundError(f"The detector folder {folder} needs detector.json and model.safetensors "
                                    f"(written by bench/train_detector.py).")
        with open(config_path) as f:
            config = json.load(f)
        if config.get("format") != OWN_FORMAT:
            raise ValueError(f"{config_path} is not an {OWN_FORMAT} config")
        yolo = build_own_yolo(config["yaml"], config["names"])
        state = {k: v.float() for k, v in load_file(weights_path).items()}
        yolo.model.load_state_dict(state, strict=True)
        yolo.model.eval()
        return yolo

    def detect_batch(self, images: Sequence[np.ndarray]) -> list[list[Box]]:
        out: list[list[Box]] = []
        with keep_torch_threads():
            for i in range(0, len(images), self.batch):
                # ultralytics reads numpy arrays as BGR (OpenCV's order)
                chunk = [np.ascontiguousarray(check_rgb(img)[..., ::-1]) for img in images[i:i + self.batch]]
                results = self.model.predict(source=chunk, conf=self.conf, iou=self.iou, imgsz=self.imgsz,
                                             verbose=False, batch=len(chunk))
                for r in results:
                    xyxy, conf = r.boxes.xyxy.cpu().numpy(), r.boxes.conf.cpu().numpy()
                    out.append([(*map(float, b), float(c)) for b, c in zip(xyxy, conf)])
        return out

    def face_rate(self, images: Iterable[np.ndarray]) -> float:
        return face_rate(self, list(images))


# ----------------------------------------------------------------------------- choosing one, scoring

def face_rate(detector, images: Sequence[np.ndarray]) -> float:
    """AFD as HW6 scores it: the fraction of images with at least one detected face."""
    if len(images) == 0:
        raise ValueError("face_rate needs at least one image")
    return float(np.mean([len(b) > 0 for b in detector.detect_batch(images)]))


DETECTORS = ("auto", "yolov8x6", "ours", "lbpcascade")


def make_detector(kind: str = "auto", yolo_path: str = DEFAULT_YOLO, own_path: str = DEFAULT_OWN,
                  cascade_path: str = DEFAULT_CASCADE):
    """One detector by name; "auto" is the homework's YOLO if present, else ours, else lbpcascade."""
    if kind not in DETECTORS:
        raise ValueError(f"detector must be one of {', '.join(DETECTORS)}, got {kind!r}")
    if kind == "auto":
        for name, path in (("yolov8x6", yolo_path), ("ours", own_path), ("lbpcascade", cascade_path)):
            if os.path.exists(path):
                return make_detector(name, yolo_path, own_path, cascade_path)
        raise FileNotFoundError(f"No anime-face detector found: put yolov8x6_animeface.pt at {yolo_path} "
                                f"(from {YOLO_URL}) or lbpcascade_animeface.xml at {cascade_path}.")
    if kind == "yolov8x6":
        return YoloDetector(yolo_path, **HW6_SETTINGS)
    if kind == "ours":
        return YoloDetector(own_path, **HW6_SETTINGS)
    return LbpCascadeDetector(cascade_path)
