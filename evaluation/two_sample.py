"""A classifier two-sample test (C2ST; Lopez-Paz & Oquab 2017): how well can a small CNN tell generated faces
from real ones it never saw?

Both sets are brought to the same form first (64x64, saved as JPEG q95 and read back), so the critic cannot
win on file format or size. Each set is split in two halves; the critic trains on one half of each and is
scored on the other halves, then the halves swap (2-fold cross-validation). The score is the mean held-out
accuracy: 0.5 means the critic cannot tell the sets apart, 1.0 that it tells every image apart. Unlike a
face-detector rate it does not saturate: blurring real faces by half a pixel is already visible to it.

The real faces must be ones no model was trained on: `lab.data`'s held-out split.
"""
from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SIZE, QUALITY = 64, 95


def standardise(images: np.ndarray | list[np.ndarray], size: int = SIZE, quality: int = QUALITY) -> np.ndarray:
    """uint8 RGB images of any size → uint8 [N, size, size, 3], each resized (bicubic) and JPEG-encoded at
    `quality`, then decoded: the form both sets are compared in."""
    from PIL import Image

    out = []
    for img in images:
        im = Image.fromarray(np.asarray(img, dtype=np.uint8)).convert("RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.Resampling.BICUBIC)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
        buf.seek(0)
        with Image.open(buf) as back:
            out.append(np.asarray(back.convert("RGB")))
    return np.stack(out)


class Critic(nn.Module):
    """A small CNN: four stride-2 conv blocks (64 → 4 px), global average pooling, one logit."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        layers, c = [], 3
        for w in (width, 2 * width, 4 * width, 4 * width):
            layers += [nn.Conv2d(c, w, 3, stride=2, padding=1), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3))).squeeze(1)


@dataclass
class C2STConfig:
    epochs: int = 6
    batch_size: int = 64
    lr: float = 2e-3
    width: int = 16
    shift: int = 4  # random translation in pixels: the critic should judge texture, not remember faces
    weight_decay: float = 1e-3
    seed: int = 0


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1).contiguous()


def _fit_and_score(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
                   cfg: C2STConfig, gen: torch.Generator) -> float:
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))  # the critic's init, from the seed
    critic = Critic(cfg.width)
    opt = torch.optim.AdamW(critic.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * -(-len(train_x) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    critic.train()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(train_x), generator=gen)
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            x = train_x[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5  # faces are left-right symmetric: free data
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            if cfg.shift:
                dx, dy = (int(v) for v in torch.randint(-cfg.shift, cfg.shift + 1, (2,), generator=gen))
                x = torch.roll(F.pad(x, (cfg.shift,) * 4, mode="replicate"), (dy, dx), dims=(2, 3))[
                    :, :, cfg.shift:-cfg.shift, cfg.shift:-cfg.shift]
            loss = F.binary_cross_entropy_with_logits(critic(x), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    with torch.no_grad():  # precise BatchNorm statistics: the mean over all training images, not a running guess
        for m in critic.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None  # a cumulative average over the passes below
        for i in range(0, len(train_x), 256):
            critic(train_x[i:i + 256])
    critic.eval()
    with torch.no_grad():
        logits = torch.cat([critic(test_x[i:i + 256]) for i in range(0, len(test_x), 256)])
    return float(((logits > 0).float() == test_y).float().mean())


def c2st(generated: np.ndarray, real: np.ndarray, config: C2STConfig | None = None) -> dict:
    """The two-sample score of generated vs real images (uint8 [N, H, W, 3] each; a random subset of the larger
    set, as large as the smaller, is used). Returns {"score", "folds", "n_per_set", "config"}."""
    cfg = config or C2STConfig()
    n = min(len(generated), len(real))
    if n < 20:
        raise ValueError(f"the two-sample test needs at least 20 images per set, got {len(generated)} and {len(real)}")
    gen = torch.Generator().manual_seed(cfg.seed)
    # shuffle before halving: a set in file-name order can drift in style from its first half to its second
    # (these faces do), and a critic trained on one half would then be scored on another distribution
    fake_t = _to_tensor(standardise(generated[torch.randperm(len(generated), generator=gen)[:n].numpy()]))
    real_t = _to_tensor(standardise(real[torch.randperm(len(real), generator=gen)[:n].numpy()]))
    halves = [(slice(0, n // 2), slice(n // 2, 2 * (n // 2))), (slice(n // 2, 2 * (n // 2)), slice(0, n // 2))]
    folds = []
    for train, test in halves:
        x_train = torch.cat([fake_t[train], real_t[train]])
        y_train = torch.cat([torch.zeros(n // 2), torch.ones(n // 2)])
        x_test = torch.cat([fake_t[test], real_t[test]])
        folds.append(_fit_and_score(x_train, y_train, x_test, y_train.clone(), cfg, gen))
    return {"score": float(np.mean(folds)), "folds": folds, "n_per_set": n, "config": asdict(cfg)}


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of uint8 images by sigma pixels (for calibration: how visible is a little blur?)."""
    from PIL import Image, ImageFilter

    return np.stack([np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(sigma))) for img in images])


def add_noise(images: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """Additive Gaussian pixel noise of `std` (in 0..255 units), clipped (for calibration)."""
    rng = np.random.default_rng(seed)
    return np.clip(images.astype(np.float32) + rng.normal(0, std, images.shape), 0, 255).round().astype(np.uint8)
