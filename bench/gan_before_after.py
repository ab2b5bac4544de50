"""Two StyleGAN checkpoints side by side on what gives a GAN away (docs/quality.md): the period-2 grid in the
detail map, the detail's energy, FFD, the lbpcascade face rate and the two-sample scores of bench/critic_study.py.

    python bench/gan_before_after.py --before checkpoints/stylegan-64 --after runs/stylegan-64-bicubic-cool

Images at generate.py's defaults (ψ 1, seeds 0 … n−1, cached by lab.pipeline.cached_images: the sets the critic
study scores). The grid, energy, FFD and face rate take seconds; the two-sample scores are read from the study's
cells, made with `python bench/critic_study.py [--folder runs] --sets NAME --variants base,e12-cos` (minutes
each), and shown as "–" until then. Writes bench/results/gan_before_after.md.
"""
from __future__ import annotations

import argparse
import os

from lab import paths

CRITICS = {"base": "two-sample, the shipped critic (0.5 = like real)",
           "e12-cos": "two-sample, a 12-epoch critic on the picture alone (the issue's target: below 0.95)"}


def measure(path: str, n: int, study: dict) -> dict:
    from diagnose import detail_map, grid_strength  # bench/ is sys.path[0] when this runs as a script

    from evaluation.detect import make_detector
    from evaluation.face_features import ffd, load_face_features
    from lab.pipeline import cached_images
    from lab.registry import Registry

    folder, name = os.path.split(os.path.normpath(path))
    images = cached_images(Registry(folder).model(name), name, n)
    energy, _ = detail_map(images)
    cells = study.get(name, {})
    return {"checkpoint": os.path.relpath(path, paths.ROOT), "grid": grid_strength(energy), "energy": float(energy.mean()),
            "ffd": ffd(images, load_face_features(paths.FACE_ENCODER)),
            "face_rate": make_detector("lbpcascade").face_rate(list(images[:1000])),
            **{v: cells[v]["score"] if v in cells else None for v in CRITICS}}


def table(before: dict, after: dict, n: int) -> str:
    def fmt(v, spec):
        return "–" if v is None else format(v, spec)

    rows = [("period-2 grid in the detail map (real faces 0.001)", "grid", ".3f"),
            ("detail energy per pixel (real faces 143.7)", "energy", ".1f"),
            (f"FFD, {n} images (lower is better; real faces 0.135)", "ffd", ".3f"),
            ("lbpcascade face rate, first 1000 (real 99.0 %)", "face_rate", ".1%"),
            *[(label, key, ".3f") for key, label in CRITICS.items()]]
    lines = [f"| | before: `{before['checkpoint']}` | after: `{after['checkpoint']}` |", "|---|---|---|"]
    lines += [f"| {label} | {fmt(before[key], spec)} | {fmt(after[key], spec)} |" for label, key, spec in rows]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", default=os.path.join(paths.CHECKPOINTS, "stylegan-64"))
    p.add_argument("--after", required=True)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--study", default=os.path.join(paths.ROOT, "bench", "results", "critic_study.json"))
    p.add_argument("--out", default=os.path.join(paths.ROOT, "bench", "results", "gan_before_after.md"))
    args = p.parse_args()
    from critic_study import load

    study = load(args.study)  # each cell under the variant its config is now
    before, after = (measure(path, args.n, study) for path in (args.before, args.after))
    text = table(before, after, args.n)
    print(text)
    with open(args.out, "w") as f:
        f.write(f"# StyleGAN before and after\n\n`python bench/gan_before_after.py --before {before['checkpoint']} "
                f"--after {after['checkpoint']}`\n\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
