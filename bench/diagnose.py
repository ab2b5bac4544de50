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
Writes bench/results/diagnose.{md,json} and docs/diagnose_spectrum.png (with --checkpoints: diagnose-NAMES.*).
Generated images and every score are cached in the lab cache (ANIME_LAB_CACHE): a stopped run resumes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from evaluation.two_sample import C2STConfig, blur, c2st_cached
from lab import memory, paths
from lab.data import real_faces
from lab.pipeline import cached_images
from lab.registry import Registry

SIGMA = 1.5  # the blur that splits a 64 px face into its layout (below) and its detail (above)


def detail(images: np.ndarray) -> np.ndarray:
    """The image minus its σ 1.5 px blur, centred on grey: what the blur removes."""
    high = images.astype(np.float32) - blur(images, SIGMA).astype(np.float32)
    return np.clip(high * 2 + 128, 0, 255).round().astype(np.uint8)


def grey(images: np.ndarray) -> np.ndarray:
    y = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(y[..., None], 3, axis=-1).round().astype(np.uint8)


VIEWS = {"as is": lambda x: x, f"layout only (blur σ {SIGMA} px)": lambda x: blur(x, SIGMA),
         "detail only (image − blur)": detail, "grey (no colour)": grey}
VIEW_KEYS = dict(zip(("as-is", "layout", "detail", "grey"), VIEWS))  # --views' names for them


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


def generated(registry: Registry, name: str, n: int, first_seed: int = 0) -> np.ndarray:
    return cached_images(registry.model(name), name, n, first_seed)


def critics(scores: dict | None) -> str:
    """A view's two critics' scores, for the table: " (CNN 0.981, pixel 0.843)"."""
    return f" (CNN {scores['cnn']:.3f}, pixel {scores['pixel']:.3f})" if scores else ""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="images per set")
    p.add_argument("--folder", default=paths.CHECKPOINTS, help="where the checkpoint folders are")
    p.add_argument("--checkpoints", default="", help="comma-separated names (default: every one in --folder)")
    p.add_argument("--out", default=os.path.join(paths.ROOT, "bench", "results"))
    p.add_argument("--real-control", action=argparse.BooleanOptionalAction, default=True,
                   help="score training faces against the held-out ones too, in every view (should read 0.5)")
    p.add_argument("--views", default=",".join(VIEW_KEYS),
                   help=f"which views to score, comma-separated, of {', '.join(VIEW_KEYS)} (default: all)")
    p.add_argument("--maps-only", action="store_true",
                   help="only the per-pixel detail maps (seconds, no critic): docs/diagnose_detail_map.png")
    args = p.parse_args()
    wanted = [v for v in args.views.split(",") if v]
    if not wanted or set(wanted) - set(VIEW_KEYS):
        p.error(f"--views takes {', '.join(VIEW_KEYS)}, comma-separated; got {args.views!r}")
    views = {VIEW_KEYS[k]: VIEWS[VIEW_KEYS[k]] for k in VIEW_KEYS if k in wanted}
    memory.keep_large_blocks()  # batch activations stay on the heap (lab/memory.py)
    held, train = real_faces("heldout"), real_faces("train")
    registry = Registry(args.folder)
    names = [n for n in args.checkpoints.split(",") if n] or registry.names()
    maps = {"real (held-out)": held} | {name: generated(registry, name, args.n) for name in names}
    map_stats = plot_detail_maps(maps, os.path.join(paths.ROOT, "docs", "diagnose_detail_map.png"))
    for name, st in map_stats.items():
        print(f"{name}: detail energy {st['detail energy']:.1f}, period-2 grid {st['grid strength (period 2)']:.3f}")
    if args.maps_only:
        return 0
    rng = np.random.default_rng(0)
    sets = {"real (training faces)": train[rng.choice(len(train), args.n, replace=False)]} if args.real_control else {}
    for name in names:
        t0 = time.perf_counter()
        sets[name] = generated(registry, name, args.n)
        print(f"{name}: {len(sets[name])} images in {time.perf_counter() - t0:.0f} s", flush=True)
    real_stats = {"sharpness": sharpness(held), "saturation": saturation(held), "diversity": diversity(held),
                  "nearest training face": nearest_training_face(held, train)}
    rows, spectra, saliencies = [], {"real (held-out)": spectrum(held)}, {}
    for name, images in sets.items():
        row = {"set": name}
        for view, make in views.items():
            t0 = time.perf_counter()
            result = c2st_cached(make(images), make(held), C2STConfig(seed=0), with_saliency=view == "as is")
            print(f"  {name}, {view}: {result['score']:.3f} (folds {', '.join(f'{f:.3f}' for f in result['folds'])}; "
                  f"{time.perf_counter() - t0:.0f} s)", flush=True)
            row[view] = result["score"]
            if "pixel" in result:  # both critics' scores: which of them sees the view's cue
                row[view + " critics"] = {"cnn": result["cnn"]["score"], "pixel": result["pixel"]["score"]}
            if "saliency" in result:
                saliencies[name] = result["saliency"]
        stats = {"sharpness": sharpness(images), "saturation": saturation(images), "diversity": diversity(images),
                 "nearest training face": nearest_training_face(images, train)}
        row.update({k: v / real_stats[k] for k, v in stats.items()})
        spectra[name] = spectrum(images)
        rows.append(row)
        print(" · ".join(f"{k}: {v:.3f}" if isinstance(v, float) else str(v) for k, v in row.items()), flush=True)

    os.makedirs(args.out, exist_ok=True)
    keys = list(views) + list(real_stats)
    md = ["Two-sample score by view (0.5 = like real; the better of the CNN and the pixel-statistics critic, both in "
          "brackets) · statistics relative to the held-out real faces (1 = same)",
          "", "| set | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    md += ["| " + r["set"] + " | " + " | ".join("—" if r["set"].startswith("real") and k == "nearest training face"
                                                else f"{r[k]:.3f}" + critics(r.get(k + " critics")) for k in keys)
           + " |" for r in rows]
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
    plot_saliency(saliencies, os.path.join(paths.ROOT, "docs", "diagnose_saliency.png") if not suffix
                  else os.path.join(args.out, f"diagnose{suffix}_saliency.png"))
    return 0


def detail_map(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the fine detail sits, per pixel position: the mean over images of (grey image − its σ 1 px blur)²
    [H, W], and the mean 2-D power spectrum of that detail (centred). A generator that leaves a trace at fixed
    positions (upsampling's checkerboard, texture stuck to the pixel grid) shows it here: a face's detail
    moves with the face, a generator's grid does not."""
    from evaluation.two_sample import standardise

    x = standardise(images)
    d = x.astype(np.float32).mean(-1) - blur(x, 1.0).astype(np.float32).mean(-1)
    return (d ** 2).mean(0), np.fft.fftshift((np.abs(np.fft.fft2(d)) ** 2).mean(0))


def grid_strength(energy: np.ndarray, period: int = 2) -> float:
    """How strongly the detail map repeats with `period` pixels along x (the checkerboard of a 2x upsampling):
    its Fourier amplitude there relative to its total variation about the mean."""
    e = energy - energy.mean()
    return float(np.abs(np.fft.fft2(e))[0, e.shape[1] // period] / (np.abs(e).sum() + 1e-12))


def plot_detail_maps(sets: dict[str, np.ndarray], path: str) -> dict[str, dict]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(sets), figsize=(3 * len(sets), 6.2), dpi=100, squeeze=False)
    stats = {}
    for k, (name, images) in enumerate(sets.items()):
        energy, spec = detail_map(images)
        stats[name] = {"detail energy": float(energy.mean()), "grid strength (period 2)": grid_strength(energy)}
        axes[0, k].imshow(energy, cmap="magma")
        axes[0, k].set_title(f"{name}\nmean detail² per pixel (period-2 grid {stats[name]['grid strength (period 2)']:.3f})",
                             fontsize=8)
        axes[1, k].imshow(np.log10(spec + 1e-9), cmap="viridis")
        axes[1, k].set_title("mean 2-D power spectrum of the detail", fontsize=8)
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return stats


def plot_saliency(maps: dict[str, np.ndarray], path: str) -> None:
    """Per set: where the critic looks (mean |∂ logit / ∂ pixel| over the held-out generated images) and the
    2-D power spectrum of that map (a periodic pattern in the pixels it uses shows as bright off-centre points)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(maps), figsize=(2.6 * len(maps), 5.4), dpi=110, squeeze=False)
    for k, (name, m) in enumerate(maps.items()):
        axes[0, k].imshow(m / m.max(), cmap="magma")
        axes[0, k].set_title(name, fontsize=8)
        power = np.abs(np.fft.fftshift(np.fft.fft2(m - m.mean()))) ** 2
        axes[1, k].imshow(np.log10(power + 1e-12 * power.max()), cmap="viridis")
        axes[1, k].set_title("its spectrum (centre = 0)", fontsize=8)
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("What the converged critic looks at: mean |∂ logit / ∂ pixel| over generated faces", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


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
