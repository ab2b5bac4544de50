"""The playground's shipped models: one per built-in data set and the word "NTU", trained at the tab's defaults
(cosine, T 100, width 128, lab.playground's recipe: 1500 steps of batch 1024 at lr 5e-3, seed 0) and written to checkpoints/playground/NAME.safetensors with their
losses, training time and fit in the file's metadata.

    python bench/playground_models.py            # about a minute on 2 cores
"""
from __future__ import annotations

import json
import os
import time

from demo.playground import DATA_POINTS, SHIPPED, SHIPPED_WORD, TRAIN_STEPS, slug, word_font
from lab import playground as pg


def main() -> int:
    for data in pg.DATASETS:
        word = SHIPPED_WORD
        font = word_font(word) if data == "word" else None
        cloud = pg.points(data, DATA_POINTS, 0, word, font)
        model = pg.PointModel(pg.PointConfig())
        t0 = time.perf_counter()
        losses = pg.train(model, cloud, steps=TRAIN_STEPS, seed=0)
        seconds = time.perf_counter() - t0
        reference = pg.points(data, 1000, 1, word, font)
        fit = pg.sliced_wasserstein(pg.sample_paths(model, "dpm-solver", 20, 0.0, 1000, 0)[-1], reference)
        floor = pg.sliced_wasserstein(pg.points(data, 1000, 2, word, font), reference)
        extra = {"data": data, "word": word if data == "word" else None, "steps": TRAIN_STEPS, "batch": pg.TRAIN_BATCH, "lr": pg.TRAIN_LR, "seconds": seconds,
                 "losses": losses, "fit_dpm_solver_20": fit, "fit_data_vs_data": floor}
        pg.save(model, os.path.join(SHIPPED, slug(data, word) + ".safetensors"), extra)
        print(json.dumps({k: v for k, v in extra.items() if k != "losses"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
