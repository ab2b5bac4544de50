"""What several tabs show the same way: sampler and detector names as the UI words them, and how a
detector is described. Models and detectors themselves come from lab.registry."""
from __future__ import annotations

import os
from contextlib import contextmanager

from evaluation.measures import MEASURES
from lab import inputs
from lab.fonts import TC_FACE, cjk_family, cjk_font  # noqa: F401 (cjk_font: the tabs and tests read it here)
from lab.models import SAMPLER_DISPLAY, SAMPLER_LABELS
from lab.pipeline import own
from lab.registry import REGISTRY

from .messages import chinese, tr

SAMPLER_NAMES = SAMPLER_LABELS  # the UI shows the sampler table's display names
DETECTOR_CHOICES = {"Best available": "auto", "YOLOv8 yolov8x6_animeface.pt (HW6)": "yolov8x6",
                    "Our YOLOv8n (not the HW6 detector)": "ours", "lbpcascade (OpenCV)": "lbpcascade"}
DEFAULT_CHECKPOINT = REGISTRY.default


def sampler_name(label: str) -> str:
    """The pipeline's name for a UI sampler label."""
    return SAMPLER_NAMES[inputs.one_of(label, "sampler", SAMPLER_NAMES)]


def check_request(model, sampler: str | None, steps: int | None, eta: float | None, psi: float = 1.0):
    """model.check of a UI sampler label, steps and eta; where no sampler is named (a Python caller), the model's
    own setting: DPM-Solver++ 20 for a teacher, what a distilled student was made for."""
    return model.check(*own(model, None if sampler is None else sampler_name(sampler), steps, eta), psi)


def get_detector(choice: str = "Best available"):
    """The detector for a UI choice, from the registry (loaded once)."""
    return MEASURES.detector(DETECTOR_CHOICES[inputs.one_of(choice, "detector", DETECTOR_CHOICES)])


def describe(detector) -> str:
    if getattr(detector, "is_homework_detector", False):
        settings = f"conf {detector.conf}, iou {detector.iou}, imgsz {detector.imgsz}"
        return tr(f"**{detector.name}**, the HW6 detector ({settings})", f"**{detector.name}**，HW6 的偵測器（{settings}）")
    return tr(f"**{detector.name}** — not the homework's YOLOv8 detector, so its rate is an estimate of HW6's AFD",
              f"**{detector.name}**——不是作業的 YOLOv8 偵測器，所以它的比率只是 HW6 AFD 的估計")


def at_step(i: int, n: int) -> str:
    """'step i/n' in the visitor's language (progress and statuses)."""
    return tr(f"step {i}/{n}", f"第 {i}/{n} 步")


def drawn(english: str, chinese_: str) -> str:
    """Text for an image or plot: Chinese for a Chinese browser when a CJK font is here, else English."""
    return chinese_ if chinese() and cjk_font() else english


def font(size: int):
    """A PIL font of `size` px that has the glyphs `drawn` may return: the CJK font for Chinese, else DejaVu Sans
    (shipped with matplotlib; PIL's own default has no arrows, so "→" came out as a box)."""
    from PIL import ImageFont

    path = cjk_font()
    if path and chinese():
        return ImageFont.truetype(path, size, index=TC_FACE if path.endswith(".ttc") else 0)
    import matplotlib

    return ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"), size)


def missing_glyphs(text: str, type_) -> str:
    """The characters of `text` that `type_` (a PIL font) would draw as its missing-glyph box."""
    box = bytes(type_.getmask("\ufffe"))  # a non-character: every font draws it as .notdef
    return "".join(sorted({c for c in text if not c.isspace() and bytes(type_.getmask(c)) == box}))


@contextmanager
def plot_style():
    """matplotlib settings for our plots: Agg, and a CJK font to fall back on for Chinese titles."""
    import matplotlib

    matplotlib.use("Agg")
    families = ["DejaVu Sans"] + ([cjk_family()] if cjk_font() and chinese() else [])
    with matplotlib.rc_context({"font.family": families}):
        yield


class _Unchanged:
    """Yielded by a tab's stream for an output that stays as it is (app.py turns it into gr.skip())."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


def follow_checkpoint(checkpoint: str, sampler: str, steps: int, eta: float) -> tuple[str, int, float]:
    """A tab's sampler, steps and eta once the shared picker changes checkpoint: they stay while the new checkpoint
    takes them, else become what it is sampled with (a distilled student: the sampler and steps it was made for),
    so picking a student never leaves a tab on a setting it would refuse."""
    try:
        model = REGISTRY.model(checkpoint)
    except ValueError:
        return sampler, steps, eta
    try:
        model.check(sampler_name(sampler), steps, eta)
        return sampler, steps, eta
    except ValueError:
        name, default_steps, default_eta = model.default_sampler()
        return SAMPLER_DISPLAY[name], default_steps, default_eta


def teacher_of(checkpoint: str) -> str | None:
    """A distilled student's teacher, where it is one of the checkpoints here; None for anything else."""
    name = REGISTRY.model(checkpoint).teacher()
    return name if name and name != checkpoint and name in REGISTRY.names("diffusion") else None


def teaching(checkpoint: str, sampler: str, steps: int, eta: float) -> str:
    """The checkpoint a teaching tab (Denoising) runs: the one picked, except a distilled student asked for a
    setting it was not made for while its teacher is here, which the teacher runs: the lesson is the many steps."""
    teacher = teacher_of(checkpoint)
    if teacher is None:
        return checkpoint
    try:
        REGISTRY.model(checkpoint).check(sampler_name(sampler), steps, eta)
        return checkpoint
    except ValueError:
        return teacher


def teaching_setting(sampler: str, steps: int, eta: float) -> tuple[str, int, float]:
    """A teaching tab's default: its own setting, which the default checkpoint's teacher (or it) runs."""
    default = REGISTRY.default
    try:
        default = teacher_of(default) or default
    except ValueError:  # no such checkpoint here: the run itself will say so
        pass
    return follow_checkpoint(default, sampler, steps, eta)


def teaching_defaults(sampler: str, steps: int, eta: float) -> tuple:
    """teaching_setting's three values as Input defaults, read when the app is built."""
    return tuple((lambda i=i: teaching_setting(sampler, steps, eta)[i]) for i in range(3))


def default_setting(sampler: str, steps: int, eta: float) -> tuple[str, int, float]:
    """A tab's teaching default (sampler label, steps, eta) while the default checkpoint takes it, else what that
    checkpoint is made for: with a distilled student as the default, every tab still starts on a setting it runs."""
    return follow_checkpoint(REGISTRY.default, sampler, steps, eta)


def sampler_defaults(sampler: str, steps: int, eta: float) -> tuple:
    """default_setting's three values as Input defaults, each read when the app is built (demo/tab.py)."""
    return tuple((lambda i=i: default_setting(sampler, steps, eta)[i]) for i in range(3))


def takes(checkpoint: str | None, values: dict) -> bool:
    """Whether `checkpoint` samples with an example's sampler, steps and eta (an example it would refuse is not
    shown)."""
    if not checkpoint or "sampler" not in values:
        return True
    try:
        REGISTRY.model(checkpoint).check(sampler_name(values["sampler"]), values.get("steps"), values.get("eta", 0.0))
        return True
    except ValueError:
        return False


def last(stream):
    """The final value of a tab's stream: what the plain (non-streaming) call returns."""
    result = None
    for result in stream:
        pass
    return result


def labelled_grid(cells: list[list], row_labels: list[str], col_labels: list[str], scale: int = 2,
                  left: int = 90, top: int = 24, pad: int = 4):
    """Images (uint8 [H, W, 3], or None for an empty cell) in rows and columns on one white image, enlarged
    `scale` times (nearest neighbour, so a projector shows pixels), row labels at the left, column labels on
    top: the labels are part of the picture, so nothing in the page can cover them."""
    import numpy as np
    from PIL import Image, ImageDraw

    first = next(c for row in cells for c in row if c is not None)
    h, w = first.shape[0] * scale, first.shape[1] * scale
    canvas = Image.new("RGB", (left + len(col_labels) * (w + pad) - pad, top + len(row_labels) * (h + pad) - pad),
                       "white")
    draw = ImageDraw.Draw(canvas)
    type_ = font(14)
    for j, label in enumerate(col_labels):
        draw.text((left + j * (w + pad) + 2, 4), label, fill="black", font=type_)
    for i, label in enumerate(row_labels):
        draw.text((4, top + i * (h + pad) + h // 2 - 8), label, fill="black", font=type_)
        for j, cell in enumerate(cells[i]):
            if cell is not None:
                canvas.paste(Image.fromarray(cell).resize((w, h), Image.Resampling.NEAREST),
                             (left + j * (w + pad), top + i * (h + pad)))
    return np.asarray(canvas)
