"""The classifier two-sample test (evaluation/two_sample.py), calibrated and applied to every checkpoint.

    python bench/quality.py                       # calibration rows + every checkpoint, 3 seeds, 2000 images
    python bench/quality.py --checkpoints anime-64 --seeds 1 --skip-calibration
    python bench/quality.py --folder runs --checkpoints anime-64-v2 --skip-calibration   # a run in progress
    python bench/quality.py --checkpoints anime-64 --skip-calibration --merge   # re-score one, update the table
    python bench/quality.py --checkpoints anime-64 --skip-calibration --sampler ddim --steps 20   # another setting

Real faces are the held-out split of ../shared/data/anime-faces (never trained on by any model trained since
the split exists). Calibration: a random sample of training faces (real vs real), and the same sample blurred
(σ 0.25, 0.5 px) or noised (σ 4/255); `--calibration-seeds` sets how many seeds those rows take. Each
checkpoint: --n images at generate.py's defaults (its own sampler: DPM-Solver++ 20 steps, a student's steps;
StyleGAN ψ 1) from seeds
100000·s + 0 … n-1 for seed s (cached, shared with bench/ffd_calibration.py), against the held-out faces, the
converged critic (C2STConfig()) seeded with s; each score is cached by its images and config
(evaluation.two_sample.c2st_cached), so a re-run costs nothing. Writes bench/results/quality.{json,md} and
checkpoints/NAME/report/two_sample.json (what the app shows).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

import numpy as np

from evaluation.two_sample import C2STConfig, add_noise, blur, c2st_cached
from lab import memory, paths
from lab.data import real_faces
from lab.pipeline import cached_images, generate_batches
from lab.registry import Registry


def row(name: str, results: list[dict], extra: dict | None = None) -> dict:
    """A table row from one c2st result per seed: the score per seed, and each critic's (the CNN's and the pixel
    statistics') where both judged."""
    scores = [r["score"] for r in results]
    critics = {"cnn_scores": [r["cnn"]["score"] for r in results],
               "pixel_scores": [r["pixel"]["score"] for r in results],
               "pixel_feature_set": results[0]["pixel"]["feature_set"]} if all("pixel" in r for r in results) else {}
    return {"set": name, "scores": scores, "mean": float(np.mean(scores)),
            "spread": float(np.max(scores) - np.min(scores)), **critics, **(extra or {})}


def setting_name(sampler: str, steps: int, eta: float) -> str:
    if sampler == "ddpm":
        return "DDPM 1000"
    if sampler == "ddim":
        return f"DDIM {steps}, eta {eta:g}"
    return f"DPM-Solver++ {steps}"


def merged(path: str, rows: list[dict], n: int, seeds: int) -> list[dict]:
    """The full table at path with rows put in: a row of the same set replaces the old one in place, a new
    set goes at the end. Refused when the table was measured with another n or number of seeds."""
    try:
        with open(path) as f:
            table = json.load(f)
    except (OSError, ValueError):
        sys.exit(f"--merge: no readable full table at {path}; run bench/quality.py without --merge first")
    if (table.get("n_per_set"), table.get("seeds")) != (n, seeds):
        sys.exit(f"--merge: {path} was measured with {table.get('n_per_set')} images and {table.get('seeds')} "
                 f"seeds; merge rows measured the same way (--n {table.get('n_per_set')} --seeds {table.get('seeds')})")
    new = {r["set"]: r for r in rows}
    out = [new.pop(r["set"], r) for r in table["rows"]]
    return out + list(new.values())


def calibration_rows(args, train: np.ndarray, held: np.ndarray) -> list[dict]:
    """Real training faces against the held-out ones, plain and slightly degraded: what the critic should
    score at 0.5 and what it should see."""
    rows = []
    for name, make in (("real training faces (real vs real)", lambda x, s: x),
                       ("training faces blurred, σ 0.25 px", lambda x, s: blur(x, 0.25)),
                       ("training faces blurred, σ 0.5 px", lambda x, s: blur(x, 0.5)),
                       ("training faces + noise, σ 4/255", lambda x, s: add_noise(x, 4, s))):
        results = []
        for s in range(args.calibration_seeds or args.seeds):
            sample = train[np.sort(np.random.default_rng(s).choice(len(train), args.n, replace=False))]
            results.append(c2st_cached(make(sample, s), held, C2STConfig(seed=s)))
        rows.append(row(name, results))
        print(f"{name}: {rows[-1]['mean']:.3f} (spread {rows[-1]['spread']:.3f})", flush=True)
    return rows


def checkpoint_row(args, model, name: str, held: np.ndarray) -> dict:
    """A checkpoint's scores over the seeds; at generate.py's defaults (or for a model without steps) also its
    report/two_sample.json, which the app's picker shows."""
    asked = (args.sampler, args.steps, args.eta)
    default_setting = args.sampler is None or asked == model.default_sampler()
    asked = model.default_sampler() if default_setting else asked
    results, seconds = [], 0.0
    for s in range(args.seeds):
        t0 = time.perf_counter()
        if default_setting:  # generate.py's defaults: the generated sets are cached and shared with FFD's
            images = cached_images(model, name, args.n, 100_000 * s)
        else:
            seeds = list(range(100_000 * s, 100_000 * s + args.n))
            images = np.concatenate([b for _, b in generate_batches(model, seeds, args.sampler, args.steps,
                                                                    args.eta, 64)])
        seconds += time.perf_counter() - t0
        results.append(c2st_cached(images, held, dataclasses.replace(args.critic_config, seed=s)))
    setting = "StyleGAN, ψ 1" if not model.has_steps else setting_name(*asked)
    result = row(f"{name} ({setting})", results, {"checkpoint": name, "steps_trained": model.config.get("steps_trained"),
                                                  "split": model.config.get("data", {}).get("split", "all")})
    critic = {k: v for k, v in dataclasses.asdict(C2STConfig()).items() if k != "seed"}  # seed s for seed s
    report = {"two_sample": result, "n_per_set": args.n, "setting": setting, "critic": critic,
              "real": "held-out split of " + os.path.basename(paths.FACES),
              "command": " ".join(["python bench/quality.py"] + sys.argv[1:]), "generation_seconds": seconds / args.seeds}
    if (not model.has_steps or default_setting) and args.critic == "base":  # what the app's picker shows
        write_report(os.path.join(args.folder, name, paths.TWO_SAMPLE), report)
    return result


def write_report(path: str, report: dict) -> None:
    """A checkpoint's report/two_sample.json (what the app's picker shows), keeping the FFD beside it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.isfile(path):  # keep the FFD bench/ffd_calibration.py wrote beside it
        with open(path) as f:
            report["ffd"] = json.load(f).get("ffd")
    with open(path, "w") as f:
        json.dump(report, f, indent=2)


def add_pixel(args, held: np.ndarray) -> list[dict]:
    """--add-pixel: the pixel-statistics critic beside each checkpoint row of the full table, scored on the halves
    the stored CNN scores were (the same images and critic seed; about a minute a score), no CNN trained again; each
    score becomes the better critic's, and each checkpoint's report is rewritten. A row whose pixel critic had an
    older set of features gets it anew."""
    import torch

    from evaluation.pixel_critic import FEATURE_SET
    from evaluation.two_sample import prepare, with_pixel_critic

    with open(os.path.join(args.out, "quality.json")) as f:
        table = json.load(f)
    cfg, registry, rows = C2STConfig(), Registry(args.folder), []
    for r in table["rows"]:
        if "checkpoint" not in r or ("pixel_scores" in r and r.get("pixel_feature_set", 1) == FEATURE_SET):
            rows.append(r)
            continue
        model, results = registry.model(r["checkpoint"]), []
        for s, cnn in enumerate(r.get("cnn_scores", r["scores"])):  # an older pixel critic's scores: replaced
            images = cached_images(model, r["checkpoint"], table["n_per_set"], 100_000 * s)
            results.append(with_pixel_critic({"score": cnn}, *prepare(images, held, torch.Generator().manual_seed(s)),
                                             dataclasses.replace(cfg, seed=s)))
        extra = {k: r[k] for k in ("checkpoint", "steps_trained", "split") if k in r}
        rows.append(row(r["set"], results, extra))
        print(f"{r['set']}: {rows[-1]['mean']:.3f} (CNN {np.mean(r['scores']):.3f}, pixel statistics "
              f"{np.mean(rows[-1]['pixel_scores']):.3f})", flush=True)
        path = os.path.join(args.folder, r["checkpoint"], paths.TWO_SAMPLE)
        with open(path) as f:
            report = json.load(f)
        report |= {"two_sample": rows[-1], "critic": {k: v for k, v in dataclasses.asdict(cfg).items() if k != "seed"},
                   "command": "python bench/quality.py --add-pixel"}
        write_report(path, report)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="images per set")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--folder", default=paths.CHECKPOINTS, help="where the checkpoint folders are")
    p.add_argument("--checkpoints", default="", help="comma-separated names (default: every one in --folder)")
    p.add_argument("--skip-calibration", action="store_true")
    p.add_argument("--calibration-seeds", type=int, default=0, help="seeds for the calibration rows (default: --seeds)")
    p.add_argument("--out", default=os.path.join(paths.ROOT, "bench", "results"))
    p.add_argument("--sampler", default=None, help="diffusion sampler (default: each checkpoint's own, as generate.py "
                   "samples it: DPM-Solver++ 20; a distilled student: what it was made for)")
    p.add_argument("--steps", type=int, default=20, help="with --sampler")
    p.add_argument("--eta", type=float, default=0.0, help="with --sampler")
    p.add_argument("--merge", action="store_true",
                   help="put this run's rows into the full table (quality.json/md), replacing rows of the same set")
    p.add_argument("--add-pixel", action="store_true",
                   help="add the pixel-statistics critic to the full table's stored checkpoint rows that lack it or "
                        "have an older set of its features (about a minute a score; "
                        "no CNN trained again) and rewrite the checkpoints' reports")
    p.add_argument("--critic", default="base", help="a critic of bench/critic_study.py (default base: C2STConfig(), "
                   "the shipped one); another writes quality-critic-NAME.md and leaves the checkpoints' reports alone")
    args = p.parse_args()
    from critic_study import VARIANTS

    if args.critic not in VARIANTS:
        p.error(f"--critic must be one of {', '.join(VARIANTS)}, got {args.critic!r}")
    args.critic_config = VARIANTS[args.critic]
    if args.critic != "base" and (args.merge or not args.skip_calibration):
        p.error("--critic other than base takes --skip-calibration and no --merge (the full table is base's)")
    memory.keep_large_blocks()  # batch activations stay on the heap (lab/memory.py)
    held, train = real_faces("heldout"), real_faces("train")
    print(f"{len(held)} held-out real faces, {len(train)} training faces; {args.n} per set, {args.seeds} seeds",
          flush=True)
    default_setting = args.sampler is None or (args.sampler, args.steps, args.eta) == ("dpm-solver", 20, 0.0)  # names
    if args.add_pixel:
        rows, full = add_pixel(args, held), True
    else:
        rows = [] if args.skip_calibration else calibration_rows(args, train, held)
        registry = Registry(args.folder)
        for name in [n for n in args.checkpoints.split(",") if n] or registry.names():
            rows.append(checkpoint_row(args, registry.model(name), name, held))
            print(f"{rows[-1]['set']}: {rows[-1]['mean']:.3f} (spread {rows[-1]['spread']:.3f})", flush=True)
        full = not args.skip_calibration and not args.checkpoints
    os.makedirs(args.out, exist_ok=True)
    if args.merge and not full:
        rows = merged(os.path.join(args.out, "quality.json"), rows, args.n, args.seeds)
        full = True
    md = ["| images | two-sample score, mean over seeds | spread (max − min) | per seed | the CNN critic per seed | "
          "the pixel-statistics critic per seed |", "|---|---|---|---|---|---|"]
    md += [f"| {r['set']} | {r['mean']:.3f} | {r['spread']:.3f} | {', '.join(f'{v:.3f}' for v in r['scores'])} | "
           + " | ".join(", ".join(f"{v:.3f}" for v in r[k]) if k in r else "–" for k in ("cnn_scores", "pixel_scores"))
           + " |" for r in rows]
    text = "\n".join(md)
    print("\n" + text)
    suffix = "" if full else "-partial" if default_setting else f"-{args.sampler}{args.steps}-eta{args.eta:g}"
    suffix += "" if args.critic == "base" else f"-critic-{args.critic}"
    with open(os.path.join(args.out, f"quality{suffix}.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, f"quality{suffix}.json"), "w") as f:
        json.dump({"n_per_set": args.n, "seeds": args.seeds, "rows": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
