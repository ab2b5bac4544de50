"""Train our own small anime-face detector (YOLOv8n through ultralytics) on synthetic scenes, so AFD works
offline out of the box. It is NOT the homework's yolov8x6_animeface.pt: its rate estimates HW6's AFD.

    python bench/train_detector.py --data ../shared/data/anime-faces --out checkpoints/afd-yolov8n
    python bench/train_detector.py ... --resume          # continue the interrupted ultralytics run

1. Scenes: real faces pasted at known boxes and scales (a quarter fill the whole frame, as a generated
   face does) on varied backgrounds, beside negatives that must not count as faces: noise, blurred,
   patch-scrambled and upside-down faces. The last --held-out faces (by file name) are never used.
2. ultralytics trains YOLOv8n from its bundled yaml (random init: no download) at imgsz 64.
3. The EMA weights go to OUT/model.safetensors (fp16) + OUT/detector.json, loaded without unpickling.
4. Report (OUT/report.json): precision and recall at the HW6 settings on held-out real faces vs
   negatives made from them, and agreement with lbpcascade on generated images.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from PIL import Image, ImageFilter

from evaluation import detect as det
from lab import paths
from lab.data import list_images

NEGATIVES = ("noise", "blurred", "scrambled", "upside-down")


def load_faces(folder: str, names: list[str]) -> np.ndarray:
    faces = []
    for n in names:
        with Image.open(os.path.join(folder, n)) as im:
            faces.append(np.asarray(im.convert("RGB")))
    return np.stack(faces)


def make_negative(face: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Something face-like that is not an upright, sharp anime face."""
    if kind == "noise":
        return rng.integers(0, 256, face.shape, dtype=np.uint8)
    if kind == "blurred":
        return np.asarray(Image.fromarray(face).filter(ImageFilter.GaussianBlur(face.shape[0] / 12)))
    if kind == "upside-down":
        return np.ascontiguousarray(face[::-1])
    k = 4  # scrambled: shuffle a 4x4 grid of patches
    h = face.shape[0] // k
    patches = [face[i * h:(i + 1) * h, j * h:(j + 1) * h] for i in range(k) for j in range(k)]
    order = rng.permutation(len(patches))
    rows = [np.concatenate([patches[order[i * k + j]] for j in range(k)], axis=1) for i in range(k)]
    return np.concatenate(rows, axis=0)


def background(size: int, rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(4)
    if kind == 0:  # flat colour
        return np.broadcast_to(rng.integers(0, 256, 3, dtype=np.uint8), (size, size, 3)).copy()
    if kind == 1:  # two-colour gradient
        a, b = rng.integers(0, 256, (2, 3)).astype(np.float32)
        w = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
        g = a * (1 - w) + b * w
        return np.broadcast_to(g if rng.random() < 0.5 else g.transpose(1, 0, 2), (size, size, 3)).astype(np.uint8)
    if kind == 2:  # smooth coloured noise
        small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        return np.array(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC))
    img = Image.new("RGB", (size, size), tuple(int(c) for c in rng.integers(0, 256, 3)))  # shapes
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(2, 8)):
        x0, y0 = rng.integers(0, size, 2)
        x1, y1 = x0 + rng.integers(5, size), y0 + rng.integers(5, size)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    return np.array(img)


def paste(canvas: np.ndarray, patch: np.ndarray, size: int, rng: np.random.Generator,
          taken: list) -> tuple[int, int, int, int] | None:
    """Paste `patch` resized to size x size where it overlaps no earlier box; return its box or None."""
    n = canvas.shape[0]
    for _ in range(20):
        x, y = rng.integers(0, n - size + 1, 2)
        if all(x + size <= a or a + s <= x or y + size <= b or b + s <= y for a, b, s in taken):
            canvas[y:y + size, x:x + size] = np.asarray(Image.fromarray(patch).resize((size, size),
                                                                                      Image.Resampling.BICUBIC))
            taken.append((x, y, size))
            return int(x), int(y), size, size
    return None


def make_scene(faces: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """One scene and its face boxes (x, y, w, h); a quarter are a single face filling the frame."""
    pick = lambda: faces[rng.integers(len(faces))]  # noqa: E731
    if rng.random() < 0.25:  # the AFD case: the whole image is one face, or one non-face
        if rng.random() < 0.7:
            face = pick()
            return np.asarray(Image.fromarray(face[:, ::-1] if rng.random() < 0.5 else face).resize(
                (size, size), Image.Resampling.BICUBIC)), [(0, 0, size, size)]
        neg = make_negative(pick(), NEGATIVES[rng.integers(len(NEGATIVES))], rng)
        return np.asarray(Image.fromarray(neg).resize((size, size), Image.Resampling.BICUBIC)), []
    canvas, taken, boxes = background(size, rng), [], []
    for _ in range(rng.integers(0, 4)):
        box = paste(canvas, pick(), int(rng.integers(size // 4, size * 3 // 4 + 1)), rng, taken)
        if box:
            boxes.append(box)
    for _ in range(rng.integers(0, 3)):
        neg = make_negative(pick(), NEGATIVES[rng.integers(len(NEGATIVES))], rng)
        paste(canvas, neg, int(rng.integers(size // 4, size // 2 + 1)), rng, taken)
    return canvas, boxes


def write_dataset(faces: np.ndarray, root: str, n_train: int, n_val: int, size: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("val", n_val)):
        os.makedirs(os.path.join(root, "images", split), exist_ok=True)
        os.makedirs(os.path.join(root, "labels", split), exist_ok=True)
        for i in range(n):
            img, boxes = make_scene(faces, size, rng)
            Image.fromarray(img).save(os.path.join(root, "images", split, f"{i}.jpg"), quality=95)
            with open(os.path.join(root, "labels", split, f"{i}.txt"), "w") as f:
                f.writelines(f"0 {(x + w / 2) / size:.6f} {(y + h / 2) / size:.6f} {w / size:.6f} {h / size:.6f}\n"
                             for x, y, w, h in boxes)
    yaml = os.path.join(root, "data.yaml")
    with open(yaml, "w") as f:
        f.write(f"path: {os.path.abspath(root)}\ntrain: images/train\nval: images/val\nnames:\n  0: face\n")
    return yaml


def export(best_pt: str, out: str, info: dict) -> None:
    """ultralytics' best.pt (our own file) -> fp16 safetensors + detector.json."""
    det.import_ultralytics()
    from ultralytics import YOLO

    from lab.checkpoint import write_checkpoint

    state = YOLO(best_pt).model.float().state_dict()
    write_checkpoint(out, {k: v.half() if v.is_floating_point() else v for k, v in state.items()},
                     {"format": det.OWN_FORMAT, "yaml": "yolov8n.yaml", "names": ["face"], **info}, "detector.json")


def evaluate(out: str, faces: np.ndarray, checkpoint: str, n_generated: int) -> dict:
    """Precision/recall on held-out faces vs negatives at the HW6 settings; agreement with lbpcascade."""
    rng = np.random.default_rng(123)
    ours = det.YoloDetector(out, **det.HW6_SETTINGS)
    to64 = lambda a: np.asarray(Image.fromarray(a).resize((64, 64), Image.Resampling.BICUBIC))  # noqa: E731
    real = [to64(f) for f in faces]
    hit_real = [len(b) > 0 for b in ours.detect_batch(real)]
    report = {"held_out_real_faces": len(real), "recall": float(np.mean(hit_real)), "negatives": {}}
    false_pos = 0
    for kind in NEGATIVES:
        negs = [to64(make_negative(f, kind, rng)) for f in faces]
        rate = float(np.mean([len(b) > 0 for b in ours.detect_batch(negs)]))
        report["negatives"][kind] = rate
        false_pos += rate * len(negs)
    tp = sum(hit_real)
    report["precision"] = tp / (tp + false_pos) if tp + false_pos else 0.0  # real faces vs all negatives, pooled
    if checkpoint and n_generated:
        from lab.checkpoint import load_checkpoint
        from lab.pipeline import generate_batches

        model = load_checkpoint(checkpoint)
        gen = [img for _, b in generate_batches(model, list(range(n_generated))) for img in b]
        a = np.array([len(b) > 0 for b in ours.detect_batch(gen)])
        c = np.array([len(b) > 0 for b in det.LbpCascadeDetector().detect_batch(gen)])
        report["generated"] = {"checkpoint": checkpoint, "n": n_generated, "sampler": "dpm-solver 20",
                               "ours_rate": float(a.mean()), "lbpcascade_rate": float(c.mean()),
                               "agreement": float((a == c).mean())}
    return report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=paths.FACES)
    p.add_argument("--out", default=det.DEFAULT_OWN)
    p.add_argument("--work", default="runs/afd", help="scenes and the ultralytics run go here")
    p.add_argument("--held-out", type=int, default=1000, help="the last N faces by name are never trained on")
    p.add_argument("--train-scenes", type=int, default=6000)
    p.add_argument("--val-scenes", type=int, default=500)
    p.add_argument("--scene-size", type=int, default=96)
    p.add_argument("--imgsz", type=int, default=64)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--checkpoint", default="checkpoints/anime-64", help="for the agreement check ('' skips it)")
    p.add_argument("--generated", type=int, default=1000)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    det.import_ultralytics()
    from ultralytics import YOLO

    names = list_images(args.data)
    train_names, held_names = names[:-args.held_out], names[-args.held_out:]
    run_dir = os.path.abspath(os.path.join(args.work, "run"))
    last = os.path.join(run_dir, "weights", "last.pt")
    t0 = time.time()
    if args.resume and os.path.isfile(last):
        YOLO(last).train(resume=True)
    else:
        yaml = os.path.join(args.work, "scenes", "data.yaml")
        if not os.path.isfile(yaml):
            print(f"writing {args.train_scenes} + {args.val_scenes} scenes from {len(train_names)} faces …")
            yaml = write_dataset(load_faces(args.data, train_names), os.path.join(args.work, "scenes"),
                                 args.train_scenes, args.val_scenes, args.scene_size, args.seed)
        YOLO("yolov8n.yaml").train(
            data=yaml, imgsz=args.imgsz, epochs=args.epochs, batch=args.batch, device="cpu", workers=2,
            project=os.path.dirname(run_dir), name="run", exist_ok=True, pretrained=False, amp=False, plots=False,
            seed=args.seed, deterministic=True, flipud=0.0, fliplr=0.5, mosaic=0.5, degrees=5.0, patience=100)
    minutes = (time.time() - t0) / 60
    export(os.path.join(run_dir, "weights", "best.pt"), args.out,
           {"imgsz": args.imgsz, "epochs": args.epochs, "train_scenes": args.train_scenes,
            "trained_by": "bench/train_detector.py", "train_minutes": round(minutes, 1),
            "held_out": f"the last {args.held_out} files of {os.path.basename(os.path.normpath(args.data))} by name"})
    report = evaluate(args.out, load_faces(args.data, held_names), args.checkpoint, args.generated)
    report["train_minutes"] = round(minutes, 1)
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
