"""Quality checks for a checkpoint: lbpcascade face rate on N generated images (beside real faces and
pure noise), the classifier two-sample score of those images against the held-out real faces
(evaluation/two_sample.py; 0.5 = indistinguishable), nearest training neighbours in pixel space (are samples
copies?), and variety.

    python bench/checkpoint_report.py --checkpoint checkpoints/anime-64 --n 1000 --out checkpoints/anime-64/report

Writes grid.png (first 64 samples), nearest.png (samples over their nearest training images),
report.json, and prints a markdown summary.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from lab.checkpoint import load_checkpoint
from lab import memory, paths
from lab.data import load_images
from evaluation.detect import LbpCascadeDetector
from evaluation import face_features
from evaluation.two_sample import C2STConfig, c2st
from lab.pipeline import generate_batches


def save_grid(images: np.ndarray, path: str, nrow: int = 8) -> None:
    from torchvision.utils import save_image

    save_image(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255, path, nrow=nrow, padding=2)


def nearest(queries: np.ndarray, pool: np.ndarray, exclude: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Per query: index and RMS pixel distance (0..255 scale) of its nearest image in pool; exclude[i] is a pool
    index query i may not match (itself, when the queries come from the pool). Self is left out by index, not
    by a zero distance: cdist's fast matrix-product path puts an image a few tenths from itself."""
    q = torch.from_numpy(queries.reshape(len(queries), -1)).float()
    best_d = torch.full((len(q),), float("inf"))
    best_i = torch.zeros(len(q), dtype=torch.long)
    for start in range(0, len(pool), 4096):
        p = torch.from_numpy(pool[start:start + 4096].reshape(-1, q.shape[1])).float()
        d = torch.cdist(q, p)
        if exclude is not None:
            rows = np.flatnonzero((exclude >= start) & (exclude < start + len(p)))
            d[rows, exclude[rows] - start] = float("inf")
        m, i = d.min(dim=1)
        better = m < best_d
        best_d[better], best_i[better] = m[better], i[better] + start
    return best_i.numpy(), (best_d / np.sqrt(q.shape[1])).numpy()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="checkpoints/anime-64")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--sampler", default="dpm-solver")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--two-sample-n", type=int, default=2000,
                   help="generated images (seeds 0 … N-1) for the two-sample test, as bench/quality.py's seed 0")
    p.add_argument("--critic", choices=("full", "quick"), default="full",
                   help="the two-sample critic: full (converged, minutes) or quick (seconds, smoke runs only)")
    p.add_argument("--data", default=paths.FACES)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    memory.keep_large_blocks()  # batch activations stay on the heap (lab/memory.py)
    out = args.out or os.path.join(args.checkpoint, paths.REPORT)
    os.makedirs(out, exist_ok=True)
    model = load_checkpoint(args.checkpoint)
    t0 = time.perf_counter()
    gen = np.concatenate([imgs for _, imgs in generate_batches(model, list(range(args.n)), args.sampler, args.steps,
                                                               0.0, args.batch_size)])
    seconds = time.perf_counter() - t0
    extra = list(range(args.n, args.two_sample_n))  # the two-sample test wants more images than the rest
    more = [imgs for _, imgs in generate_batches(model, extra, args.sampler, args.steps, 0.0, args.batch_size)]
    two_sample_images = np.concatenate([gen, *more])
    detector = LbpCascadeDetector()
    train = load_images(args.data, model.image_size, log=None).permute(0, 2, 3, 1).numpy()
    rng = np.random.default_rng(0)
    real_idx = rng.choice(len(train), args.n, replace=False)
    real = train[real_idx]
    noise = rng.integers(0, 256, (args.n, *gen.shape[1:]), dtype=np.uint8)
    rates = {"generated": detector.face_rate(gen), "real": detector.face_rate(real), "noise": detector.face_rate(noise)}

    held = load_images(args.data, model.image_size, log=None, split="heldout").permute(0, 2, 3, 1).numpy()
    two_sample = c2st(two_sample_images[:args.two_sample_n], held,
                      C2STConfig.quick() if args.critic == "quick" else C2STConfig(seed=0))
    try:  # FFD against the held-out statistics the encoder ships with
        ffd = {"value": face_features.ffd(two_sample_images[:args.two_sample_n],
                                          face_features.load_face_features(paths.FACE_ENCODER)),
               "n": len(two_sample_images[:args.two_sample_n])}
    except ValueError as e:
        ffd = {"value": None, "missing": str(e)}

    k = 64
    idx, dist = nearest(gen[:k], train)
    _, real_dist = nearest(real[:k], train, exclude=real_idx[:k])
    pairs = np.stack([gen[:16], train[idx[:16]]], axis=1).reshape(-1, *gen.shape[1:])  # sample above its neighbour
    save_grid(np.concatenate([pairs[0::2], pairs[1::2]]), os.path.join(out, "nearest.png"), nrow=16)
    save_grid(gen[:64], os.path.join(out, "grid.png"))

    def spread(x):  # mean RMS distance between random pairs
        a, b = x[rng.integers(0, len(x), 2000)].astype(np.float32), x[rng.integers(0, len(x), 2000)].astype(np.float32)
        return float(np.sqrt(((a - b) ** 2).mean(axis=(1, 2, 3))).mean())

    how = "one StyleGAN pass (psi 1)" if not model.has_steps else f"{args.sampler} {args.steps} steps"
    report = {"checkpoint": args.checkpoint, "model": model.kind, "steps_trained": model.config.get("steps_trained"),
              "n": args.n, "sampling": how, "seconds": seconds, "lbpcascade_face_rate": rates,
              "two_sample": {"score": two_sample["score"], "n_per_set": two_sample["n_per_set"],
                             "real": "held-out split", "critic_seed": 0, "critic": args.critic},
              "ffd": ffd,
              "nn_rms_generated_to_train_median": float(np.median(dist)),
              "nn_rms_real_to_other_train_median": float(np.median(real_dist)),
              "nn_rms_generated_min": float(dist.min()),
              "pairwise_rms_generated": spread(gen), "pairwise_rms_real": spread(real)}
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(f"| checkpoint | {args.checkpoint} ({report['steps_trained']} steps) |\n|---|---|")
    print(f"| sampling | {args.n} images, {how}, batch {args.batch_size}: {seconds:.1f} s |")
    print(f"| lbpcascade face rate | generated {rates['generated']:.3f}, real {rates['real']:.3f}, "
          f"noise {rates['noise']:.3f} |")
    print(f"| two-sample score, {two_sample['n_per_set']} generated vs {two_sample['n_per_set']} held-out real faces "
          f"(0.5 = indistinguishable) | {two_sample['score']:.3f} |")
    print(f"| FFD, {ffd.get('n', 0)} generated vs the held-out statistics (lower is better) | "
          + (f"{ffd['value']:.3f} |" if ffd["value"] is not None else f"n/a: {ffd['missing']} |"))
    print(f"| nearest training image, RMS pixel distance (median of {k}) | generated {np.median(dist):.1f}, "
          f"real faces to other training faces {np.median(real_dist):.1f}; closest generated {dist.min():.1f} |")
    print(f"| variety: RMS distance between random pairs | generated {report['pairwise_rms_generated']:.1f}, "
          f"real {report['pairwise_rms_real']:.1f} |")


if __name__ == "__main__":
    main()
