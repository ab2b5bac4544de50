"""The 2-D playground's targets, measured: live training at the tab's defaults (seconds, and its fit against the
shipped model's), and a class of visitors each training once against one app in public mode.

    python bench/playground.py                     # training at the defaults, every built-in set (about 1 min)
    python bench/playground.py --visitors 30       # + 30 concurrent visitors each training once (minutes)

The time to the default view in a browser: `python bench/first_image.py --tab playground`.
"""
from __future__ import annotations

import argparse
import os
import random
import threading
import time

from demo import playground as tab
from demo.serve import start_app
from lab import playground as pg

def training(data: str) -> tuple[float, float, float]:
    """(seconds to train at the defaults, its fit, the shipped model's fit): the sliced Wasserstein distance of
    DPM-Solver++ 20 to another draw of the data, over 3 draws of 2000 points."""
    font = tab.word_font(tab.SHIPPED_WORD) if data == "word" else None
    cloud = pg.points(data, tab.DATA_POINTS, 0, tab.SHIPPED_WORD, font)
    model = pg.PointModel(pg.PointConfig(), seed=7)
    t0 = time.perf_counter()
    pg.train(model, cloud, steps=tab.TRAIN_STEPS, seed=7)  # another seed than the shipped model's
    seconds = time.perf_counter() - t0
    reference = pg.points(data, 2000, 1, tab.SHIPPED_WORD, font)
    shipped, _ = pg.load(os.path.join(tab.SHIPPED, tab.slug(data, tab.SHIPPED_WORD) + ".safetensors"))
    fit = [sum(pg.sliced_wasserstein(pg.sample_paths(m, "dpm-solver", 20, 0.0, 2000, s)[-1], reference, 256)
               for s in range(3)) / 3 for m in (model, shipped)]  # 3 draws of 2000 points: less noise than one
    return seconds, fit[0], fit[1]


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
    args = p.parse_args()
    for data in pg.DATASETS:
        seconds, fit, shipped = training(data)
        print(f"{data}: trained in {seconds:.1f} s; fit {fit:.4f} vs the shipped model's {shipped:.4f} "
              f"({100 * (fit / shipped - 1):+.0f} %)", flush=True)
    if args.visitors:
        visitors(args.visitors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
