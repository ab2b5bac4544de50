"""The checkpoints the app and CLIs use, each loaded once and shared.

One `Registry` (module-level `REGISTRY`) lists the checkpoint folders under `paths.CHECKPOINTS`, loads a
model on first use and keeps it (the detectors and FFD's encoder: evaluation.measures). A lock makes two visitors asking for
the same model at once load it once. Model code never imports gradio; the UI imports this.
"""
from __future__ import annotations

import json
import os
import threading

from . import paths
from .refusal import Refusal
from .checkpoint import LoadedGAN, LoadedModel, load_checkpoint

KINDS = {"unet": "diffusion", "stylegan": "stylegan"}  # config.json "model" → the kind the UI speaks of


class Registry:
    def __init__(self, folder: str = paths.CHECKPOINTS, default: str = paths.DEFAULT_DIFFUSION) -> None:
        self.folder, self.default = folder, default
        self._models: dict[str, LoadedModel | LoadedGAN] = {}
        self._lock = threading.Lock()

    def kind_of(self, name: str) -> str | None:
        """"diffusion" or "stylegan" for a checkpoint folder, None if it is not one."""
        path = os.path.join(self.folder, name, "config.json")
        try:
            with open(path) as f:
                return KINDS.get(json.load(f).get("model", "unet"))
        except (OSError, ValueError, AttributeError):
            return None

    def names(self, kind: str | None = None) -> list[str]:
        """Checkpoint folders (holding a config.json), the default first; with `kind` only those of that kind."""
        if not os.path.isdir(self.folder):
            return []
        found = [n for n in sorted(os.listdir(self.folder)) if (k := self.kind_of(n)) and (kind is None or k == kind)]
        return sorted(found, key=lambda n: n != self.default)

    def model(self, name: str) -> LoadedModel | LoadedGAN:
        """The loaded checkpoint `name` (a folder name under the checkpoint folder), loaded on first use."""
        if not isinstance(name, str) or name not in self.names():
            here = ", ".join(self.names()) or "none"
            raise Refusal("unknown_checkpoint", f"unknown checkpoint {name!r}; available: {here}", value=repr(name),
                          choices=here)
        with self._lock:
            if name not in self._models:
                self._models[name] = load_checkpoint(os.path.join(self.folder, name))
            return self._models[name]

    def diffusion(self, name: str, what: str = "this") -> LoadedModel:
        """The checkpoint, which must have denoising steps to show for `what` (a StyleGAN says it has none)."""
        return self.model(name).require_steps(what)

    def quality(self, name: str) -> dict | None:
        """The checkpoint's measured two-sample score and, where measured, its FFD (report/two_sample.json,
        written by bench/quality.py): {"mean": score, "ffd": distance or None, …}."""
        try:
            with open(os.path.join(self.folder, name, paths.TWO_SAMPLE)) as f:
                report = json.load(f)
            return {**report["two_sample"], "ffd": (report.get("ffd") or {}).get("mean")}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def first(self, kind: str) -> str:
        names = self.names(kind)
        if not names:
            raise ValueError(f"no {kind} checkpoint under {self.folder}")
        return names[0]


REGISTRY = Registry()
