"""FFD, the Fréchet face distance: FID's formula in the features of a face encoder trained here.

FID needs Inception weights that cannot be had offline, and Inception never saw an anime face. This encoder
was trained self-supervised (SimCLR: two augmented views of one face are pulled together, other faces pushed
apart; `bench/train_encoder.py`) on the training split of the anime faces alone, with blur, pixel noise and
JPEG among its augmentations, so that its features hold what a face shows (layout, colour, eyes, hair) more
than the fine grain of how the pixels were made. The held-out faces' feature statistics ship beside the
weights: a Space scores a set without any real face on disk.

Both sets are brought to one form first, as for the two-sample test (64 px bicubic, JPEG q95). 0 = the same
distribution; lower is better. Like FID it is biased upwards at small n: compare sets of equal size.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CONFIG_NAME, WEIGHTS_NAME, STATS_NAME = "config.json", "model.safetensors", "heldout_stats.safetensors"
FORMAT = "anime-face-encoder/1"


@dataclass
class EncoderConfig:
    width: int = 32
    feature_dim: int = 256  # what the distance is measured in: the pooled output of the last stage
    projection_dim: int = 128  # SimCLR's head, used only in training

    def to_dict(self) -> dict:
        return asdict(self)


class Block(nn.Module):
    """A residual block: two 3x3 convs, GroupNorm, SiLU; stride 2 (and a 1x1 skip) when it downsamples."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.norm1 = nn.GroupNorm(8, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(8, c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1, stride=stride) if (c_in, stride) != (c_out, 1) else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.norm1(self.conv1(x)))
        return F.silu(self.norm2(self.conv2(h)) + self.skip(x))


class FaceEncoder(nn.Module):
    """64 px face → feature vector: a stride-2 stem, four residual stages (32, 16, 8, 4 px), average pooling."""

    def __init__(self, config: EncoderConfig = EncoderConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, stride=2, padding=1), nn.GroupNorm(8, w), nn.SiLU())
        widths = (w, 2 * w, 4 * w, config.feature_dim)
        self.stages = nn.Sequential(*[Block(c_in, c_out, 1 if i == 0 else 2)
                                      for i, (c_in, c_out) in enumerate(zip((w,) + widths[:-1], widths))])
        self.projection = nn.Sequential(nn.Linear(config.feature_dim, config.feature_dim), nn.SiLU(),
                                        nn.Linear(config.feature_dim, config.projection_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x in [-1, 1], [B, 3, 64, 64] → features [B, feature_dim]."""
        return self.stages(self.stem(x)).mean(dim=(2, 3))


@dataclass
class FaceFeatures:
    encoder: FaceEncoder
    mu: np.ndarray  # the held-out faces' feature mean and covariance
    sigma: np.ndarray
    n_real: int
    config: dict
    path: str


def save_encoder(path: str, encoder: FaceEncoder, extra: dict | None = None) -> None:
    from lab.checkpoint import write_checkpoint

    write_checkpoint(path, encoder, {"format": FORMAT, "model": "face-encoder", "encoder": encoder.config.to_dict(),
                                     **(extra or {})})


def save_statistics(path: str, feats: np.ndarray) -> None:
    from lab.checkpoint import atomic_save_tensors

    mu, sigma = statistics(feats)
    atomic_save_tensors({"mu": torch.from_numpy(mu), "sigma": torch.from_numpy(sigma)},
                        os.path.join(path, STATS_NAME), metadata={"n": str(len(feats))})


def load_face_features(path: str) -> FaceFeatures:
    """The encoder and the held-out statistics of a folder written by bench/train_encoder.py (safetensors only);
    a missing or foreign file is one ValueError sentence naming it."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    files = [os.path.join(path, n) for n in (CONFIG_NAME, WEIGHTS_NAME, STATS_NAME)]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise ValueError(f"The face encoder at {path} lacks {', '.join(os.path.basename(f) for f in missing)}: "
                         f"train it with bench/train_encoder.py.")
    try:
        with open(files[0]) as f:
            config = json.load(f)
        encoder = FaceEncoder(EncoderConfig(**config["encoder"]))
        encoder.load_state_dict(load_file(files[1]))
        with safe_open(files[2], "pt") as f:
            mu, sigma = f.get_tensor("mu").double().numpy(), f.get_tensor("sigma").double().numpy()
            n_real = int(f.metadata()["n"])
    except Exception as e:  # noqa: BLE001 - any damage is the same sentence
        raise ValueError(f"The face encoder at {path} could not be loaded ({type(e).__name__}: {e}).") from None
    return FaceFeatures(encoder.eval(), mu, sigma, n_real, config, path)


@torch.no_grad()
def features(images: np.ndarray, encoder: FaceEncoder, batch_size: int = 250,
             progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Features [N, feature_dim] (float64) of uint8 RGB images [N, H, W, 3], standardised as the two-sample
    test does (64 px bicubic, JPEG q95)."""
    from .two_sample import standardise

    if len(images) < 2:
        raise ValueError(f"the face distance needs at least two images, got {len(images)}")
    encoder.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = standardise(images[i:i + batch_size])
        x = torch.from_numpy(x).permute(0, 3, 1, 2).float().div(127.5).sub(1)
        out.append(encoder(x).double().numpy())
        if progress:
            progress(len(x))
    return np.concatenate(out)


def statistics(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from .fid import statistics as gaussian

    return gaussian(feats)


def ffd(images: np.ndarray, model: FaceFeatures, progress: Callable[[int], None] | None = None) -> float:
    """The Fréchet face distance of uint8 images against the held-out real faces' statistics."""
    from .fid import frechet_distance

    return frechet_distance(*statistics(features(images, model.encoder, progress=progress)), model.mu, model.sigma)


def ffd_between(a: np.ndarray, b: np.ndarray, encoder: FaceEncoder) -> float:
    """The Fréchet face distance between two image sets."""
    from .fid import frechet_distance

    return frechet_distance(*statistics(features(a, encoder)), *statistics(features(b, encoder)))
