"""The Detect (AFD) tab: anime-face boxes with confidences on generated or uploaded images, and the AFD
rate (the fraction of images with at least one face) over them. Also the detector used by the Batch tab."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw

from evaluation import detect as det
from evaluation.measures import MEASURES
from lab import inputs
from lab.pipeline import generate_batches
from lab.registry import REGISTRY
from lab.uploads import read_images

from . import limits
from .common import DEFAULT_CHECKPOINT, DETECTOR_CHOICES, UNCHANGED, describe, font, get_detector, last  # noqa: F401
from .messages import tr
from .tab import CHECKPOINT, Choice, Files, Input, Int, Seed, Tab

EXPLANATION = ("Anime-face boxes with confidences, and the **AFD rate**: the fraction of images with at least one "
               "face, as HW6 scores a submission (YOLOv8 `yolov8x6_animeface.pt`, conf 0.8, iou 0.8, imgsz 64). "
               "Upload images or a zip, or leave the upload empty to detect on generated faces. Without the "
               "homework's weights, our own small YOLOv8n or the lbpcascade detector runs instead, and the result "
               "says which. **Grade my submission:** upload your HW6 zip (1000 images) and it is also scored with "
               "**FFD**, our FID: the distance to real faces in the features of a face encoder trained here "
               "(lower is better), beside the shipped models' FFD at the same number of images.")
MAX_GENERATED = 64
MAX_UPLOADED = 1000
SHOWN = 64


def load_uploads(paths: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB) for each uploaded image and each image inside an uploaded zip, checked before decoding
    (lab.uploads)."""
    return read_images(paths, MAX_UPLOADED)


def annotate(image: np.ndarray, boxes: list[det.Box], min_side: int = 192) -> np.ndarray:
    """The image (enlarged to at least `min_side` px, nearest-neighbour) with its boxes and confidences."""
    h, w = image.shape[:2]
    k = max(1, -(-min_side // min(h, w)))
    im = Image.fromarray(image).resize((w * k, h * k), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(im)
    for x1, y1, x2, y2, conf in boxes:
        draw.rectangle([x1 * k, y1 * k, x2 * k - 1, y2 * k - 1], outline=(0, 255, 0), width=max(2, k // 2))
        label = "face" if conf is None else f"face {conf:.2f}"
        draw.text((x1 * k + 3, y1 * k + 2), label, fill=(0, 255, 0), stroke_width=2, stroke_fill=(0, 0, 0),
                  font=font(11))
    return np.asarray(im)


DETECT_CHUNK = 16  # images per detector call: Stop ends the work within one chunk


def detect_stream(files: Sequence[str] | None = None, seed: int = 0, num_images: int = 16,
                  detector: str = "Best available", checkpoint: str = DEFAULT_CHECKPOINT,
                  progress: Callable[[float, str], None] | None = None) -> Iterator[tuple]:
    """Boxes on the uploaded images (or zip), or on `num_images` faces generated from `seed` when nothing is
    uploaded. Yields (UNCHANGED, status) while it works, then (annotated images with captions, markdown
    summary with the AFD rate)."""
    detector_ = get_detector(detector)
    deadline = limits.LIMITS.deadline()
    if files:
        named = load_uploads([files] if isinstance(files, str) else files)
        source = tr(f"{len(named)} uploaded image(s)", f"{len(named)} 張上傳的圖片")
    else:
        seeds = inputs.seeds(seed, num_images, MAX_GENERATED)
        images = []
        for _, batch in generate_batches(REGISTRY.model(checkpoint), seeds, ticks=True):
            deadline.check()
            if batch is not None:
                images += list(batch)
            yield UNCHANGED, tr("generating faces …", "正在生成人臉 …")
        named = [(tr(f"seed {s}", f"種子 {s}"), img) for s, img in zip(seeds, images)]
        source = tr(f"{len(named)} image(s) generated on {checkpoint} (seeds {seeds[0]}–{seeds[-1]}, DPM-Solver++ 20)",
                    f"{len(named)} 張由 {checkpoint} 生成的圖（種子 {seeds[0]}–{seeds[-1]}，DPM-Solver++ 20）")
    boxes: list = []
    for i in range(0, len(named), DETECT_CHUNK):
        deadline.check()
        boxes += detector_.detect_batch([img for _, img in named[i:i + DETECT_CHUNK]])
        n = len(named)
        if progress:
            progress(len(boxes) / n, tr(f"detecting faces: {len(boxes)}/{n}", f"正在偵測人臉：{len(boxes)}/{n}"))
        yield UNCHANGED, tr(f"detecting faces: {len(boxes)}/{n} …", f"正在偵測人臉：{len(boxes)}/{n} …")
    found, n = sum(len(b) > 0 for b in boxes), len(named)
    graded = grade([img for _, img in named]) if files else ""
    shown = [(annotate(img, b), caption(name, b)) for (name, img), b in list(zip(named, boxes))[:SHOWN]]
    summary = tr(f"Detector: {describe(detector_)}.\n\n**AFD rate: {found}/{n} = {found / n:.1%}** "
                 f"of {source} have at least one face." + (f" Showing the first {SHOWN}." if n > SHOWN else ""),
                 f"偵測器：{describe(detector_)}。\n\n**AFD 比率：{found}/{n} = {found / n:.1%}**："
                 f"{source}中至少有一張臉的比例。" + (f"只顯示前 {SHOWN} 張。" if n > SHOWN else ""))
    yield shown, summary + graded


def grade(images: list[np.ndarray]) -> str:
    """The FFD paragraph of an uploaded set: its distance to the held-out real faces, beside the references the
    encoder shipped with (measured at 1000 images; FFD grows as n shrinks, so fewer images read worse)."""
    from evaluation.face_features import ffd

    if len(images) < 2:
        return ""
    try:
        model = MEASURES.face_features()
    except ValueError as e:
        return tr(f"\n\nFFD: n/a — {e}", f"\n\nFFD：無法計算（找不到人臉編碼器）— {e}")
    value = ffd(np.stack([np.asarray(i) for i in images]), model)
    refs = model.config.get("references", {})
    ref_en = "; ".join(f"{k}: {v:.2f}" for k, v in refs.items())
    ref_zh = "；".join(f"{REFERENCE_ZH.get(k, k)}：{v:.2f}" for k, v in refs.items())
    few = len(images) < 1000
    return tr(f"\n\n**FFD: {value:.2f}** (Fréchet face distance to real faces; lower is better"
              + (f"; at 1000 images: {ref_en}" if refs else "") + ")."
              + (f" With {len(images)} images FFD reads higher than at 1000: upload 1000 to compare." if few else ""),
              f"\n\n**FFD：{value:.2f}**（與真實人臉的 Fréchet 人臉距離；越低越好"
              + (f"；1000 張時：{ref_zh}" if refs else "") + "）。"
              + (f"只有 {len(images)} 張時 FFD 會比 1000 張時偏高：請上傳 1000 張再比較。" if few else ""))


REFERENCE_ZH = {"real faces": "真實人臉", "blur σ 0.5 px": "模糊 σ 0.5 px"}


def caption(name: str, boxes: list[det.Box]) -> str:
    """'seed 3: 1 face(s), best 0.91' under an image in the gallery."""
    best = max(c for *_, c in boxes) if boxes and boxes[0][4] is not None else None
    return tr(f"{name}: {len(boxes)} face(s)" + (f", best {best:.2f}" if best is not None else ""),
              f"{name}：{len(boxes)} 張臉" + (f"，最高 {best:.2f}" if best is not None else ""))


def detect(*args, **kwargs) -> tuple[list[tuple[np.ndarray, str]], str]:
    return last(detect_stream(*args, **kwargs))


# ----------------------------------------------------------------------------- the tab

STRINGS = {
    "Detect (AFD)": "偵測 (AFD)", "Detect": "偵測", "Images or a .zip (optional)": "圖片或 .zip（可不上傳）",
    "Seed (when nothing is uploaded)": "種子（未上傳時使用）", "Generated images": "生成圖片數", "Detector": "偵測器",
    "Detected faces": "偵測到的人臉",
    "Best available": "可用的最佳偵測器", "YOLOv8 yolov8x6_animeface.pt (HW6)": "YOLOv8 yolov8x6_animeface.pt（HW6）",
    "Our YOLOv8n (not the HW6 detector)": "我們的 YOLOv8n（不是 HW6 的偵測器）", "lbpcascade (OpenCV)": "lbpcascade（OpenCV）",
    EXPLANATION: "動漫人臉框與信心分數，以及 **AFD 比率**：至少有一張臉的圖片所占的比例，與 HW6 評分繳交作業的方式相同"
                 "（YOLOv8 `yolov8x6_animeface.pt`，conf 0.8、iou 0.8、imgsz 64）。可上傳圖片或 zip，或不上傳而直接偵測"
                 "生成的人臉。沒有作業的權重時，改用我們自己的小型 YOLOv8n 或 lbpcascade 偵測器，結果會註明用的是哪一個。"
                 "**替我的作業評分**：上傳你的 HW6 zip（1000 張圖），也會得到 **FFD** 分數，也就是我們的 FID：在本專案"
                 "訓練的人臉編碼器特徵中，與真實人臉的距離（越低越好），並與內附模型在相同張數下的 FFD 並列比較。",
}


def _layout(ui):
    import gradio as gr

    from lab import uploads

    from .i18n import T, both

    mb, n = uploads.MAX_FILE_BYTES // 2**20, uploads.MAX_IMAGES
    gr.Markdown(both(EXPLANATION + f" Uploads: at most {mb} MB a file and {n} images per run.",
                     STRINGS[EXPLANATION] + f"上傳限制：每個檔案最多 {mb} MB，每次最多 {n} 張圖片。"))
    with gr.Row():
        with gr.Column(scale=1):
            ui.make("files", "seed", "num_images", "detector")
            ui.run("Detect")
            ui.expected()
        with gr.Column(scale=2):
            info = gr.Markdown(elem_id="afd-info")
            gallery = gr.Gallery(label=T("Detected faces"), columns=4, height="auto", format="png",
                                 elem_id="afd-gallery")
    return [gallery, info]


TAB = Tab(
    "detect", "afd", "Detect (AFD)", detect_stream,
    (Input("files", Files(multiple=True, types=("image", ".zip")), None, "Images or a .zip (optional)", link=False,
           elem_id="afd-files"),
     Input("seed", Seed(), 0, "Seed (when nothing is uploaded)"),
     Input("num_images", Int(1, MAX_GENERATED), 16, "Generated images", elem_id="afd-num"),
     Input("detector", Choice(list(DETECTOR_CHOICES), widget="dropdown", translate=True), "Best available", "Detector"),
     CHECKPOINT),
    _layout,
    examples=(("8 faces from seed 100", dict(seed=100, num_images=8)),
              ("8 faces from seed 200 · lbpcascade", dict(seed=200, num_images=8, detector="lbpcascade (OpenCV)"))),
    expected=lambda ex: (f"Here: 16 generated faces (DPM-Solver++ 20) take {ex(16, 20)}.",
                         f"本機：生成 16 張人臉（DPM-Solver++ 20）{ex(16, 20, 'zh')}。"),
    strings=STRINGS,
)
