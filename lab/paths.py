"""Every path the project reads or writes by default, and the environment variables that move them.

Paths are absolute and anchored at the repository, never at the working directory, so `python app.py`,
`cd bench && python checkpoint_report.py` and the tests all find the same files. `../shared` is for
development only: the app never needs it (a Space has none); where a file there is absent the feature
that uses it says so in one sentence.

| name | default | override |
|---|---|---|
| CHECKPOINTS | <repo>/checkpoints | ANIME_LAB_CHECKPOINTS |
| SHARED | <repo>/../shared | ANIME_LAB_SHARED |
| FACES | SHARED/data/anime-faces | ANIME_FACES_DIR |
| LBPCASCADE | <repo>/checkpoints/lbpcascade_animeface.xml if shipped, else SHARED/detectors/… | LBPCASCADE_PATH |
| YOLO_WEIGHTS | CHECKPOINTS/yolov8x6_animeface.pt | AFD_YOLO_WEIGHTS |
| OWN_DETECTOR | CHECKPOINTS/afd-yolov8n | AFD_OWN_DETECTOR |
| FACE_ENCODER | CHECKPOINTS/face-encoder | ANIME_LAB_FACE_ENCODER |
| CACHE | ~/.cache/anime-face-lab | ANIME_LAB_CACHE |
"""
from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(name: str, default: str) -> str:
    return os.path.abspath(os.path.expanduser(os.environ.get(name) or default))


CHECKPOINTS = _env("ANIME_LAB_CHECKPOINTS", os.path.join(ROOT, "checkpoints"))
SHARED = _env("ANIME_LAB_SHARED", os.path.join(ROOT, "..", "shared"))
FACES = _env("ANIME_FACES_DIR", os.path.join(SHARED, "data", "anime-faces"))
_CASCADE_NAME = "lbpcascade_animeface.xml"
LBPCASCADE = _env("LBPCASCADE_PATH", next(
    (p for p in (os.path.join(CHECKPOINTS, _CASCADE_NAME), os.path.join(SHARED, "detectors", _CASCADE_NAME))
     if os.path.isfile(p)), os.path.join(SHARED, "detectors", _CASCADE_NAME)))
YOLO_WEIGHTS = _env("AFD_YOLO_WEIGHTS", os.path.join(CHECKPOINTS, "yolov8x6_animeface.pt"))
OWN_DETECTOR = _env("AFD_OWN_DETECTOR", os.path.join(CHECKPOINTS, "afd-yolov8n"))
FACE_ENCODER = _env("ANIME_LAB_FACE_ENCODER", os.path.join(CHECKPOINTS, "face-encoder"))  # FFD
CACHE = _env("ANIME_LAB_CACHE", os.path.join("~", ".cache", "anime-face-lab"))
YOLO_CONFIG = os.path.join(CACHE, "yolo")
DEFAULT_DIFFUSION = "anime-64-fast"  # the 2-step student; Denoising and Compare teach with its teacher
# inside a checkpoint folder: its measured report (bench/checkpoint_report.py, bench/quality.py) and its
# evaluate.py report --sweep (the quality-vs-steps plot Compare shows)
REPORT = "report"
EVAL = "eval"
TWO_SAMPLE = os.path.join(REPORT, "two_sample.json")
QUALITY_VS_STEPS = os.path.join(EVAL, "quality_vs_steps.png")
QUALITY_VS_STEPS_ZH = os.path.join(EVAL, "quality_vs_steps.zh-TW.png")  # where a CJK font drew it
DEFAULT_STYLEGAN = "stylegan-64"


def checkpoint(name: str) -> str:
    """The folder of a checkpoint shipped under CHECKPOINTS."""
    return os.path.join(CHECKPOINTS, name)
