"""The 2-D playground's targets, measured: live training at the tab's defaults (seconds, and its fit against the
shipped model's), and a class of visitors each training once against one app in public mode.

    python bench/playground.py                     # training at the defaults, every built-in set (about 1 min)
    python bench/playground.py --visitors 30       # + 30 concurrent visitors each training once (minutes)
    python bench/playground.py --seeds 4 --batch 256   # the recipe's spread over training seeds, at another batch

The time to the default view in a browser: `python bench/first_image.py --tab playground`.
"""
from __future__ import annotations

import argparse
import os
import random
import threading
import time

import torch

from demo import playground as tab
from demo.serve import start_app
from lab import playground as pg

def fit(model: pg.PointModel, reference) -> float:
    """The sliced Wasserstein distance of DPM-Solver++ 20 to another draw of the data, over 3 draws of 2000 points
    (less noise than one)."""
    return sum(pg.sliced_wasserstein(pg.sample_paths(model, "dpm-solver", 20, 0.0, 2000, s)[-1], reference, 256)
               for s in range(3)) / 3


def training(data: str, seeds: list[int], batch: int) -> tuple[list[float], list[float], float]:
    """(seconds to train at the defaults, its fit) per training seed, and the shipped model's fit."""
    font = tab.word_font(tab.SHIPPED_WORD) if data == "word" else None
    cloud = pg.points(data, tab.DATA_POINTS, 0, tab.SHIPPED_WORD, font)
    reference = pg.points(data, 2000, 1, tab.SHIPPED_WORD, font)
    seconds, fits = [], []
    for seed in seeds:
        model = pg.PointModel(pg.PointConfig(), seed=seed)
        t0 = time.perf_counter()
        pg.train(model, cloud, batch=batch, seed=seed)
        seconds.append(time.perf_counter() - t0)
        fits.append(fit(model, reference))
    shipped, _ = pg.load(os.path.join(tab.SHIPPED, tab.slug(data, tab.SHIPPED_WORD) + ".safetensors"))
    return seconds, fits, fit(shipped, reference)


def visitors(n: int) -> None:
    from gradio_client import Client

    app, url = start_app("--public")
    try:
        errors, times, lock = [], [], threading.Lock()

        def visit(i: int) -> None:
            data = random.Random(i).choice(pg.DATASETS[:-1])
            t0 = time.perf_counter()
            try:
                Client(url, verbose=False).predict(data, "NTU", "cosine", 100, 128, "DDIM", 20, 0.0, 30, i, 500, True,
                                                   api_name="/playground")
                with lock:
                    times.append(time.perf_counter() - t0)
            except Exception as e:  # noqa: BLE001 (every failure is counted and shown)
                with lock:
                    errors.append(f"visitor {i}: {type(e).__name__}: {e}")

        t0 = time.perf_counter()
        threads = [threading.Thread(target=visit, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"{n} visitors each training once (public mode): {len(times)} served, {len(errors)} errors, the last "
              f"after {time.perf_counter() - t0:.0f} s; median wait {sorted(times)[len(times) // 2]:.0f} s"
              if times else f"{n} visitors: none served")
        for e in errors[:5]:
            print(e)
    finally:
        app.terminate()
        app.wait(timeout=30)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--visitors", type=int, default=0)
    p.add_argument("--seeds", type=int, default=1, help="training seeds 7, 8, ... (the shipped models used seed 0)")
    p.add_argument("--batch", type=int, default=pg.TRAIN_BATCH)
    args = p.parse_args()
    print(f"recipe: {pg.TRAIN_STEPS} steps of batch {args.batch} at lr {pg.TRAIN_LR}; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    for data in pg.DATASETS:
        seconds, fits, shipped = training(data, list(range(7, 7 + args.seeds)), args.batch)
        spread = (max(fits) - min(fits)) / (sum(fits) / len(fits))
        print(f"{data}: trained in {', '.join(f'{s:.1f}' for s in seconds)} s; fit "
              f"{', '.join(f'{f:.4f} ({100 * (f / shipped - 1):+.0f} %)' for f in fits)} vs the shipped model's "
              f"{shipped:.4f}" + (f"; spread over seeds {100 * spread:.0f} %" if len(fits) > 1 else ""), flush=True)
    if args.visitors:
        visitors(args.visitors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
