"""Distilled students against their teacher at equal network evaluations: FFD, the lbpcascade face rate and,
with --critic, the two-sample score, per checkpoint and step count, with the CPU-hours each student took.

    python bench/students.py --checkpoints checkpoints/anime-64 --steps 1,2,4,8,16      # the teacher's DDIM curve
    python bench/students.py --checkpoints runs/pd/rounds/3-2-steps,runs/ect/rounds/3-2-steps --critic

A student is sampled as its config.json says (distill.py: DDIM, its η, the steps it was made for; other step
counts are skipped); any other checkpoint with DDIM η 0 at each of --steps. Images come from seeds 0 … n−1 (the
first of bench/quality.py's seed sets), against the held-out real faces. CPU-hours: the run's log.jsonl up to the
student's step (wall seconds × --run-threads). Rows merge into bench/results/students.{json,md} by
(checkpoint, steps, n). FFD reads higher at fewer images: compare rows of the same n.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from evaluation.face_features import ffd, load_face_features
from evaluation.measures import MEASURES
from evaluation.two_sample import C2STConfig, c2st_cached
from lab import memory, paths
from lab.checkpoint import load_checkpoint
from lab.data import real_faces
from lab.pipeline import batches

RESULTS = os.path.join(paths.ROOT, "bench", "results", "students")


def thread_plan(text: str) -> list[tuple[int, int]]:
    """"1" or "1@0,2@1657" (threads from a step on; a resumed run may change them) → [(first step, threads)]."""
    plan = []
    for part in text.split(","):
        threads, _, start = part.partition("@")
        try:
            plan.append((int(start or 0), int(threads)))
        except ValueError:
            raise ValueError(f"--run-threads: {part!r} is not THREADS or THREADS@STEP") from None
    if any(t < 1 or s < 0 for s, t in plan):
        raise ValueError("--run-threads: threads must be >= 1 and steps >= 0")
    return sorted(plan)


def cpu_hours(checkpoint: str, steps_trained: int | None, threads: int | list[tuple[int, int]]) -> float | None:
    """Wall hours of the run that made `checkpoint` up to its step, × the threads it ran on then (None: no
    log). A log row's own "threads" wins over the plan."""
    run = os.path.dirname(os.path.dirname(checkpoint)) if os.sep + "rounds" + os.sep in checkpoint else checkpoint
    log = os.path.join(run, "log.jsonl")
    if not os.path.isfile(log) or steps_trained is None:
        return None
    plan = [(0, threads)] if isinstance(threads, int) else threads
    rows = [json.loads(r) for r in open(log) if r.strip()]
    cpu_seconds, last = 0.0, 0
    for r in rows:
        if r["step"] > steps_trained:
            break
        n = r.get("threads") or [t for s, t in plan if s <= r["step"]][-1]
        cpu_seconds += (r["step"] - last) / r["steps_per_s"] * n
        last = r["step"]
    return cpu_seconds / 3600


def score(model, steps: int, n: int, held: np.ndarray, encoder, critic: bool) -> dict:
    settings = model.check("ddim", steps, 0.0)
    t0 = time.perf_counter()
    images = np.concatenate([b for _, b in batches(model, list(range(n)), settings, 64)])
    seconds = time.perf_counter() - t0
    found = sum(len(boxes) > 0 for boxes in MEASURES.detector("lbpcascade").detect_batch(list(images)))
    out = {"sampler": model.label(settings), "eta": settings.eta, "evaluations": model.evaluations(settings),
           "ffd": float(ffd(images, encoder)), "face_rate": found / n, "generation_s_per_1000": 1000 * seconds / n}
    if critic:
        result = c2st_cached(images, held, C2STConfig(seed=0))
        out.update(two_sample=result["score"], folds=result["folds"])
    return out


def write(rows: list[dict]) -> None:
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS + ".json", "w") as f:
        json.dump(rows, f, indent=1)
    lines = ["| checkpoint | sampler | evaluations | images | two-sample (0.5 = real) | FFD | face rate | CPU-hours | "
             "s / 1000 images |", "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["checkpoint"], r["evaluations"], r.get("n", 1000))):
        two = f"{r['two_sample']:.3f}" if r.get("two_sample") is not None else "–"
        hours = f"{r['cpu_hours']:.2f}" if r.get("cpu_hours") is not None else "–"
        lines.append(f"| {r['checkpoint']} | {r['sampler']} | {r['evaluations']} | {r.get('n', 1000)} | {two} | {r['ffd']:.3f} | "
                     f"{100 * r['face_rate']:.1f} % | {hours} | {r['generation_s_per_1000']:.1f} |")
    with open(RESULTS + ".md", "w") as f:
        f.write("\n".join(lines) + "\n\nMade by `python bench/students.py " + " ".join(sys.argv[1:]) + "`.\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoints", required=True, help="comma-separated checkpoint folders")
    p.add_argument("--steps", default="1,2,4,8", help="DDIM steps for checkpoints that are not students")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--critic", action="store_true", help="also the two-sample score (minutes per row)")
    p.add_argument("--run-threads", default="1", help="threads the distillation runs used: N, or N@STEP,… "
                   "where a resumed run changed them (e.g. 1@0,2@1657)")
    args = p.parse_args(argv)
    memory.keep_large_blocks()  # batch activations stay on the heap (lab/memory.py)
    try:
        plan = thread_plan(args.run_threads)
    except ValueError as e:
        p.error(str(e))
    held = real_faces("heldout")  # as bench/quality.py scores the teacher
    encoder = load_face_features(paths.FACE_ENCODER)
    rows = json.load(open(RESULTS + ".json")) if os.path.isfile(RESULTS + ".json") else []
    for path in [c for c in args.checkpoints.split(",") if c]:
        model = load_checkpoint(path)
        made_for = model.step_counts([int(s) for s in args.steps.split(",")])
        name = os.path.relpath(os.path.abspath(path), paths.ROOT)
        for steps in made_for:
            row = {"checkpoint": name, "n": args.n, "steps_trained": model.config.get("steps_trained"),
                   "cpu_hours": cpu_hours(path, model.config.get("steps_trained"), plan)
                   if "distillation" in model.config else None, **score(model, steps, args.n, held, encoder,
                                                                        args.critic)}
            print(json.dumps(row), flush=True)
            key = (name, row["evaluations"], args.n)
            rows = [r for r in rows if (r["checkpoint"], r["evaluations"], r.get("n", 1000)) != key] + [row]
            write(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
