"""Score generated faces as HW6 does: FID against the real set and AFD (the fraction of images with a face).

    python evaluate.py --generated DIR [--real DIR|STATS.npz] [--detector auto|yolov8x6|ours|lbpcascade|all]
                       [--labels CSV] [--inception-weights PATH] [--json OUT]
    python evaluate.py report --checkpoint checkpoints/anime-64 --n 1000 --out DIR [--sweep] [--students A,B]

`report` generates N images for a checkpoint and sampler, scores them with every available detector and
FID where the Inception weights are present, and writes report.json + report.md; `--sweep` adds the
quality-vs-steps table and plot (DDPM 1000; DDIM 10/20/50/100 at eta 0 and 1; DPM-Solver++ 10/20) with
seconds per image: our version of the DDIM paper's Table 1. `--students` adds distilled students (distill.py),
each at the steps it was made for, as dashed curves at equal network evaluations: what distillation buys.
"""
from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import sys
import time

import numpy as np

from evaluation import detect as det
from lab import paths
from evaluation import fid as fidlib

DEFAULT_REAL = paths.FACES
# DDIM 2 and 4: the teacher at a distilled student's cost, so the plot compares them at equal network evaluations
SWEEP = [("ddpm", None, 1.0)] + [("ddim", s, 0.0) for s in (2, 4)] + \
        [("ddim", s, e) for e in (0.0, 1.0) for s in (10, 20, 50, 100)] + [("dpm-solver", s, 0.0) for s in (10, 20)]


def afd_scores(found: list[bool], labels: list[bool] | None = None) -> dict:
    """AFD = fraction of images with at least one face. With labels (True = a face image): accuracy,
    recall (faces found among face images) and precision (face images among those with a face found)."""
    if not found:
        raise ValueError("AFD needs at least one image")
    out = {"afd": float(np.mean(found)), "n": len(found)}
    if labels is not None:
        if len(labels) != len(found):
            raise ValueError(f"{len(labels)} labels for {len(found)} images")
        f, y = np.array(found), np.array(labels)
        tp, fp, fn = int((f & y).sum()), int((f & ~y).sum()), int((~f & y).sum())
        out |= {"accuracy": float((f == y).mean()), "recall": tp / (tp + fn) if tp + fn else float("nan"),
                "precision": tp / (tp + fp) if tp + fp else float("nan"), "tp": tp, "fp": fp, "fn": fn,
                "tn": int((~f & ~y).sum())}
    return out


def read_labels(path: str, names: list[str]) -> list[bool]:
    """A CSV of `name,label` rows (label 1 = face, 0 = not), one per image file."""
    with open(path, newline="") as f:
        rows = {r[0].strip(): r[1].strip() for r in csv.reader(f) if len(r) >= 2 and r[1].strip() in ("0", "1")}
    missing = [n for n in names if n not in rows]
    if missing:
        raise ValueError(f"{path} has no 0/1 label for {len(missing)} image(s), e.g. {missing[0]}")
    return [rows[n] == "1" for n in names]


def detectors(kind: str) -> list:
    """The detectors asked for; with "all", every one whose file is present."""
    if kind != "all":
        return [det.make_detector(kind)]
    found = []
    for name in ("yolov8x6", "ours", "lbpcascade"):
        try:
            found.append(det.make_detector(name))
        except FileNotFoundError:
            pass
    if not found:
        det.make_detector("auto")  # raises the one-sentence "no detector found" error
    return found


@functools.lru_cache(maxsize=2)
def _face_features(path: str):
    """FFD's encoder, loaded once per path (a report scores a dozen settings with it)."""
    from evaluation.face_features import load_face_features

    return load_face_features(path)


def face_distance(images: list[np.ndarray], encoder: str | None = None) -> dict:
    """{"ffd": the Fréchet face distance to the held-out faces} (evaluation/face_features.py), or
    {"ffd": None, "ffd_missing": why} where the shipped encoder is absent."""
    from evaluation.face_features import ffd

    try:
        model = _face_features(encoder or paths.FACE_ENCODER)
    except ValueError as e:
        return {"ffd": None, "ffd_missing": str(e)}
    return {"ffd": ffd(np.stack([np.asarray(i) for i in images]), model)}


def score(images: list[np.ndarray], kind: str = "all", labels: list[bool] | None = None, real: str | None = None,
          inception_weights: str | None = None, fid_cache: str | None = None, inception_model=None,
          encoder: str | None = None) -> dict:
    """AFD per detector, FFD, and FID (or the reason it is missing) for uint8 images."""
    out = {"afd": {}, **(face_distance(images, encoder) if len(images) >= 2 else {})}
    for d in detectors(kind):
        found = [len(b) > 0 for b in d.detect_batch(images)]
        out["afd"][d.name] = afd_scores(found, labels) | {"homework_detector": d.is_homework_detector}
    if real:
        try:
            model = inception_model or fidlib.inception(inception_weights)
            mu, sigma = fidlib.real_statistics(real, model, fid_cache)
            out["fid"] = fidlib.fid(images, mu, sigma, model)
        except FileNotFoundError as e:
            out["fid"], out["fid_missing"] = None, str(e)
    return out


def two_sample(images: list[np.ndarray], real: str, critic: str = "full") -> dict:
    """The classifier two-sample test of `images` against the held-out split of the real folder; critic "full" is
    C2STConfig() (minutes; docs/critic_convergence.md says how near converged), "quick" a few epochs of a narrow
    critic (seconds, for smoke runs)."""
    from evaluation.two_sample import C2STConfig, c2st
    from lab.data import faces_hwc

    if not real or not os.path.isdir(real):
        raise ValueError(f"--two-sample needs --real to be a folder of real faces, got {real!r}")
    held = faces_hwc(real, "heldout")
    return c2st(np.stack([np.asarray(i) for i in images]), held, C2STConfig.quick() if critic == "quick" else None)


def markdown(rows: list[dict]) -> str:
    """A table: one row per setting, a column per detector's AFD, the two-sample score (where measured), FID,
    seconds per image."""
    names = sorted({n for r in rows for n in r["afd"]})
    with_ts = any("two_sample" in r for r in rows)
    head = ("| setting | images | " + " | ".join(f"AFD {n}" for n in names) + (" | two-sample" if with_ts else "")
            + " | FFD | FID | s / image |")
    lines = [head, "|---" * (len(names) + 5 + with_ts) + "|"]
    for r in rows:
        cells = [f"{r['afd'][n]['afd']:.1%}" if n in r["afd"] else "–" for n in names]
        if with_ts:
            cell = f"{r['two_sample']['score']:.3f}" if "two_sample" in r else "–"
            if "two_sample_first" in r:
                cell += f" (first {r['two_sample_first']['n_per_set']}: {r['two_sample_first']['score']:.3f})"
            cells.append(cell)
        fid = f"{r['fid']:.2f}" if r.get("fid") is not None else "n/a"
        ffd_ = f"{r['ffd']:.2f}" if r.get("ffd") is not None else "n/a"
        if "ffd_first" in r:
            ffd_ += f" (first {r['ffd_first']['n']}: {r['ffd_first']['ffd']:.2f})"
        fid = ffd_ + " | " + fid
        secs = f"{r['seconds_per_image']:.3f}" if "seconds_per_image" in r else "–"
        n = next(iter(r["afd"].values()))["n"] if r["afd"] else "–"
        lines.append(f"| {r.get('setting', 'images')} | {n} | " + " | ".join(cells) + f" | {fid} | {secs} |")
    return "\n".join(lines)


def setting_name(sampler: str, steps: int | None, eta: float) -> str:
    if sampler == "ddpm":
        return "DDPM 1000"  # all T steps; T is 1000 for the shipped checkpoint
    return f"DDIM {steps}, eta {eta:g}" if sampler == "ddim" else f"DPM-Solver++ {steps}"


PLOT_TEXT = {  # English → 繁體中文 for the quality-vs-steps plot (quality_vs_steps.zh-TW.png)
    "AFD rate, % ({})": "AFD 人臉偵測率，%（{}）",
    "two-sample score, one n for all (0.5 = real)": "雙樣本分數（0.5 = 與真實無法區分）",
    "FFD to held-out faces, one n for all (lower = nearer)": "FFD（各設定同張數；越低越近真實）",
    "seconds per image (batch 64, CPU)": "每張圖的秒數（批次 64，CPU）",
    "network evaluations per image": "每張圖的網路運算次數",
    "Quality vs network evaluations (same seeds for every setting; diamonds: distilled students)":
        "品質與網路運算次數（各設定使用相同種子；菱形：蒸餾學生模型）",
    "distilled student": "蒸餾學生模型",
}


def curve_name(row: dict) -> str:
    """The curve a row belongs to: a sampler (DDIM per eta), or a student family (every round of one run)."""
    if row.get("student"):
        return row["student"]
    return {"ddpm": "DDPM", "dpm-solver": "DPM-Solver++"}.get(row["sampler"], f"DDIM eta {row['eta']:g}")


def plot(rows: list[dict], path: str, chinese: bool = False) -> None:
    """AFD, the two-sample score (where every row has one), FFD (where measured) and seconds per image against
    network evaluations: a curve per sampler, a dashed one per distilled student, in English or 繁體中文."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lab.fonts import cjk_family

    say = (lambda en: PLOT_TEXT.get(en, en)) if chinese else (lambda en: en)
    detector = sorted(rows[0]["afd"])[0]
    panels = [(say("AFD rate, % ({})").format(detector), lambda r: r["afd"][detector]["afd"] * 100)]
    if all("two_sample" in r for r in rows):
        panels.append((say("two-sample score, one n for all (0.5 = real)"),
                       lambda r: r.get("two_sample_first", r["two_sample"])["score"]))
    if any(r.get("ffd") is not None for r in rows):
        panels.append((say("FFD to held-out faces, one n for all (lower = nearer)"),
                       lambda r: r["ffd_first"]["ffd"] if "ffd_first" in r else r.get("ffd")))
    panels.append((say("seconds per image (batch 64, CPU)"), lambda r: r["seconds_per_image"]))
    families = ["DejaVu Sans"] + ([cjk_family()] if chinese else [])
    with matplotlib.rc_context({"font.family": families}):
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.3), dpi=110)
        groups: dict[str, list[dict]] = {}
        for r in rows:
            groups.setdefault(curve_name(r), []).append(r)
        for ax, (ylabel, value) in zip(axes, panels):
            for key, rs in groups.items():
                rs = sorted(rs, key=lambda r: r["nfe"])
                style = "D--" if rs[0].get("student") else "s" if key == "DDPM" else "o-"
                label = f"{say('distilled student')}: {key}" if rs[0].get("student") else key
                points = [(r["nfe"], value(r)) for r in rs if value(r) is not None]
                if points:
                    ax.plot(*zip(*points), style, label=label)
            ax.set_ylabel(ylabel)
            ax.set_xscale("log")
            ax.set_xlabel(say("network evaluations per image"))
            ax.grid(alpha=0.3, which="both")
        axes[-1].set_yscale("log")
        fig.suptitle(say("Quality vs network evaluations (same seeds for every setting; diamonds: distilled students)"),
                     fontsize=10)
        # one legend for every panel, below them, so no curve hides behind it
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        fig.savefig(path)
        plt.close(fig)


def sample_rows(strips: list[tuple[str, list[np.ndarray]]], path: str) -> None:
    """The same seeds under every setting: a row of images per setting, labelled."""
    import textwrap

    from PIL import Image, ImageDraw

    size, label_w, pad = 64, 150, 2
    canvas = Image.new("RGB", (label_w + 8 * (size + pad), len(strips) * (size + pad)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (name, images) in enumerate(strips):
        lines = textwrap.wrap(name, 24)  # a student's lineage is longer than the label column
        draw.multiline_text((4, r * (size + pad) + size // 2 - 6 * len(lines)), "\n".join(lines), fill="black")
        for c, img in enumerate(images):
            canvas.paste(Image.fromarray(img).resize((size, size)), (label_w + c * (size + pad), r * (size + pad)))
    canvas.save(path)


def report(args: argparse.Namespace) -> dict:
    from lab.checkpoint import load_checkpoint

    model = load_checkpoint(args.checkpoint)
    default = model.default_sampler()  # the checkpoint's own unless asked (a student: what it was made for)
    sampler = args.sampler or default[0]
    first = (sampler, (default[1] if args.steps is None else args.steps) if sampler != "ddpm" else None,
             default[2] if args.eta is None else args.eta)
    family = model.lineage()
    if family:  # a student samples only as it was made: its sweep is its own step counts
        jobs = [(model, model.check(*first), f"{family} {model.check(*first).steps}", family)]
        jobs += [(model, model.check(first[0], k, first[2]), f"{family} {k}", family)
                 for k in (model.step_counts([]) if args.sweep else []) if k != jobs[0][1].steps]
    else:
        settings = [first] + ([s for s in SWEEP if s != first] if args.sweep else [])
        jobs = [(model, model.check(*s), setting_name(*s), None) for s in settings]
    for path in filter(None, (args.students or "").split(",")):  # each student at every step count it takes
        student = load_checkpoint(path)
        family = student.lineage()
        if not family:
            raise ValueError(f"--students {path}: not a distilled student (distill.py writes those)")
        name, _, eta = student.default_sampler()
        jobs += [(student, student.check(name, k, eta), f"{family} {k}", family) for k in student.step_counts([])]
    inception, fid_missing = None, None
    if args.real:  # build the Inception network once; offline without its weights, FID is n/a for every row
        try:
            inception = fidlib.inception(args.inception_weights)
        except FileNotFoundError as e:
            fid_missing = str(e)
    os.makedirs(args.out, exist_ok=True)
    rows, strips = [], []
    for k, (m, setting, name, family) in enumerate(jobs):
        n = args.n if k == 0 else (args.sweep_n or args.n)
        images, seconds = _sample_setting(m, setting, name, n, args)
        strips.append((name, images[:8]))
        row = score(images, args.detector, None, args.real if inception else None, fid_cache=args.fid_cache,
                    inception_model=inception)
        if fid_missing:
            row |= {"fid": None, "fid_missing": fid_missing}
        at_sweep_n = k == 0 and len(jobs) > 1 and (args.sweep_n or args.n) < n
        if at_sweep_n and row.get("ffd") is not None:  # a Fréchet distance grows as n shrinks: one n for all
            row["ffd_first"] = {"ffd": face_distance(images[:args.sweep_n])["ffd"], "n": args.sweep_n}
        if args.two_sample:
            row["two_sample"] = two_sample(images, args.real, args.critic)
            if at_sweep_n:  # a critic trained on fewer images tells them apart less well: compare at one n
                row["two_sample_first"] = two_sample(images[:args.sweep_n], args.real, args.critic)
        rows.append({"setting": name, "n": n, "sampler": setting.sampler, "steps": setting.steps, "eta": setting.eta,
                     "nfe": m.evaluations(setting), "seconds_per_image": seconds,
                     **({"student": family, "checkpoint": m.path} if family else {}), **row})
        print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    result = {"checkpoint": args.checkpoint, "seeds": "0..n-1 in every setting", "batch_size": args.batch_size,
              "rows": rows}
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(result, f, indent=2)
    md = markdown(rows)
    if any(r.get("fid_missing") for r in rows):
        md += f"\n\nFID: n/a — {rows[0]['fid_missing']}"
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(f"# {args.checkpoint}: n images per setting, seeds 0…n−1\n\n{md}\n")
    sample_rows(strips, os.path.join(args.out, "samples.png"))
    if args.sweep:
        from lab.fonts import cjk_font

        plot(rows, os.path.join(args.out, "quality_vs_steps.png"))
        if cjk_font():  # the Chinese plot for Compare's Chinese visitors (the Space installs the font)
            plot(rows, os.path.join(args.out, "quality_vs_steps.zh-TW.png"), chinese=True)
    print(md)
    return result


def _sample_setting(model, setting, name: str, n: int, args) -> tuple[list[np.ndarray], float]:
    """n images of seeds 0…n-1 written under args.out/images/<setting>, and the seconds per image."""
    from tqdm.auto import tqdm

    from lab.pipeline import write_images

    folder = os.path.join(args.out, "images", name.replace(" ", "_").replace(",", ""))
    images, t0 = [], time.perf_counter()
    with tqdm(total=n, desc=name, unit="img", disable=args.no_progress) as bar:
        for chunk, imgs in write_images(model, n, folder, setting, 0, args.batch_size):
            images += list(imgs)
            bar.update(len(chunk))
    return images, (time.perf_counter() - t0) / n


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    is_report = bool(argv) and argv[0] == "report"
    p = argparse.ArgumentParser(prog="evaluate.py" + (" report" if is_report else ""), description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--detector", default="all", choices=("all",) + det.DETECTORS)
    p.add_argument("--real", default=DEFAULT_REAL, help="real faces (folder) or their statistics (.npz); '' skips FID")
    p.add_argument("--inception-weights", default=None, help=f"path of {fidlib.WEIGHTS_NAME}")
    p.add_argument("--fid-cache", default=None, help="where the real set's statistics are cached")
    p.add_argument("--critic", choices=("full", "quick"), default="full",
                   help="--two-sample's critic: full (C2STConfig(), minutes) or quick (seconds, for smoke runs)")
    p.add_argument("--face-encoder", default=None, help="FFD's encoder folder (default: checkpoints/face-encoder)")
    if is_report:
        from diffusion.samplers import SAMPLERS

        p.add_argument("--checkpoint", default=os.path.join("checkpoints", "anime-64"))
        p.add_argument("--n", type=int, default=1000)
        p.add_argument("--out", required=True)
        p.add_argument("--sampler", choices=SAMPLERS, default=None,
                       help="default: the checkpoint's own (dpm-solver; a distilled student: the one it was made for)")
        p.add_argument("--steps", type=int, default=None, help="default: the checkpoint's own (20; a student: its)")
        p.add_argument("--eta", type=float, default=None, help="default: the checkpoint's own (0)")
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--sweep", action="store_true", help="add the quality-vs-steps settings")
        p.add_argument("--sweep-n", type=int, default=0, help="images per sweep setting (default: --n)")
        p.add_argument("--students", default="", help="distilled students (checkpoint folders, comma-separated): "
                       "each sampled at every step count it takes, drawn as its own dashed curve")
        p.add_argument("--no-progress", action="store_true")
        p.add_argument("--two-sample", action="store_true",
                       help="add the classifier two-sample test of every setting against the held-out faces of --real")
    else:
        p.add_argument("--generated", required=True, help="a folder of generated images (e.g. 1.jpg … 1000.jpg)")
        p.add_argument("--labels", default=None, help="CSV of name,label (1 face, 0 not): adds accuracy/recall/precision")
        p.add_argument("--json", default=None, help="also write the scores here")
        p.add_argument("--two-sample", action="store_true",
                       help="the classifier two-sample test against the held-out real faces of --real (a folder)")
    args = p.parse_args(argv[1:] if is_report else argv)
    from lab import memory

    memory.keep_large_blocks()  # a batch's activations are mmap-sized: keep them on the heap (lab/memory.py)
    try:
        if is_report:
            if not 1 <= args.n <= 100_000:
                p.error(f"--n must be in 1..100000, got {args.n}")
            report(args)
            return 0
        paths = fidlib.folder_images(args.generated)
        names = [os.path.basename(q) for q in paths]
        labels = read_labels(args.labels, names) if args.labels else None
        images = [fidlib.load_image(q) for q in paths]
        result = score(images, args.detector, labels, args.real, args.inception_weights, args.fid_cache,
                       encoder=args.face_encoder)
        if args.two_sample:
            result["two_sample"] = two_sample(images, args.real, args.critic)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result["generated"] = args.generated
    print(markdown([result | {"setting": os.path.basename(os.path.normpath(args.generated))}]))
    if result.get("fid_missing"):
        print(f"FID: n/a — {result['fid_missing']}")
    if result.get("ffd_missing"):
        print(f"FFD: n/a — {result['ffd_missing']}")
    if "two_sample" in result:
        ts = result["two_sample"]
        print(f"two-sample score: {ts['score']:.3f} (folds {', '.join(f'{v:.3f}' for v in ts['folds'])}; "
              f"{ts['n_per_set']} images per set; 0.5 = indistinguishable from the held-out real faces)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
