"""The "DDPM vs DDIM vs StyleGAN" tab: the same number of images from each, with the wall time per image
and the AFD rate measured live, so a class sees the one-pass GAN beside the many-step samplers. A distilled
student picked (the app's default) runs its own few steps in a row of its own; its teacher runs DDPM and DDIM."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw

from lab import inputs
from lab.pipeline import sample_images, stream, to_uint8
from lab.registry import REGISTRY

from . import limits
from .common import UNCHANGED, at_step, describe, drawn, font, get_detector, last, teacher_of
from .messages import tr
from .common import DETECTOR_CHOICES
from .tab import Bool, Choice, Input, Int, Seed, Tab

MAX_IMAGES = 16


def labelled_rows(rows: list[tuple[str, np.ndarray]], scale: int = 2, label_w: int = 230) -> np.ndarray:
    """One labelled row of images per method."""
    size = rows[0][1].shape[1] * scale
    n = max(len(imgs) for _, imgs in rows)
    canvas = Image.new("RGB", (label_w + n * (size + 4), len(rows) * (size + 4)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (label, imgs) in enumerate(rows):
        draw.multiline_text((6, r * (size + 4) + size // 2 - 14), label, fill="black", font=font(15))
        for c, img in enumerate(imgs):
            canvas.paste(Image.fromarray(img).resize((size, size), Image.Resampling.NEAREST),
                         (label_w + c * (size + 4), r * (size + 4)))
    return np.asarray(canvas)


def versus(*args, **kwargs) -> tuple[np.ndarray, str]:
    """(labelled grid: a row per method, markdown table of seconds per image and AFD rate)."""
    return last(versus_stream(*args, **kwargs))


def versus_stream(num_images: int = 4, seed: int = 0, ddim_steps: int = 20, include_ddpm: bool | None = None,
                  diffusion_checkpoint: str | None = None, gan_checkpoint: str | None = None,
                  detector: str = "Best available", progress: Callable[[float, str], None] | None = None
                  ) -> Iterator[tuple]:
    """Yields (UNCHANGED, status) after every network evaluation, then (grid, table)."""
    include_ddpm = limits.LIMITS.ddpm_by_default if include_ddpm is None else bool(include_ddpm)
    seeds = inputs.seeds(seed, num_images, MAX_IMAGES)
    diffusion_checkpoint = diffusion_checkpoint or REGISTRY.first("diffusion")
    gan_checkpoint = gan_checkpoint or REGISTRY.first("stylegan")
    student = REGISTRY.diffusion(diffusion_checkpoint, "DDPM and DDIM")
    teacher = teacher_of(diffusion_checkpoint)  # a student: DDPM and DDIM from its teacher, its own steps beside
    model = REGISTRY.diffusion(teacher, "DDPM and DDIM") if teacher else student
    gan = REGISTRY.model(gan_checkpoint)  # any model draws the other column; the UI offers the StyleGANs
    T = model.schedule.num_timesteps
    ddim_steps = inputs.steps(ddim_steps, T, "DDIM steps")
    if include_ddpm:
        limits.LIMITS.check_cost(len(seeds), T, "DDPM here")
    limits.LIMITS.check_cost(len(seeds), ddim_steps, "DDIM here")
    det = get_detector(detector)
    deadline = limits.LIMITS.deadline()
    methods = ([(("DDPM", "DDPM"), model, "ddpm", None)] if include_ddpm else []) + [
        ((f"DDIM {ddim_steps}",) * 2, model, "ddim", ddim_steps)]  # (English, Chinese) label, model, sampler, steps
    if teacher:
        name, steps, _ = student.default_sampler()
        made = student.label(student.check(name, steps))
        methods.append(((f"student, {made}", f"學生模型，{made}"), student, name, steps))
    total = sum(T if s is None else s for _, _, _, s in methods) + 1
    done, rows, table = 0, [], []

    def report(frac: float, what: str) -> None:
        if progress:
            progress(frac, what)

    for labels, runner, name, steps in methods:
        label = tr(*labels)
        t0 = time.perf_counter()
        run = stream(runner, name, steps, 0.0, seeds=seeds)
        try:
            for step in run:  # pulled step by step: the bar moves during DDPM's 1000 steps, and Stop stops it
                deadline.check()
                if step.index % 25 == 0:
                    report((done + step.index) / total, f"{label}: {at_step(step.index + 1, step.total)}")
                x = step.x
                yield UNCHANGED, f"{label}: {at_step(step.index + 1, step.total)} …"
        finally:
            run.close()
        seconds = time.perf_counter() - t0
        done += step.total
        rows.append((labels, to_uint8(x), seconds, tr(f"{step.total} network evaluations", f"{step.total} 次網路運算")))
    report(done / total, "StyleGAN …")
    t0 = time.perf_counter()
    images = sample_images(gan, seeds)
    rows.append((("StyleGAN", "StyleGAN"), images, time.perf_counter() - t0, tr("1 generator pass", "生成器運算 1 次")))
    report(1.0, tr("detecting faces …", "正在偵測人臉 …"))
    n = len(seeds)
    for labels, imgs, seconds, how in rows:
        found = sum(len(b) > 0 for b in det.detect_batch(list(imgs)))
        table.append(f"| {tr(*labels)} | {how} | {tr(f'{seconds / n:.3f} s', f'{seconds / n:.3f} 秒')} | "
                     f"{found}/{n} = {found / n:.0%} |")
    grid = labelled_rows([(drawn(f"{en}\n{seconds / n:.2f} s / image", f"{zh}\n每張 {seconds / n:.2f} 秒"), imgs)
                          for (en, zh), imgs, seconds, _ in rows])
    md = (tr("| method | work per image | wall time per image | AFD rate |",
             "| 方法 | 每張圖的運算量 | 每張圖的時間 | AFD 比率 |") + "\n|---|---|---|---|\n" + "\n".join(table)
          + tr(f"\n\nSeeds {seeds[0]}–{seeds[-1]}, batch {n}, this machine, now; diffusion: "
               f"{diffusion_checkpoint}{f' (DDPM and DDIM: its teacher {teacher})' if teacher else ''}, "
               f"GAN: {gan_checkpoint}. AFD by {describe(det)}.",
               f"\n\n種子 {seeds[0]}–{seeds[-1]}，批次 {n}，剛剛在這台機器上量測；擴散模型："
               f"{diffusion_checkpoint}{f'（DDPM 與 DDIM：它的老師 {teacher}）' if teacher else ''}，GAN：{gan_checkpoint}。"
               f"AFD 偵測器：{describe(det)}。"))
    yield grid, md


# ----------------------------------------------------------------------------- the tab

def versus_tab(num_images: int = 4, seed: int = 0, ddim_steps: int = 20, ddpm: bool | None = None,
               detector: str = "Best available", progress: Callable[[float, str], None] | None = None
               ) -> Iterator[tuple]:
    """The tab's handler: the first diffusion and the first StyleGAN checkpoint."""
    yield from versus_stream(num_images, seed, ddim_steps, ddpm, detector=detector, progress=progress)


INTRO = ("The same seeds through DDPM (1000 steps), DDIM and the StyleGAN baseline: the GAN makes an image in one pass, "
         "the diffusion model in many network evaluations, and its distilled student (the default checkpoint) in two, "
         "beside its teacher. Wall time per image and the AFD rate are measured now, on this machine.")
STRINGS = {
    "Diffusion vs GAN": "擴散 vs GAN", "Compare": "比較", "Images per method": "每種方法的圖片數", "Seed": "種子",
    "DDIM steps": "DDIM 步數", "Include DDPM (1000 steps: slow)": "包含 DDPM（1000 步：較慢）", "Detector": "偵測器",
    "A row per method": "每種方法一列",
    INTRO: "相同的種子分別經過 DDPM（1000 步）、DDIM 與 StyleGAN 基準模型：GAN 一次前向即產生圖片，擴散模型則需多次網路"
           "運算，而它的蒸餾學生模型（預設的模型）只要兩次，與老師並列。每張圖片的耗時與 AFD 比率皆在本機即時量測。",
}


def _layout(ui):
    import gradio as gr

    from .i18n import T

    ui.top(INTRO, ("num_images", "seed", "ddim_steps", "ddpm", "detector"), "Compare")
    grid = ui.picture(gr.Image(label=T("A row per method"), format="png", elem_id="vs-grid"))
    table = gr.Markdown(elem_id="vs-table")
    return [grid, table]


TAB = Tab(
    "versus", "vs", "Diffusion vs GAN", versus_tab,
    (Input("num_images", Int(1, MAX_IMAGES), 4, "Images per method", elem_id="vs-num"),
     Input("seed", Seed(), 0, "Seed"),
     Input("ddim_steps", Int(1, 1000), 20, "DDIM steps"),
     Input("ddpm", Bool(), lambda: limits.LIMITS.ddpm_by_default, "Include DDPM (1000 steps: slow)", elem_id="vs-ddpm"),
     Input("detector", Choice(list(DETECTOR_CHOICES), widget="dropdown", translate=True), "Best available", "Detector")),
    _layout,
    examples=(("4 seeds · DDIM 20", dict(ddpm=False)),
              ("4 seeds from 40 · DDIM 10", dict(seed=40, ddim_steps=10, ddpm=False, detector="lbpcascade (OpenCV)"))),
    expected=lambda ex: (f"Here: 4 images with DDIM 20 take {ex(4, 20)}; DDPM adds {ex(4, 1000)}.",
                         f"本機：4 張圖、DDIM 20 步{ex(4, 20, 'zh')}；加入 DDPM 再{ex(4, 1000, 'zh')}。"),
    needs=lambda: bool(REGISTRY.names("stylegan") and REGISTRY.names("diffusion")),
    strings=STRINGS,
)
