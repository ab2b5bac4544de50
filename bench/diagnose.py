"""What gives generated faces away: the two-sample test on parts of the picture, and the statistics behind it.

    python bench/diagnose.py                                   # every checkpoint, 2000 images each
    python bench/diagnose.py --checkpoints stylegan-64 --n 1000
    python bench/diagnose.py --folder runs --checkpoints anime-64-v2

The classifier two-sample test (evaluation/two_sample.py) is run against the held-out real faces on four
views of both sets: the images as they are; low frequencies only (both sets blurred by σ 1.5 px: layout,
pose, colour); detail only (each image minus that blur: texture, edges, noise); and grey (no colour). Where a
view still scores near the full score, the cue is in that view. Beside it: sharpness (variance of the
Laplacian), saturation, diversity (mean distance between two images at 16x16) and the distance of each
image to its nearest training face (low = copies), each relative to the real faces; and the power spectrum
of generated over real faces per spatial frequency (below 1 at high frequencies = too smooth).
Writes bench/results/diagnose.{md,json} and docs/diagnose_spectrum.png (with --checkpoints: diagnose-NAMES.*). Generated images are cached in the lab cache (ANIME_LAB_CACHE).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from evaluation.two_sample import C2STConfig, blur, c2st  # noqa: E402
from lab import paths  # noqa: E402
from lab.data import load_images  # noqa: E402
from lab.registry import Registry  # noqa: E402

SIGMA = 1.5  # the blur that splits a 64 px face into its layout (below) and its detail (above)


def faces(split: str) -> np.ndarray:
    return load_images(paths.FACES, 64, log=None, split=split).permute(0, 2, 3, 1).numpy()


def detail(images: np.ndarray) -> np.ndarray:
    """The image minus its σ 1.5 px blur, centred on grey: what the blur removes."""
    high = images.astype(np.float32) - blur(images, SIGMA).astype(np.float32)
    return np.clip(high * 2 + 128, 0, 255).round().astype(np.uint8)


def grey(images: np.ndarray) -> np.ndarray:
    y = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(y[..., None], 3, axis=-1).round().astype(np.uint8)


VIEWS = {"as is": lambda x: x, f"layout only (blur σ {SIGMA} px)": lambda x: blur(x, SIGMA),
         "detail only (image − blur)": detail, "grey (no colour)": grey}


def sharpness(images: np.ndarray) -> float:
    """Mean variance of the 4-neighbour Laplacian of the grey image."""
    y = grey(images)[..., 0].astype(np.float32)
    lap = 4 * y[:, 1:-1, 1:-1] - y[:, :-2, 1:-1] - y[:, 2:, 1:-1] - y[:, 1:-1, :-2] - y[:, 1:-1, 2:]
    return float(lap.var(axis=(1, 2)).mean())


def saturation(images: np.ndarray) -> float:
    x = images.astype(np.float32)
    mx, mn = x.max(-1), x.min(-1)
    return float(np.where(mx > 0, (mx - mn) / np.maximum(mx, 1), 0).mean())


def small(images: np.ndarray, size: int) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return F.interpolate(t, size=(size, size), mode="area").flatten(1).numpy()


def diversity(images: np.ndarray, n: int = 500) -> float:
    """Mean L2 distance between two different images at 16x16."""
    v = small(images[:n], 16)
    d = np.sqrt(np.maximum(((v[:, None] - v[None]) ** 2).sum(-1), 0))
    return float(d[~np.eye(len(v), dtype=bool)].mean())


def nearest_training_face(images: np.ndarray, train: np.ndarray, n: int = 500) -> float:
    """Median distance (32x32) from each image to its nearest training face."""
    a, b = small(images[:n], 32), small(train, 32)
    d2 = (a ** 2).sum(1)[:, None] - 2 * a @ b.T + (b ** 2).sum(1)[None]
    return float(np.median(np.sqrt(np.maximum(d2.min(1), 0))))


def spectrum(images: np.ndarray) -> np.ndarray:
    """Radially averaged power spectrum of the grey images (index = spatial frequency in cycles per image)."""
    y = grey(images)[..., 0].astype(np.float64)
    y -= y.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fftshift(np.fft.fft2(y), axes=(1, 2))) ** 2).mean(0)
    h = power.shape[0]
    yy, xx = np.indices(power.shape)
    r = np.hypot(yy - h // 2, xx - h // 2).round().astype(int)
    return np.bincount(r.ravel(), power.ravel())[: h // 2] / np.bincount(r.ravel())[: h // 2]


def generated(registry: Registry, name: str, n: int) -> np.ndarray:
    """n images at generate.py's defaults (DPM-Solver++ 20; StyleGAN ψ 1) from seeds 0 … n-1, cached."""
    model = registry.model(name)
    cache = os.path.join(paths.CACHE, "diagnose", f"{name}-{model.config.get('steps_trained')}-{n}.npy")
    if os.path.isfile(cache):
        return np.load(cache)
    from lab.pipeline import generate_batches

    images = np.concatenate([b for _, b in generate_batches(model, list(range(n)), "dpm-solver", 20, 0.0, 64)])
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    np.save(cache, images)
    return images


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="images per set")
    p.add_argument("--folder", default=paths.CHECKPOINTS, help="where the checkpoint folders are")
    p.add_argument("--checkpoints", default="", help="comma-separated names (default: every one in --folder)")
    p.add_argument("--out", default=os.path.join(paths.ROOT, "bench", "results"))
    args = p.parse_args()
    if not os.path.isdir(paths.FACES):
        sys.exit(f"no real faces at {paths.FACES}: set ANIME_FACES_DIR")
    held, train = faces("heldout"), faces("train")
    registry = Registry(args.folder)
    names = [n for n in args.checkpoints.split(",") if n] or registry.names()
    rng = np.random.default_rng(0)
    sets = {"real (training faces)": train[rng.choice(len(train), args.n, replace=False)]}
    for name in names:
        t0 = time.perf_counter()
        sets[name] = generated(registry, name, args.n)
        print(f"{name}: {len(sets[name])} images in {time.perf_counter() - t0:.0f} s", flush=True)
    real_stats = {"sharpness": sharpness(held), "saturation": saturation(held), "diversity": diversity(held),
                  "nearest training face": nearest_training_face(held, train)}
    rows, spectra = [], {"real (held-out)": spectrum(held)}
    for name, images in sets.items():
        row = {"set": name}
        for view, make in VIEWS.items():
            row[view] = c2st(make(images), make(held), C2STConfig(seed=0))["score"]
        stats = {"sharpness": sharpness(images), "saturation": saturation(images), "diversity": diversity(images),
                 "nearest training face": nearest_training_face(images, train)}
        row.update({k: v / real_stats[k] for k, v in stats.items()})
        spectra[name] = spectrum(images)
        rows.append(row)
        print(" · ".join(f"{k}: {v:.3f}" if isinstance(v, float) else str(v) for k, v in row.items()), flush=True)

    os.makedirs(args.out, exist_ok=True)
    keys = list(VIEWS) + list(real_stats)
    md = ["Two-sample score by view (0.5 = like real) · statistics relative to the held-out real faces (1 = same)",
          "", "| set | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    md += ["| " + r["set"] + " | " + " | ".join("—" if r["set"].startswith("real") and k == "nearest training face"
                                                else f"{r[k]:.3f}" for k in keys) + " |" for r in rows]
    text = "\n".join(md)
    print("\n" + text)
    suffix = "" if not args.checkpoints else "-" + "-".join(names)
    with open(os.path.join(args.out, f"diagnose{suffix}.md"), "w") as f:
        f.write(text + f"\n\n`python bench/diagnose.py {' '.join(sys.argv[1:])}`, {args.n} images per set.\n")
    with open(os.path.join(args.out, f"diagnose{suffix}.json"), "w") as f:
        json.dump({"n": args.n, "rows": rows, "real": real_stats,
                   "spectra": {k: v.tolist() for k, v in spectra.items()}}, f, indent=1)
    # the full run's plot is the README's (docs/ is what a Space shows beside the README)
    plot_spectra(spectra, os.path.join(paths.ROOT, "docs", "diagnose_spectrum.png") if not suffix
                 else os.path.join(args.out, f"diagnose{suffix}.png"))
    return 0


def plot_spectra(spectra: dict[str, np.ndarray], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real = spectra["real (held-out)"]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    for name, s in spectra.items():
        if name != "real (held-out)":
            ax.plot(np.arange(1, len(s)), s[1:] / real[1:], label=name)
    ax.axhline(1, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("spatial frequency (cycles per 64 px image)")
    ax.set_ylabel("power / power of real faces")
    ax.set_title("Power spectrum against real faces: below 1 = too smooth at that scale", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
