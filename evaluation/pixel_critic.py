"""The two-sample test's second critic: logistic regression over an image's pixel statistics.

A CNN critic finds a faint global cue (a colour cast of 4/255, a quarter pixel of blur, a little noise) in some
runs and not in others: its training fits the faces first, and whether it finds the cue before it has fitted them
is a lottery of its init (docs/critic_convergence.md). A cast or a grain level is a property of an image's pixel
statistics, so this critic sees only those: per-channel value histograms (with every level near black and white
on its own, where a cast clips), histograms of the channel differences, of the fine grain (image − 3x3 binomial
blur), of the grain where the picture is flattest (noise shows there, where real faces are smooth), of the
grain's local energy, of the grain against the gradient on the steepest edges (their sharpness), and the grain's
energy at each position modulo the JPEG block. Its training is convex (L-BFGS to a unique
optimum, the L2 penalty chosen on an inner validation split of the training half), so it has no lottery: it finds
such a cue whenever the statistics carry it, in every fold and run. It sees no layout, which the CNN does.

`resolution` is this critic's "width": 2 doubles every histogram's bins and the grain's positions (modulo 16).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

PENALTIES = tuple(10 ** (k / 2) for k in range(-10, 3))  # L2 penalties tried, 1e-5 … 10 in half decades
# which features: 1 (2026-12-06) the value, difference and grain histograms and the grain per block position; 2 adds
# the grain's local energy, the grain where the image is flattest and the edges' sharpness. A score stored with
# another set is computed again (bench/critic_study.py, bench/quality.py --add-pixel)
FEATURE_SET = 2
FLAT_FRACTION = 0.1  # the flattest tenth of an image's pixels (lowest local grain energy)
INNER_FOLDS = 5  # the penalty is the one with the lowest validation loss over a 5-fold split of the training half


def _histograms(values: np.ndarray, bins: int, lo: float, hi: float, clip: bool = True) -> np.ndarray:
    """Per-row histograms of `values` [N, M] in `bins` equal bins over [lo, hi), as fractions of M; values outside
    fall in the end bins (clip) or are left out."""
    idx = ((values - lo) * (bins / (hi - lo))).astype(np.int64)
    inside = ((values >= lo) & (values < hi)).ravel()
    rows = np.repeat(np.arange(len(values)), values.shape[1])
    counts = np.bincount(rows * bins + np.clip(idx, 0, bins - 1).ravel(), weights=None if clip else inside,
                         minlength=len(values) * bins).reshape(len(values), bins)
    return counts.astype(np.float64) / values.shape[1]


def _box_mean(a: np.ndarray, k: int) -> np.ndarray:
    """Mean of [N, H, W] over each k x k window (k odd, edges repeated), same size."""
    p = k // 2
    c = np.pad(np.pad(a, ((0, 0), (p, p), (p, p)), mode="edge").cumsum(1).cumsum(2), ((0, 0), (1, 0), (1, 0)))
    h, w = a.shape[1:]
    return (c[:, k:k + h, k:k + w] - c[:, :h, k:k + w] - c[:, k:k + h, :w] + c[:, :h, :w]) / (k * k)


def pixel_features(images: np.ndarray, resolution: int = 1) -> np.ndarray:
    """uint8 [N, H, W, 3] images (H, W multiples of 16) → float64 [N, D] pixel statistics (D = 705 at
    resolution 1, 1537 at 2)."""
    if resolution < 1:
        raise ValueError(f"resolution must be 1 or more, got {resolution}")
    x = np.asarray(images, dtype=np.float64)
    n, h, w, _ = x.shape
    out = []
    ends = 8 * resolution  # the darkest and brightest levels one by one: a cast clips there
    for c in range(3):
        v = x[..., c].reshape(n, -1)
        out += [_histograms(v, 32 * resolution, 0, 256), _histograms(v, ends, 0, ends, clip=False),
                _histograms(v, ends, 256 - ends, 256, clip=False)]
    for a, b in ((0, 2), (0, 1), (1, 2)):
        out.append(_histograms((x[..., a] - x[..., b]).reshape(n, -1), 64 * resolution, -256, 256))
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    k = (1.0, 2.0, 1.0)
    grain = x - sum(k[i] * k[j] * padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)) / 16
    for c in range(3):
        out.append(_histograms(grain[..., c].reshape(n, -1), 40 * resolution, -20, 20))
    # the grain's local energy (5x5 mean of its square, over colour), and the grain in the flattest tenth of each
    # image: a faint noise lifts the floor of both, which the whole image's histograms dilute in the faces' edges
    grain_energy = (grain * grain).sum(-1)
    local = _box_mean(grain_energy, 5)
    out.append(_histograms(np.log(local.reshape(n, -1) + 1e-3), 32 * resolution, np.log(1e-3), np.log(1e3)))
    flat = local <= np.quantile(local.reshape(n, -1), FLAT_FRACTION, axis=1)[:, None, None]
    for c in range(3):
        values = np.where(flat, grain[..., c], 1e6).reshape(n, -1)  # 1e6: outside every bin, left out
        out.append(_histograms(values, 40 * resolution, -5, 5, clip=False) / FLAT_FRACTION)
    # an edge's sharpness: the grain's energy against the gradient's on the steepest tenth of each image (a blur
    # lowers the first more than the second)
    dx, dy = padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2], padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1]
    gradient = ((dx * dx + dy * dy) / 4).sum(-1)  # central differences, over colour
    steep = gradient >= np.quantile(gradient.reshape(n, -1), 1 - FLAT_FRACTION, axis=1)[:, None, None]
    ratio = np.where(steep, np.log((grain_energy + 1e-3) / (gradient + 1e-3)), 1e6).reshape(n, -1)
    out.append(_histograms(ratio, 32 * resolution, -8, 2, clip=False) / FLAT_FRACTION)
    energy = np.abs(grain).mean(-1)
    p = 8 * resolution  # the grain's energy at each position in the (JPEG) block
    out.append(energy.reshape(n, h // p, p, w // p, p).mean(axis=(1, 3)).reshape(n, p * p))
    out.append(np.log1p(energy.reshape(n, -1).mean(1, keepdims=True)))
    return np.concatenate(out, 1)


def _fit(x: np.ndarray, y: np.ndarray, penalty: float, max_iter: int,
         start: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-penalised logistic regression by L-BFGS from `start` (else zeros): weights and bias. The loss is convex,
    so where it starts changes only how soon it converges."""
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    w = (start[0].clone() if start else torch.zeros(X.shape[1], dtype=torch.float64)).requires_grad_(True)
    b = (start[1].clone() if start else torch.zeros(1, dtype=torch.float64)).requires_grad_(True)
    opt = torch.optim.LBFGS([w, b], max_iter=max_iter, line_search_fn="strong_wolfe", tolerance_grad=1e-9,
                            tolerance_change=1e-12)

    def loss() -> torch.Tensor:
        opt.zero_grad()
        out = F.binary_cross_entropy_with_logits(X @ w + b, Y) + penalty * (w * w).sum()
        out.backward()
        return out

    opt.step(loss)
    return w.detach(), b.detach()


def _accuracy(x: np.ndarray, y: np.ndarray, wb: tuple[torch.Tensor, torch.Tensor]) -> float:
    return float(((torch.from_numpy(x) @ wb[0] + wb[1] > 0).double() == torch.from_numpy(y)).double().mean())


def _val_loss(x: np.ndarray, y: np.ndarray, wb: tuple[torch.Tensor, torch.Tensor]) -> float:
    return float(F.binary_cross_entropy_with_logits(torch.from_numpy(x) @ wb[0] + wb[1], torch.from_numpy(y)))


def _choose_penalty(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, max_iter: int) -> float:
    """The L2 penalty with the lowest mean validation loss over an inner k-fold split of (x, y) (the loss moves
    smoothly with the penalty where the accuracy of a few hundred images jumps)."""
    parts = np.array_split(rng.permutation(len(x)), INNER_FOLDS)
    losses = np.zeros(len(PENALTIES))
    for k, val in enumerate(parts):
        fit = np.concatenate([p for j, p in enumerate(parts) if j != k])
        wb = None
        for i in reversed(range(len(PENALTIES))):  # strongest penalty first, each fit starting from the last one's
            wb = _fit(x[fit], y[fit], PENALTIES[i], max_iter, wb)
            losses[i] += _val_loss(x[val], y[val], wb)
    return PENALTIES[int(np.argmin(losses))]


def pixel_critic_folds(fake: np.ndarray, real: np.ndarray, halves: list[tuple[slice, slice]], seed: int,
                       resolution: int = 1, max_iter: int = 500) -> dict:
    """Held-out accuracy per fold of the pixel-statistics critic on standardised uint8 sets of equal length,
    trained on each fold's `train` halves and scored on its `test` halves (c2st's own halves). Per fold, the L2
    penalty is chosen by an inner 5-fold split of the training half (drawn from `seed`), and the critic is then
    fitted on the whole training half; the features are standardised by the training half."""
    feats = [pixel_features(s, resolution) for s in (fake, real)]
    rng = np.random.default_rng(seed)
    folds, penalties = [], []
    for train, test in halves:
        x_train = np.concatenate([f[train] for f in feats])
        x_test = np.concatenate([f[test] for f in feats])
        y_train = np.r_[np.zeros(len(feats[0][train])), np.ones(len(feats[1][train]))]
        y_test = np.r_[np.zeros(len(feats[0][test])), np.ones(len(feats[1][test]))]
        mean, std = x_train.mean(0), x_train.std(0) + 1e-9
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
        chosen = _choose_penalty(x_train, y_train, rng, max_iter)
        folds.append(_accuracy(x_test, y_test, _fit(x_train, y_train, chosen, max_iter)))
        penalties.append(chosen)
    return {"score": float(np.mean(folds)), "folds": folds, "penalties": penalties, "resolution": resolution,
            "max_iter": max_iter, "feature_set": FEATURE_SET}


def is_current(pixel: dict) -> bool:
    """Whether a stored pixel critic's result was computed with today's features (results from before the field
    existed are feature set 1)."""
    return pixel.get("feature_set", 1) == FEATURE_SET
