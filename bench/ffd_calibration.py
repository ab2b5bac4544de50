"""FFD (evaluation/face_features.py) calibrated: real faces, the same faces degraded, and every checkpoint, each
over 3 seeds, against the held-out faces' shipped statistics.

    python bench/ffd_calibration.py                      # about 15 min on 2 cores (generation cached)
    python bench/ffd_calibration.py --checkpoints anime-64 --skip-calibration

Real: 2000 training faces (a different random sample per seed; the encoder trained on these faces, never on
the held-out ones). Degraded: those faces blurred (σ 0.5, 1 px), noised (σ 4, 8 of 255), patch-shuffled (each
face cut into 4x4 tiles of 16 px, shuffled: every part is there, the face is not), colour-shifted (+12 red,
−12 blue of 255), resized 96 → 64 px with a box filter instead of bicubic. Checkpoints: generate.py's defaults
from seeds 100000·s + 0 … n−1, as bench/quality.py draws them (cached by lab.pipeline.cached_images).
Also measures the references the app's "grade my submission" shows (at 1000 images: FFD reads higher at
small n) and stores them in the encoder's config.json. Writes bench/results/ffd.{md,json}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from evaluation.face_features import CONFIG_NAME, ffd, load_face_features
from evaluation.two_sample import add_noise, blur, colour_shift
from lab import memory, paths
from lab.data import sample_faces
from lab.pipeline import cached_images


def patch_shuffled(images: np.ndarray, seed: int, tile: int = 16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, h, w, c = images.shape
    k = h // tile
    tiles = images.reshape(n, k, tile, k, tile, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, k * k, tile, tile, c)
    tiles = np.stack([t[rng.permutation(k * k)] for t in tiles])
    return tiles.reshape(n, k, k, tile, tile, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h, w, c)


def training_faces(n: int, seed: int, box: bool = False) -> np.ndarray:
    return sample_faces(paths.FACES, "train", n, seed, resample="box" if box else "bicubic")


DEGRADED = {"blur σ 0.5 px": lambda x, s: blur(x, 0.5), "blur σ 1 px": lambda x, s: blur(x, 1.0),
            "noise σ 4/255": lambda x, s: add_noise(x, 4, s), "noise σ 8/255": lambda x, s: add_noise(x, 8, s),
            "patch-shuffled (4x4 tiles)": patch_shuffled, "colour shift (+12 R, −12 B)": lambda x, s: colour_shift(x, 12)}


def row(name: str, values: list[float]) -> dict:
    return {"set": name, "values": values, "mean": float(np.mean(values)),
            "spread": float(np.max(values) - np.min(values))}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--checkpoints", default="", help="comma-separated names (default: every one)")
    p.add_argument("--skip-calibration", action="store_true")
    p.add_argument("--encoder", default=paths.FACE_ENCODER)
    p.add_argument("--out", default=os.path.join(paths.ROOT, "bench", "results"))
    args = p.parse_args()
    memory.keep_large_blocks()  # batch activations stay on the heap (lab/memory.py)
    if not os.path.isdir(paths.FACES):
        sys.exit(f"no real faces at {paths.FACES}: set ANIME_FACES_DIR")
    model = load_face_features(args.encoder)
    from lab.registry import Registry

    registry = Registry()
    names = [n for n in args.checkpoints.split(",") if n] or registry.names()
    rows = []
    t0 = time.perf_counter()
    if not args.skip_calibration:
        real = [training_faces(args.n, s) for s in range(args.seeds)]
        rows.append(row("real training faces", [ffd(x, model) for x in real]))
        for name, make in DEGRADED.items():
            rows.append(row(name, [ffd(make(x, s), model) for s, x in enumerate(real)]))
            print(f"{name}: {rows[-1]['mean']:.3f}", flush=True)
        rows.append(row("box-resized instead of bicubic", [ffd(training_faces(args.n, s, box=True), model)
                                                           for s in range(args.seeds)]))
    sets = {}
    for name in names:
        loaded = registry.model(name)
        sets[name] = [cached_images(loaded, name, args.n, 100_000 * s) for s in range(args.seeds)]
        how = "StyleGAN, ψ 1" if registry.kind_of(name) == "stylegan" else loaded.label(loaded.check(*loaded.default_sampler()))
        rows.append(row(f"{name} ({how})",
                        [ffd(x, model) for x in sets[name]]))
        print(f"{rows[-1]['set']}: {rows[-1]['mean']:.3f} (spread {rows[-1]['spread']:.3f})", flush=True)
        report = os.path.join(registry.folder, name, paths.TWO_SAMPLE)
        # the app's checkpoint picker shows it beside the two-sample score: every checkpoint at the same n (FFD reads
        # lower with more images), so only a run at the default 2000 writes it
        if os.path.isfile(report) and args.n == 2000:
            with open(report) as f:
                data = json.load(f)
            data["ffd"] = {**rows[-1], "n_per_set": args.n, "command": "python bench/ffd_calibration.py"}
            with open(report, "w") as f:
                json.dump(data, f, indent=2)
    if not args.skip_calibration:  # the references "grade my submission" shows, at a HW6 zip's 1000 images
        refs = {"real faces": ffd(training_faces(1000, 0), model),
                "blur σ 0.5 px": ffd(blur(training_faces(1000, 0), 0.5), model)}
        refs |= {name: ffd(x[0][:1000], model) for name, x in sets.items()}
        with open(os.path.join(args.encoder, CONFIG_NAME)) as f:
            config = json.load(f)
        config["references"] = {k: round(v, 3) for k, v in refs.items()}
        config["references_note"] = "FFD at 1000 images (bench/ffd_calibration.py): real = 1000 training faces"
        with open(os.path.join(args.encoder, CONFIG_NAME), "w") as f:
            json.dump(config, f, indent=2)
        print("references at 1000 images:", config["references"])
    md = [f"| images ({args.n} per set) | FFD, mean of {args.seeds} seeds | spread (max − min) | per seed |",
          "|---|---|---|---|"]
    md += [f"| {r['set']} | {r['mean']:.3f} | {r['spread']:.3f} | {', '.join(f'{v:.3f}' for v in r['values'])} |"
           for r in rows]
    text = "\n".join(md)
    print("\n" + text + f"\n\n{(time.perf_counter() - t0) / 60:.1f} min")
    os.makedirs(args.out, exist_ok=True)
    suffix = "" if not args.skip_calibration and not args.checkpoints else "-partial"
    with open(os.path.join(args.out, f"ffd{suffix}.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, f"ffd{suffix}.json"), "w") as f:
        json.dump({"n_per_set": args.n, "seeds": args.seeds, "encoder": model.config, "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
