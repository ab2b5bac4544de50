"""The Generate tab: seed → images. `generate` is a plain function (`generate_stream` shows the first image
before the rest); `TAB` declares the tab (demo/tab.py)."""
from __future__ import annotations

import random
import time
from collections.abc import Iterator

import numpy as np

from lab import inputs
from lab.pipeline import batches
from lab.registry import REGISTRY

from . import limits
from .common import DEFAULT_CHECKPOINT, SAMPLER_NAMES, check_request, default_setting, last, sampler_defaults
from .messages import tr
from .tab import CHECKPOINT, Bool, Choice, Input, Int, Real, Seed, Tab

MAX_IMAGES = 64
FIRST_SHOWN = 2  # images shown before the rest are made


def generate(seed: int, num_images: int, sampler: str | None = None, steps: int | None = None,
             eta: float | None = None, checkpoint: str = DEFAULT_CHECKPOINT, randomize: bool = False,
             psi: float = 1.0) -> tuple[list[np.ndarray], str, int]:
    """Images for seeds seed … seed+n-1, a one-line summary, and the seed used."""
    return last(generate_stream(seed, num_images, sampler, steps, eta, checkpoint, randomize, psi))


def generate_stream(seed: int, num_images: int, sampler: str | None = None, steps: int | None = None,
                    eta: float | None = None, checkpoint: str = DEFAULT_CHECKPOINT, randomize: bool = False,
                    psi: float = 1.0) -> Iterator[tuple[list[np.ndarray], str, int]]:
    """The first two seeds' images as soon as they are made, then all of them with the summary: an image depends
    on its seed alone, whatever the batch, so those are the same faces either way."""
    count = inputs.whole(num_images, "number of images", 1, MAX_IMAGES)
    if randomize:
        seed = random.randint(0, inputs.MAX_SEED - count + 1)
    seeds = inputs.seeds(seed, count, MAX_IMAGES)
    model = REGISTRY.model(checkpoint)
    settings = check_request(model, sampler, steps, eta, psi)  # the one validation of this request
    limits.LIMITS.check_cost(count, model.evaluations(settings), "this request")
    t0 = time.perf_counter()
    images = []
    # the first two seeds alone (a lone image runs as a pair anyway: batch invariance), then the rest
    for chunk in ([seeds[:FIRST_SHOWN], seeds[FIRST_SHOWN:]] if count > FIRST_SHOWN else [seeds]):
        images += [img for _, imgs in batches(model, chunk, settings, MAX_IMAGES) for img in imgs]
        if len(images) < count:
            yield list(images), tr(f"seeds {seeds[0]}–{seeds[1]} done; the other {count - 2} are on their way …",
                                   f"種子 {seeds[0]}–{seeds[1]} 完成；其餘 {count - 2} 張生成中 …"), seeds[0]
    seconds = time.perf_counter() - t0
    how = tr(*model.how(settings))
    info = tr(f"{count} image(s), seeds {seeds[0]}–{seeds[-1]}, {how}: {seconds:.2f} s "
              f"({seconds / count:.2f} s per image) on {checkpoint}",
              f"{count} 張圖，種子 {seeds[0]}–{seeds[-1]}，{how}：{seconds:.2f} 秒"
              f"（每張 {seconds / count:.2f} 秒），模型 {checkpoint}")
    yield images, info, seeds[0]


# ----------------------------------------------------------------------------- the tab

STRINGS = {
    "Generate": "生成", "Seed (the images use seeds seed, seed+1, …)": "種子（各圖依序使用種子 seed, seed+1, …）",
    "Randomize seed": "隨機種子", "Number of images": "圖片數量", "Sampler": "取樣器",
    "Steps (DDPM always uses all 1000)": "步數（DDPM 固定使用全部 1000 步）",
    "eta (DDIM: 0 deterministic, 1 like DDPM)": "eta（DDIM：0 為確定性，1 近似 DDPM）",
    "Truncation ψ (StyleGAN only: 1 = none, lower = nearer the average face)":
        "截斷 ψ（僅 StyleGAN：1 = 不截斷，越小越接近平均臉）",
    "Generated faces (download: the gallery's buttons)": "生成的人臉（可用圖庫按鈕下載）",
}
PSI_LABEL = "Truncation ψ (StyleGAN only: 1 = none, lower = nearer the average face)"
TEACHING_DEFAULT = ("DPM-Solver++", 10, 0.0)  # while the default checkpoint takes it (a student: what it takes)
DEFAULTS = sampler_defaults(*TEACHING_DEFAULT)


def first_view() -> dict:
    """What the faces on first load are made with: seeds 0–7 at the tab's defaults."""
    sampler, steps, eta = default_setting(*TEACHING_DEFAULT)
    return dict(seed=0, num_images=8, sampler=sampler, steps=steps, eta=eta)


def _expected(ex) -> tuple[str, str]:
    sampler, steps, _ = default_setting(*TEACHING_DEFAULT)
    return (f"Here: 8 images at {sampler} {steps} steps take {ex(8, steps)}; DDPM {ex(1, 1000)} per image.",
            f"本機：8 張圖、{sampler} {steps} 步{ex(8, steps, 'zh')}；DDPM 每張{ex(1, 1000, 'zh')}。")


def _layout(ui):
    import gradio as gr

    from .i18n import T, both

    first = first_view()
    first_images = generate(**first, checkpoint=ui.shared.default_checkpoint)[0] \
        if ui.shared.default_checkpoint else []
    with gr.Row():
        with gr.Column(scale=1):
            ui.make("seed", "randomize", "num_images", "sampler", "steps", "eta", "checkpoint", "psi")
            ui.run("Generate", stop=False)
            ui.expected()
        with gr.Column(scale=2):
            gallery = gr.Gallery(value=first_images or None, columns=4, height="auto", format="png",
                                 label=T("Generated faces (download: the gallery's buttons)"), elem_id="gen-gallery")
            how = f"{first['sampler']} {first['steps']}"
            info = gr.Markdown(both(f"Seeds 0–7, {how} steps: press Generate for your own.",
                                    f"種子 0–7，{how} 步：按「生成」產生你自己的。")
                               if first_images else "", elem_id="gen-info")
    return [gallery, info, ui.components["seed"]]


TAB = Tab(
    "generate", "gen", "Generate", generate_stream,
    (Input("seed", Seed(), 0, "Seed (the images use seeds seed, seed+1, …)"),
     Input("num_images", Int(1, MAX_IMAGES), 8, "Number of images"),
     Input("sampler", Choice(list(SAMPLER_NAMES)), DEFAULTS[0], "Sampler"),
     Input("steps", Int(1, 1000), DEFAULTS[1], "Steps (DDPM always uses all 1000)"),
     Input("eta", Real(0, 1), DEFAULTS[2], "eta (DDIM: 0 deterministic, 1 like DDPM)"),
     CHECKPOINT,
     Input("randomize", Bool(), False, "Randomize seed", link=False),
     Input("psi", Real(0, 1), 1.0, PSI_LABEL, elem_id="gen-psi")),
    _layout,
    examples=(("seed 7 · DDIM 20", dict(seed=7, sampler="DDIM", steps=20)),
              ("seed 42 · DPM-Solver++ 20", dict(seed=42, sampler="DPM-Solver++", steps=20)),
              ("seed 3 · DDIM 50, eta 1", dict(seed=3, num_images=4, sampler="DDIM", steps=50, eta=1.0)),
              ("seed 2026 · DDIM 2", dict(seed=2026, num_images=16, sampler="DDIM", steps=2))),  # the student's
    expected=_expected,
    strings=STRINGS,
)
