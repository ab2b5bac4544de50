"""Is the two-sample critic converged? Each set is scored by the critic as configured (C2STConfig()), by one
twice as wide, and by one trained twice as long (every epoch count doubled); a converged score moves by at most
0.01. The shipped critic is a CNN and the pixel-statistics critic beside it (evaluation/pixel_critic.py); a cell
stored before that critic existed, or with an older set of its features, gains it on the same halves when the
script meets it (about a minute; `--stored-only` does only that and trains no CNN).

    python bench/critic_study.py                         # every set, three critics: ~30 min of a core per set
    python bench/critic_study.py --sets stylegan-64 --variants base,shift4

Sets (2000 images each, against the held-out real faces): training faces as they are (real vs real), the same
blurred (σ 0.25, 0.5 px), noised (σ 4/255), JPEG q75, colour-shifted (+4 red, -4 blue of 255), resized from
96 px with a box filter instead of bicubic, and each shipped checkpoint at generate.py's defaults (NAME, or "NAME as
96 px JPEG q75": its faces given the real faces' JPEG history first) (seeds
0 … 1999, the generated images cached by lab.pipeline.cached_images). Critics: base (C2STConfig()), wide (2x
width), long (every epoch count doubled), and the same three of each earlier critic: plateau (2026-12-05 evening),
cos60 (today's without the fine grain), min30, min0, nonorm (base without GroupNorm), stats (base whose head also
sees the stem's pooled responses); narrow (half width), shift4 (random 4 px shifts), ens3 (three critics per fold,
their logits averaged), both (a base and a nonorm critic per fold, their logits averaged), stats-rot (stats trained
on quarter turns too), stats-ens3, e12 and e12-cos (12-epoch critics like the issue's independent one). `--seeds 0,1,2` scores each with
several critic seeds (another split into halves and another init each).

Results are kept per (set, variant) in bench/results/critic_study.json, so an interrupted run resumes; the
table goes to docs/critic_convergence.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import numpy as np
import torch

from evaluation.pixel_critic import is_current
from evaluation.two_sample import (NEUTRAL, PIXEL_FIELDS, C2STConfig, add_noise, blur, c2st_cached, colour_shift, jpeg,
                                   prepare, with_pixel_critic)
from lab import memory, paths
from lab.data import faces_hwc, sample_faces

BASE = C2STConfig()  # since 2026-12-06: fine grain beside the picture, 60 epochs of a cosine lr; and (seventh
# session) the pixel-statistics critic beside it
# the critic of 2026-12-05's evening: the picture alone, at least 60 epochs, then stopped on validation plateaus; it
# and the other earlier critics are kept as they were, without the pixel-statistics critic
PLATEAU = dataclasses.replace(BASE, detail=0.0, schedule="plateau", max_epochs=160, val_fraction=0.125, pixel=0)
COS60 = dataclasses.replace(PLATEAU, schedule="cosine", max_epochs=60, val_fraction=0.0)  # BASE without the grain
MIN30 = dataclasses.replace(PLATEAU, ema=0.0, min_epochs=30, max_epochs=80)  # 2026-12-05's first: its last weights
MIN0 = dataclasses.replace(MIN30, min_epochs=0)  # the critic shipped until 2026-12-05: stops on the first plateau
NONORM = dataclasses.replace(BASE, norm="none")  # BASE without GroupNorm, which hides an image's mean and scale
STATS = dataclasses.replace(BASE, stem_stats=True)  # BASE whose head also sees the stem's pooled responses
STATS_ROT = dataclasses.replace(STATS, rotate=True)  # STATS trained on all 8 symmetries of the square
# STATS_ROT for 120 epochs, three critics per fold from their own inits, the one most accurate on a fifth of the
# training half held out judging: at 120 epochs one critic finds the faint colour cast in one fold and not the other
PICK3 = dataclasses.replace(STATS_ROT, max_epochs=120, pick=3, val_fraction=0.2)


def doubled(cfg: C2STConfig) -> C2STConfig:
    """Every epoch count of a critic doubled, and the pixel-statistics critic's iterations (the "long" check)."""
    cfg = dataclasses.replace(cfg, pixel_iter=2 * cfg.pixel_iter)
    if cfg.schedule == "cosine":
        return dataclasses.replace(cfg, max_epochs=2 * cfg.max_epochs)
    return dataclasses.replace(cfg, patience=2 * cfg.patience, min_epochs=2 * cfg.min_epochs,
                               max_epochs=2 * cfg.max_epochs)


def wider(cfg: C2STConfig) -> C2STConfig:
    """Twice the CNN's width, and twice the pixel-statistics critic's resolution (the "wide" check)."""
    return dataclasses.replace(cfg, width=2 * cfg.width, pixel=2 * cfg.pixel)


FAMILIES = {  # a critic, and the two that double it: the check of its convergence
    "base": BASE, "nonorm": NONORM, "stats": STATS, "stats-rot": STATS_ROT, "pick3": PICK3, "plateau": PLATEAU, "cos60": COS60, "min30": MIN30, "min0": MIN0}
VARIANTS = {name: cfg for family, base in FAMILIES.items()
            for name, cfg in ((family, base), (f"{family}-wide", wider(base)), (f"{family}-long", doubled(base)))}
VARIANTS["wide"], VARIANTS["long"] = VARIANTS.pop("base-wide"), VARIANTS.pop("base-long")
VARIANTS |= {
    "narrow": dataclasses.replace(BASE, width=BASE.width // 2),
    "shift4": dataclasses.replace(BASE, shift=4),
    "ens3": dataclasses.replace(BASE, critics=3),
    "both": dataclasses.replace(BASE, norm="both"),
    "stats-ens3": dataclasses.replace(STATS, critics=3),  # one GroupNorm critic and one without per fold, logits averaged
    # the yardstick for the StyleGAN: a 12-epoch critic like its independent one (8 convs, 32–128 channels)
    "e12": C2STConfig(width=32, depth=2, max_epochs=12, min_epochs=0, schedule="plateau", ema=0.0, detail=0.0,
                      pixel=0),
    # the same 12 epochs with the lr falling to 0 and the weights' moving average scored: e12's constant lr left one
    # of its folds unlearnt on the StyleGAN (0.632), where the critic told every face (0.997)
    "e12-cos": C2STConfig(width=32, depth=2, max_epochs=12, detail=0.0, pixel=0),
}
MEMBERS = {family: (family, "wide", "long") if family == "base" else (family, f"{family}-wide", f"{family}-long")
           for family in FAMILIES}


def make_sets(wanted: list[str], n: int, folder: str = paths.CHECKPOINTS) -> dict[str, np.ndarray]:
    train = None
    sets: dict[str, np.ndarray] = {}
    makers = {"real vs real": lambda x: x, "blur σ 0.25 px": lambda x: blur(x, 0.25),
              "blur σ 0.5 px": lambda x: blur(x, 0.5), "noise σ 4/255": lambda x: add_noise(x, 4, 0),
              "JPEG q75": lambda x: jpeg(x, 75), "colour shift +4 R −4 B": lambda x: colour_shift(x, 4)}
    for name in wanted:
        if name in makers:
            if train is None:
                train = sample_faces(paths.FACES, "train", n, 0)
            sets[name] = makers[name](train)
        elif name == "box-resized":
            sets[name] = sample_faces(paths.FACES, "train", n, 0, resample="box")
        elif name.endswith(AS_DATA):  # a checkpoint's faces given the real faces' JPEG history
            sets[name] = as_data_jpeg(generated(name[:-len(AS_DATA)], n, folder))
        else:  # a checkpoint
            sets[name] = generated(name, n, folder)
    return sets


AS_DATA = " as 96 px JPEG q75"


def as_data_jpeg(images: np.ndarray) -> np.ndarray:
    """Generated 64 px faces given the history the real ones have: the data set's faces are 96 px JPEGs at
    quality 75 (4:2:0), so each face is resized to 96 px (bicubic), saved so and decoded; the critic's own
    standardising (64 px, JPEG q95) follows as for every set."""
    import io

    from PIL import Image

    out = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).resize((96, 96), Image.Resampling.BICUBIC).save(buf, "JPEG", quality=75, subsampling=2)
        out.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    return np.stack(out)


def generated(name: str, n: int, folder: str = paths.CHECKPOINTS) -> np.ndarray:
    from lab.pipeline import cached_images
    from lab.registry import Registry

    return cached_images(Registry(folder).model(name), name, n)


NOTES_MARKER = "<!-- notes: kept when the table is rewritten -->"
ALL_SETS = ["stylegan-64", "anime-64", "anime-64-fast", "real vs real", "blur σ 0.5 px", "box-resized", "blur σ 0.25 px",
            "noise σ 4/255", "JPEG q75", "colour shift +4 R −4 B"]


FAMILY_TITLES = {
    "base": f"`C2STConfig()` as shipped: a CNN of width {BASE.width}, depth {BASE.depth}, flips only, seeing the "
            f"image and its fine grain (image − 3x3 blur, times {BASE.detail:g}), {BASE.max_epochs} epochs of a "
            f"cosine lr (every training image used, no stopping), the moving average of its weights scored; and "
            f"since the seventh session the pixel-statistics critic beside it on the same halves (convex; wide: "
            f"twice its histograms' bins, long: twice its iterations), the better of the two judging. Each cell "
            f"names the judge and the other critic's score",
    "nonorm": "base without GroupNorm (He init instead): GroupNorm takes away each image's mean and scale per group of "
              "channels, and with them a colour cast or an overall grain level",
    "stats": "base whose head also sees the stem's responses averaged over the image, taken before any GroupNorm: "
             "the overall grain level and colour reach the logit directly",
    "stats-rot": "stats trained on quarter turns as well as flips (each training image in one of the square's 8 "
                 "symmetries, drawn per image)",
    "pick3": "stats-rot trained for 120 epochs, three per fold from their own inits on four fifths of the training "
             "half, the one most accurate on the fifth held out judging",
    "plateau": "the critic of 2026-12-05's evening: the picture alone, at least 60 epochs, then early stopping on "
               "an inner validation split (patience 4, 2 lr drops, at most 160 epochs), the moving average scored",
    "cos60": "today's critic without the fine grain: the picture alone, 60 epochs of a cosine lr",
    "min30": "the critic of 2026-12-05's first change: its last weights, at least 30 epochs, at most 80",
    "min0": "the critic shipped before 2026-12-05: its last weights, any plateau could stop it (at most 80 epochs)"}


def cell(r: dict | None) -> str:
    if r is None:
        return "–"
    judged = ""
    if "pixel" in r:  # which critic judged, and the other's score
        judged = (f"pixel; CNN {r['cnn']['score']:.3f}; " if r["judge"] == "pixel"
                  else f"CNN; pixel {r['pixel']['score']:.3f}; ")
    return (f"{r['score']:.3f} ({', '.join(f'{f:.3f}' for f in r['folds'])}; {judged}"
            f"{'/'.join(str(e) for e in r['epochs'])} ep, {r['minutes']:.1f} min)")


def write_table(results: dict, path: str, variants: list[str]) -> None:
    """docs/critic_convergence.md: one table per critic (it, twice as wide, twice as long), then the others."""
    names = ALL_SETS + [s for s in results if s not in ALL_SETS]
    lines = ["# Is the two-sample critic converged?", "",
             "Held-out accuracy of a critic telling each set (2000 images) from the 2,051 held-out real faces, "
             "2-fold (folds in brackets), critic seed 0; epochs trained per fold (per critic, fold by fold) and "
             "the CNN critic's minutes (one thread, sharing the 2 cores with other jobs). **wide** doubles the "
             "critic's width, **long** every epoch count (minimum, patience, maximum). Converged: the largest change "
             "≤ 0.01. Earlier critics are CNNs alone, as they were measured.", "",
             "Reproduce: `python bench/critic_study.py` (results per cell in bench/results/critic_study.json).", ""]
    for family, members in MEMBERS.items():
        rows = [n for n in names if any(v in results.get(n, {}) for v in members)]
        if not rows:
            continue
        lines += [f"## {family}: {FAMILY_TITLES[family]}", "",
                  "| set | " + " | ".join(members) + " | largest change |", "|---" * 5 + "|"]
        for name in rows:
            row = results[name]
            changes = [abs(row[v]["score"] - row[members[0]]["score"]) for v in members[1:]
                       if v in row and members[0] in row]
            lines.append(f"| {name} | " + " | ".join(cell(row.get(v)) for v in members) + " | "
                         + (f"{max(changes):.3f}" if changes else "–") + " |")
        lines.append("")
    others = [v for v in variants if not any(v in m for m in MEMBERS.values())]
    rows = [n for n in names if any(v in results.get(n, {}) for v in others)]
    if rows:
        lines += ["## other critics: narrow (half width), shift4 (random 4 px shifts), ens3 (three per fold), both "
                  "(a base and a nonorm critic per fold, logits averaged), stats-ens3 (three stats critics per fold), e12 (the issue's 12-epoch critic: width 32, the picture alone, constant lr, last weights), e12-cos (the same 12 epochs, lr falling to 0, the moving average scored)", "",
                  "| set | base | " + " | ".join(others) + " |", "|---" * (len(others) + 2) + "|"]
        lines += [f"| {n} | " + " | ".join(cell(results[n].get(v)) for v in ["base", *others]) + " |" for n in rows]
        lines.append("")
    rows = seed_rows(results)
    if rows:
        lines += ["## critic seeds: how far one score moves with the split into halves and the init", "",
                  "| set | critic | score per seed (0, 1, …) | mean | spread | largest fold gap |", "|---" * 6 + "|",
                  *rows, ""]
    notes = ""  # what a person wrote below the marker stays
    if os.path.isfile(path):
        with open(path) as f:
            text = f.read()
        if NOTES_MARKER in text:
            notes = text[text.index(NOTES_MARKER):]
    with open(path, "w") as f:
        f.write("\n".join(lines) + ("\n" + notes if notes else ""))


def variant_of(config: dict) -> str | None:
    """The variant a stored cell was measured with, by its config: names moved when the default did. A critic seed
    other than 0 is part of the name ("cos60@1"): another seed is another split into halves and another init."""
    config = {"min_epochs": 0} | NEUTRAL | config  # cells stored before a field existed: its neutral value
    cnn = {k: v for k, v in config.items() if k not in PIXEL_FIELDS}  # a CNN's cell gains the pixel critic later
    for name, cfg in VARIANTS.items():
        if {k: v for k, v in dataclasses.asdict(cfg).items() if k not in PIXEL_FIELDS} | {"seed": config.get("seed")} == cnn:
            return name + (f"@{config['seed']}" if config.get("seed") else "")
    return None


def seed_rows(results: dict) -> list[str]:
    """Table rows for each (set, variant) scored with more than one critic seed: how far the seeds spread."""
    rows = []
    for name, row in results.items():
        for v in [v for v in row if "@" not in v]:
            cells = [row[v]] + [row[k] for k in sorted(row) if k.startswith(v + "@")]
            if len(cells) < 2:
                continue
            scores = [c["score"] for c in cells]
            fold_gap = max(max(c["folds"]) - min(c["folds"]) for c in cells)
            rows.append(f"| {name} | {v} | {', '.join(f'{x:.3f}' for x in scores)} | {np.mean(scores):.3f} | "
                        f"{max(scores) - min(scores):.3f} | {fold_gap:.3f} |")
    return rows


def load(path: str) -> dict:
    """Stored cells, each under the variant its config is now (a cell whose config is no variant is dropped)."""
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        stored = json.load(f)
    return {name: {v: cell for cell in row.values() if (v := variant_of(cell["config"]))}
            for name, row in stored.items()}


def save_cell(path: str, name: str, variant: str, cell: dict) -> dict:
    """Put one cell in the results file, under a lock: two runs of this script may share it (one per core)."""
    import fcntl

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = load(path)
        results.setdefault(name, {})[variant] = cell
        with open(path + ".tmp", "w") as f:
            json.dump(results, f, indent=1)
        os.replace(path + ".tmp", path)
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", default=",".join(ALL_SETS))
    p.add_argument("--variants", default="base,wide,long")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seeds", default="0", help="critic seeds (each: its own split into halves and init)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--stored-only", action="store_true",
                   help="only add the pixel-statistics critic to stored cells that lack it or have an older set of its "
                   "features (about a minute each); train no CNN")
    p.add_argument("--folder", default=paths.CHECKPOINTS, help="where checkpoint sets are found (runs/ for a run)")
    p.add_argument("--results", default=os.path.join(paths.ROOT, "bench", "results", "critic_study.json"))
    p.add_argument("--table", default=os.path.join(paths.ROOT, "docs", "critic_convergence.md"))
    args = p.parse_args()
    memory.keep_large_blocks()  # batch activations stay on the heap (lab/memory.py)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not os.path.isdir(paths.FACES):
        sys.exit(f"no real faces at {paths.FACES}: set ANIME_FACES_DIR")
    wanted = [s for s in args.sets.split(",") if s]
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variant(s) {', '.join(unknown)}; allowed: {', '.join(VARIANTS)}")
    results = load(args.results)
    held = faces_hwc(paths.FACES, "heldout")
    sets = make_sets(wanted, args.n, args.folder)
    seeds = [int(x) for x in args.seeds.split(",") if x]
    for seed, variant in [(s, v) for s in seeds for v in variants]:  # every set at base first: the table fills
        for name in wanted:                                            # in the order it is read
            key = variant + (f"@{seed}" if seed else "")
            cfg = dataclasses.replace(VARIANTS[variant], seed=seed)
            have = results.get(name, {}).get(key)
            current = have is not None and (not cfg.pixel or ("pixel" in have and is_current(have["pixel"])))
            if current or (have is None and args.stored_only):
                continue
            if have is not None:  # a CNN's cell stored before the pixel critic or its features: it anew, same halves
                out = with_pixel_critic(have, *prepare(sets[name], held, torch.Generator().manual_seed(seed)), cfg)
            else:
                out = dict(c2st_cached(sets[name], held, cfg))
                out["minutes"] = out["seconds"] / 60  # the critic's own time, also when it comes from the cache
            results.setdefault(name, {})[key] = out
            print(f"{name} · {key}: {out['score']:.3f} (folds {out['folds']}, epochs {out['epochs']}, "
                  f"{out['minutes']:.1f} min)", flush=True)
            results = save_cell(args.results, name, key, out)
            shown = [v for v in VARIANTS if any(v in r for r in results.values())]
            write_table(results, args.table, shown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
