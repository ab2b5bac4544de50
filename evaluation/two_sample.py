"""A classifier two-sample test (C2ST; Lopez-Paz & Oquab 2017): how well can a small CNN tell generated faces
from real ones it never saw?

Both sets are brought to the same form first (64x64, saved as JPEG q95 and read back), so the critic cannot
win on file format or size. Each set is split in two halves; the critic trains on one half of each and is
scored on the other halves, then the halves swap (2-fold cross-validation). The score is the mean held-out
accuracy: 0.5 means the critic cannot tell the sets apart, 1.0 that it tells every image apart. Unlike a
face-detector rate it does not saturate: blurring real faces by half a pixel is already visible to it. It sees
each image's fine grain beside the picture (`C2STConfig.detail`): without it, a critic found such cues only in
some runs (docs/critic_convergence.md). A second critic, convex, over each image's pixel statistics
(evaluation/pixel_critic.py), is trained and scored on the same halves: it finds a faint colour cast, blur or noise
in every run, where a CNN finds it in some. The score is the better of the two critics' held-out accuracies
(both are reported), so a cue either critic can see counts.

The real faces must be ones no model was trained on: `lab.data`'s held-out split.
"""
from __future__ import annotations

import copy
import io
import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SIZE, QUALITY = 64, 95
# fields added after scores were cached, at the value that changes nothing
NEUTRAL = {"critics": 1, "ema": 0.0, "schedule": "plateau", "detail": 0.0, "norm": "group", "stem_stats": False,
           "rotate": False, "pick": 1}
PIXEL_FIELDS = ("pixel", "pixel_iter")  # the pixel-statistics critic's: not part of a cached CNN score's key
NUMERICS = "channels_last"  # part of a cached score's key: the same config in another memory format trains apart


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
    """A CNN of `depth` 3x3 convs per stage: a full-resolution stem, then four stages that halve the size
    (64 → 4 px) at widths w, 2w, 4w, 4w; GroupNorm (the score must not depend on the batch) or, with
    norm="none", no normalisation; global average pooling, one logit. With `stem_stats` the head also sees the
    stem's responses averaged over the image, before any normalisation: an image's overall grain level and colour,
    which GroupNorm takes out of every later layer."""

    def __init__(self, width: int = 32, depth: int = 2, detail: float = 0.0, norm: str = "group",
                 stem_stats: bool = False) -> None:
        super().__init__()
        if norm not in ("group", "none"):
            raise ValueError(f"norm must be group or none, got {norm!r}")
        self.detail, self.stem_stats = detail, stem_stats
        self.stem = nn.Sequential(nn.Conv2d(6 if detail else 3, width, 3, padding=1), nn.LeakyReLU(0.2))
        layers, c = [], width
        for w in (width, 2 * width, 4 * width, 4 * width):
            for k in range(depth):
                layers += [nn.Conv2d(c, w, 3, stride=2 if k == 0 else 1, padding=1)]
                layers += [nn.GroupNorm(min(8, w // 4), w)] if norm == "group" else []
                layers += [nn.LeakyReLU(0.2)]
                c = w
        if norm == "none":  # He init keeps the activations' scale through the layers that no norm rescales
            for m in [*self.stem, *layers]:
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
                    nn.init.zeros_(m.bias)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c + (width if stem_stats else 0), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.detail:  # the fine grain beside the picture, amplified: a cue of a few grey levels is found early
            x = torch.cat([x, self.detail * (x - _binomial_blur(x))], dim=1)
        stem = self.stem(x)
        pooled = self.features(stem).mean(dim=(2, 3))
        if self.stem_stats:
            pooled = torch.cat([pooled, stem.mean(dim=(2, 3))], dim=1)
        return self.head(pooled).squeeze(1)


def _binomial_blur(x: torch.Tensor) -> torch.Tensor:
    """A 3x3 binomial ([1, 2, 1] ⊗ [1, 2, 1] / 16) blur per channel, edges replicated."""
    k = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype)
    k = (k[:, None] * k[None, :] / 16).expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k.contiguous(), groups=x.shape[1])


@dataclass
class C2STConfig:
    """The critics and how long they train. The defaults are the strongest measured so far: a CNN that sees each
    image's fine grain beside the picture (without it, a critic found the box filter in some runs and not in others,
    and missed the diffusion default's smoothness) and trains on a fixed budget whose lr falls to 0, and beside it the
    pixel-statistics critic (`pixel`), which finds the faint colour cast, blur and noise that the CNN finds in some
    runs only. How near converged they are (doubling their width or their training should move no score by more than
    0.01) is docs/critic_convergence.md. `quick()` is for tests."""
    width: int = 16
    depth: int = 2
    max_epochs: int = 60
    schedule: str = "cosine"  # cosine: the lr falls to 0 over max_epochs, no stopping, the last (averaged) weights
                              # scored; plateau: drop the lr and stop on inner-validation plateaus (the three below)
    patience: int = 4  # plateau: epochs without a lower inner-validation loss before the lr drops (or training stops)
    min_epochs: int = 60  # plateau: no lr drop or stop before this epoch (a critic can sit at chance first)
    lr_drops: int = 2  # plateau: times the lr falls by 5x before training stops
    val_fraction: float = 0.0  # of each training half, held out to decide when to stop (never scored); 0: none
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    shift: int = 0  # random translation in pixels; 0 (flips only): shifts blur out fixed-position artefacts
    rotate: bool = False  # random quarter turns as well as flips (the square's 8 symmetries): a pixel-level cue (grain,
                          # blur, a colour cast) looks the same turned, a face the critic could memorise does not
    ema: float = 0.99  # the critic scored is the moving average of its weights (per step; 0: the last weights)
    detail: float = 8.0  # > 0: the critic also sees each image's fine grain (image − 3x3 blur) times this; 0: the
                         # picture alone (critics before 2026-12-06)
    norm: str = "group"  # group: GroupNorm after each conv; none: no normalisation (GroupNorm takes away each
                         # image's mean and scale per group of channels: a colour cast, an overall grain level);
                         # both: one critic of each per fold (times `critics`), their logits averaged
    stem_stats: bool = False  # the head also sees the stem's responses averaged over the image (the grain level and
                              # colour that GroupNorm takes out)
    critics: int = 1  # critics per fold, each from its own init and data order, their logits averaged (a single
                      # critic's score moves with its init: docs/critic_convergence.md)
    pick: int = 1  # > 1: per critic, train this many from their own inits and data orders on the training half less
                   # its inner validation split (val_fraction), and keep the one most accurate there: on a faint cue
                   # a critic finds it or does not, and the inner split tells which without touching the test half
    pixel: int = 1  # the pixel-statistics critic's resolution (2: every histogram's bins doubled); 0: the CNN alone
    pixel_iter: int = 500  # its L-BFGS iterations (it is convex: more change nothing once it has converged)
    seed: int = 0

    @classmethod
    def quick(cls, seed: int = 0) -> "C2STConfig":
        """A few epochs of a narrow critic: seconds, for tests and smoke runs (not converged)."""
        return cls(width=8, depth=1, max_epochs=8, min_epochs=0, schedule="plateau", lr=2e-3, ema=0.0, detail=0.0,
                   seed=seed)


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1).contiguous()


def _augment(x: torch.Tensor, cfg: C2STConfig, gen: torch.Generator) -> torch.Tensor:
    flip = torch.rand(len(x), generator=gen) < 0.5  # faces are left-right symmetric: free data
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if cfg.rotate:
        turns = torch.randint(0, 4, (len(x),), generator=gen)
        x = torch.stack([torch.rot90(img, int(k), dims=(1, 2)) for img, k in zip(x, turns)])
    if cfg.shift:
        dx, dy = (int(v) for v in torch.randint(-cfg.shift, cfg.shift + 1, (2,), generator=gen))
        x = torch.roll(F.pad(x, (cfg.shift,) * 4, mode="replicate"), (dy, dx), dims=(2, 3))[
            :, :, cfg.shift:-cfg.shift, cfg.shift:-cfg.shift]
    return x


def _cl(x: torch.Tensor) -> torch.Tensor:
    """Images in the critic's memory format (channels_last: a training step runs 1.3x faster on the CPU)."""
    return x.contiguous(memory_format=torch.channels_last)


@torch.no_grad()
def _logits(critic: Critic, x: torch.Tensor) -> torch.Tensor:
    """The critic's logits, averaged over the image and its mirror image."""
    critic.eval()
    parts = (_cl(x[i:i + 256]) for i in range(0, len(x), 256))
    out = torch.cat([critic(p) + critic(p.flip(-1)) for p in parts]) / 2
    critic.train()
    return out


def _pick(train_x: torch.Tensor, train_y: torch.Tensor, cfg: C2STConfig, gen: torch.Generator
          ) -> tuple[Critic, list[int]]:
    """The critic to judge with: with cfg.pick > 1, the most accurate on one inner validation split of `pick`
    critics, each from its own init and data order (ties: the lower validation loss); epochs trained by each."""
    if cfg.pick == 1:
        critic, epochs = _fit(train_x, train_y, cfg, gen)
        return critic, [epochs]
    order = torch.randperm(len(train_x), generator=gen)
    n_val = int(round(len(train_x) * cfg.val_fraction))
    val, fit = order[:n_val], order[n_val:]
    best, best_key, trained = None, None, []
    for _ in range(cfg.pick):
        critic, epochs = _fit(train_x, train_y, cfg, gen, split=(val, fit))
        logits = _logits(critic, train_x[val])
        key = (float(((logits > 0).float() == train_y[val]).float().mean()),
               -float(F.binary_cross_entropy_with_logits(logits, train_y[val])))
        trained.append(epochs)
        if best_key is None or key > best_key:
            best, best_key = critic, key
    return best, trained


def _fit(train_x: torch.Tensor, train_y: torch.Tensor, cfg: C2STConfig, gen: torch.Generator,
         split: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[Critic, int]:
    """A critic trained on train (less an inner validation split that decides when to stop: `split` gives it as
    (validation, training) indices, else it is drawn), and the epochs it trained. With cfg.ema the critic judged,
    kept and returned is the moving average of the weights: one epoch's weights can score 0.07 below the next
    one's where their average rises smoothly (bench/critic_curve.py)."""
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))  # the critic's init, from the seed
    critic = Critic(cfg.width, cfg.depth, cfg.detail, cfg.norm, cfg.stem_stats).to(memory_format=torch.channels_last)  # 1.3x faster (bench/critic_speed.py)
    judged = copy.deepcopy(critic).requires_grad_(False) if cfg.ema else critic
    if split is None:
        order = torch.randperm(len(train_x), generator=gen)
        n_val = int(round(len(train_x) * cfg.val_fraction))  # 0: train max_epochs, no early stop
        val, fit = order[:n_val], order[n_val:]
    else:
        (val, fit), n_val = split, len(split[0])
    opt = torch.optim.AdamW(critic.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best_loss, best_state, waited, drops, epoch = float("inf"), None, 0, 0, 0
    critic.train()
    for epoch in range(1, cfg.max_epochs + 1):
        if cfg.schedule == "cosine":
            for group in opt.param_groups:
                group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / cfg.max_epochs))
        shuffled = fit[torch.randperm(len(fit), generator=gen)]
        for i in range(0, len(shuffled), cfg.batch_size):
            batch = shuffled[i:i + cfg.batch_size]
            loss = F.binary_cross_entropy_with_logits(critic(_cl(_augment(train_x[batch], cfg, gen))), train_y[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if cfg.ema:
                with torch.no_grad():
                    for p_avg, p in zip(judged.parameters(), critic.parameters()):
                        p_avg.lerp_(p, 1 - cfg.ema)
        if not n_val or cfg.schedule == "cosine":
            continue
        val_loss = float(F.binary_cross_entropy_with_logits(_logits(judged, train_x[val]), train_y[val]))
        if val_loss < best_loss - 1e-4:
            best_loss, waited = val_loss, 0
            best_state = {k: v.clone() for k, v in judged.state_dict().items()}
            continue
        waited += 1
        if waited >= cfg.patience and epoch >= cfg.min_epochs:  # a plateau: go on from the best weights at a lower lr, or stop
            critic.load_state_dict(best_state)
            judged.load_state_dict(best_state)
            if drops == cfg.lr_drops:
                break
            drops, waited = drops + 1, 0
            for group in opt.param_groups:
                group["lr"] /= 5
    if best_state is not None:
        judged.load_state_dict(best_state)
    return judged.eval(), epoch


def saliency(critic: Critic, x: torch.Tensor) -> np.ndarray:
    """Where the critic looks: the mean over images of |∂ logit / ∂ pixel|, summed over colour, [H, W]."""
    total = torch.zeros(x.shape[2:])
    for i in range(0, len(x), 256):
        part = _cl(x[i:i + 256]).clone().requires_grad_(True)
        critic(part).sum().backward()
        total += part.grad.abs().sum(dim=(0, 1))
    return (total / len(x)).numpy()


def c2st(generated: np.ndarray, real: np.ndarray, config: C2STConfig | None = None, with_saliency: bool = False
         ) -> dict:
    """The two-sample score of generated vs real images (uint8 [N, H, W, 3] each; a random subset of the larger
    set, as large as the smaller, is used). Returns {"score", "folds", "epochs" (per critic, fold by fold),
    "n_per_set", "config"}, and with `with_saliency` "saliency": each critic's saliency map over its fold's held-out
    generated images, averaged."""
    cfg = config or C2STConfig()
    if cfg.schedule not in ("plateau", "cosine"):
        raise ValueError(f"schedule must be plateau or cosine, got {cfg.schedule!r}")
    if cfg.norm not in ("group", "none", "both"):
        raise ValueError(f"norm must be group, none or both, got {cfg.norm!r}")
    if cfg.critics < 1 or not 0 <= cfg.ema < 1:
        raise ValueError(f"critics must be >= 1 and ema in [0, 1), got {cfg.critics} and {cfg.ema}")
    if cfg.pick < 1 or (cfg.pick > 1 and not 0 < cfg.val_fraction < 1):
        raise ValueError(f"pick must be >= 1, and picking among critics needs val_fraction in (0, 1); got pick "
                         f"{cfg.pick} and val_fraction {cfg.val_fraction}")
    if cfg.pixel < 0 or cfg.pixel_iter < 1:
        raise ValueError(f"pixel must be 0 (no pixel-statistics critic) or more and pixel_iter 1 or more, got "
                         f"{cfg.pixel} and {cfg.pixel_iter}")
    gen = torch.Generator().manual_seed(cfg.seed)
    fake_u8, real_u8, halves = prepare(generated, real, gen)
    fake_t, real_t, n = _to_tensor(fake_u8), _to_tensor(real_u8), len(fake_u8)
    folds, trained, maps = [], [], []
    for train, test in halves:
        x_train = torch.cat([fake_t[train], real_t[train]])
        y = torch.cat([torch.zeros(n // 2), torch.ones(n // 2)])
        logits = 0
        norms = ("group", "none") if cfg.norm == "both" else (cfg.norm,)
        for _ in range(cfg.critics):
            for norm in norms:
                critic, epochs = _pick(x_train, y, replace(cfg, norm=norm), gen)
                logits = logits + _logits(critic, torch.cat([fake_t[test], real_t[test]])) / (cfg.critics * len(norms))
                trained.extend(epochs)
                if with_saliency:
                    maps.append(saliency(critic, fake_t[test]))
        folds.append(float(((logits > 0).float() == y).float().mean()))
    out = {"score": float(np.mean(folds)), "folds": folds, "epochs": trained, "n_per_set": n, "config": asdict(cfg)}
    out = with_pixel_critic(out, fake_u8, real_u8, halves, cfg)
    return out | ({"saliency": np.mean(maps, axis=0)} if with_saliency else {})


def prepare(generated: np.ndarray, real: np.ndarray, gen: torch.Generator
            ) -> tuple[np.ndarray, np.ndarray, list[tuple[slice, slice]]]:
    """Both sets standardised, shuffled by `gen` and cut to the smaller one's length, and the two folds' (train,
    test) halves."""
    n = min(len(generated), len(real))
    if n < 20:
        raise ValueError(f"the two-sample test needs at least 20 images per set, got {len(generated)} and {len(real)}")
    # shuffle before halving: a set in file-name order can drift in style from its first half to its second
    # (these faces do), and a critic trained on one half would then be scored on another distribution
    fake = standardise(generated[torch.randperm(len(generated), generator=gen)[:n].numpy()])
    real_s = standardise(real[torch.randperm(len(real), generator=gen)[:n].numpy()])
    halves = [(slice(0, n // 2), slice(n // 2, 2 * (n // 2))), (slice(n // 2, 2 * (n // 2)), slice(0, n // 2))]
    return fake, real_s, halves


def with_pixel_critic(cnn: dict, fake_u8: np.ndarray, real_u8: np.ndarray, halves: list[tuple[slice, slice]],
                      cfg: C2STConfig) -> dict:
    """A CNN critic's result (c2st with pixel=0) with the pixel-statistics critic's beside it, trained and scored on
    the same halves (`prepare`'s): "score" and "folds" are the better critic's, "judge" says which ("cnn" on a tie), "cnn" and
    "pixel" hold both. With cfg.pixel 0, the CNN's result as it is. A result with a pixel critic already gets a new one
    (its CNN part kept)."""
    if not cfg.pixel:
        return cnn
    from evaluation.pixel_critic import pixel_critic_folds

    cnn = cnn_part(cnn)  # a result that has a pixel critic already (an older one): that one replaced
    pixel = pixel_critic_folds(fake_u8, real_u8, halves, cfg.seed, cfg.pixel, cfg.pixel_iter)
    judge = "pixel" if pixel["score"] > cnn["score"] else "cnn"
    best = pixel if judge == "pixel" else cnn
    # a CNN score stored without its folds (bench/quality.py's rows keep the scores only) stays without them
    return cnn | {"score": best["score"], "folds": best.get("folds"), "judge": judge, "config": asdict(cfg),
                  "cnn": {"score": cnn["score"], "folds": cnn.get("folds")}, "pixel": pixel}


def cnn_part(result: dict) -> dict:
    """The CNN critic's own result out of one that has the pixel-statistics critic beside it (as it is otherwise)."""
    if "pixel" not in result:
        return result
    return {k: v for k, v in result.items() if k not in ("judge", "cnn", "pixel")} | result["cnn"]


def c2st_cached(generated: np.ndarray, real: np.ndarray, config: C2STConfig | None = None,
                cache_dir: str | None = None, with_saliency: bool = False) -> dict:
    """c2st, remembered on disk by the two image sets' bytes and the config: a converged score takes minutes, and
    bench/quality.py, bench/critic_study.py and bench/diagnose.py score the same sets. With `with_saliency` the
    saliency map is kept too (a score stored without one is computed again, to the same score)."""
    import hashlib
    import json
    import os

    from lab import paths

    cfg = config or C2STConfig()
    # the CNN's result is what is stored (the pixel-statistics critic takes seconds and is added on each call), keyed
    # without the pixel critic's fields; a field added later keys as before at its neutral value: scores stored
    # before it existed stay found
    cnn_cfg = replace(cfg, pixel=0)
    key = {k: v for k, v in asdict(cnn_cfg).items() if NEUTRAL.get(k, object()) != v and k not in PIXEL_FIELDS}
    h = hashlib.sha256(json.dumps(key | {"numerics": NUMERICS}, sort_keys=True).encode())
    for images in (generated, real):
        arr = np.ascontiguousarray(images, dtype=np.uint8)
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    path = os.path.join(cache_dir or os.path.join(paths.CACHE, "c2st"), h.hexdigest()[:24] + ".json")
    out = None
    if os.path.isfile(path):
        with open(path) as f:
            out = json.load(f)
        if with_saliency and "saliency" not in out:  # stored without one: computed again, to the same score
            out = None
    if out is None:
        import time

        t0 = time.perf_counter()
        full = c2st(generated, real, cfg, with_saliency=with_saliency)  # both critics on one standardised copy
        out = cnn_part(full) | {"config": asdict(cnn_cfg), "seconds": time.perf_counter() - t0}
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as f:  # written whole, then moved: a stopped run leaves no half file
            json.dump(out | ({"saliency": out["saliency"].tolist()} if with_saliency else {}), f)
        os.replace(path + ".tmp", path)
        return full | {"seconds": out["seconds"]}
    if with_saliency:
        out["saliency"] = np.asarray(out["saliency"], dtype=np.float32)
    else:  # stored by a call that asked for it (bench/diagnose.py): not part of a plain score's result
        out.pop("saliency", None)
    if not cfg.pixel:
        return out
    fake_u8, real_u8, halves = prepare(generated, real, torch.Generator().manual_seed(cfg.seed))
    return with_pixel_critic(out, fake_u8, real_u8, halves, cfg)


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of uint8 images by sigma pixels (for calibration: how visible is a little blur?)."""
    from PIL import Image, ImageFilter

    return np.stack([np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(sigma))) for img in images])


def add_noise(images: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """Additive Gaussian pixel noise of `std` (in 0..255 units), clipped (for calibration)."""
    rng = np.random.default_rng(seed)
    return np.clip(images.astype(np.float32) + rng.normal(0, std, images.shape), 0, 255).round().astype(np.uint8)


def jpeg(images: np.ndarray, quality: int) -> np.ndarray:
    """Square uint8 images [N, S, S, 3] saved as JPEG at `quality` and read back, size kept (for calibration)."""
    return standardise(images, size=images.shape[1], quality=quality)


def colour_shift(images: np.ndarray, amount: int) -> np.ndarray:
    """+amount on red, −amount on blue (0..255 units), clipped: a colour cast (for calibration)."""
    return np.clip(images.astype(np.int16) + np.array([amount, 0, -amount], dtype=np.int16), 0, 255).astype(np.uint8)
