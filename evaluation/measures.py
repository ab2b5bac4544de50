"""The measures the app and CLIs share, each loaded once: the anime-face detectors (AFD) and FFD's face encoder.

`MEASURES` is to evaluation what `lab.registry.REGISTRY` is to checkpoints; a lock makes two visitors asking for
the same detector at once load it once. Missing files are ValueError sentences that name the file.
"""
from __future__ import annotations

import threading

from lab import paths
from lab.refusal import one_of


class Measures:
    def __init__(self, face_encoder: str = paths.FACE_ENCODER) -> None:
        self.face_encoder = face_encoder
        self._detectors: dict[str, object] = {}
        self._face_features = None
        self._lock = threading.Lock()

    def detector(self, kind: str = "auto"):
        """The anime-face detector by kind (see evaluation.detect.DETECTORS), loaded once."""
        from . import detect

        one_of(kind, "detector", detect.DETECTORS)
        with self._lock:
            if kind not in self._detectors:
                try:
                    self._detectors[kind] = detect.make_detector(kind)
                except FileNotFoundError as e:
                    raise ValueError(str(e)) from None
            return self._detectors[kind]

    def face_features(self):
        """FFD's encoder and the held-out faces' statistics (evaluation.face_features), loaded once."""
        from .face_features import load_face_features

        with self._lock:
            if self._face_features is None:
                self._face_features = load_face_features(self.face_encoder)
            return self._face_features


MEASURES = Measures()
