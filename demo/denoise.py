"""The Denoising tab: watch x_t and the predicted x̂0 turn from noise into faces, side by side, live.

`denoise_stream` yields, at every step, an image of both rows, so the UI updates while sampling runs;
closing it (the Stop button) closes the sampler and the work stops. Up to MAX_KEPT evenly spaced moments are
kept as frames on disk, so after the run (or a Stop) a slider can go back to any of them without
recomputing; `denoise_outputs` writes an animated GIF and the HW6 Question 1 figure.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw

from lab import inputs
from lab.pipeline import to_uint8
from lab.registry import REGISTRY

from . import files, limits
from .common import DEFAULT_CHECKPOINT, drawn, font, plot_style, sampler_name, teaching, teaching_defaults, teaching_setting
from .messages import tr
from .tab import CHECKPOINT, Choice, Input, Int, Real, Seed, Tab
from .common import SAMPLER_NAMES

MAX_IMAGES = 8
MAX_KEPT = 80  # frames kept per run: the GIF shows up to 60 of them, the Q1 figure 20, the slider all
FIGURE_COLUMNS = 20
ROWS = (("x_t", "x_t"), ("predicted x0", "預測的 x0"))  # drawn on the image (English where no CJK font)
EXPLANATION = (
    "Top row: x_t, the sample as it is at this step. Bottom row: x̂0, the network's guess of the finished face "
    "from x_t. At the first steps x_t is almost pure Gaussian noise and x̂0 is a blurry average face. Coarse "
    "structure (face outline, hair colour, where the eyes go) settles early, in the high-noise steps; later "
    "steps, at low noise, only add fine detail (eye highlights, hair strands, edges) while the remaining noise "
    "is removed. After a run (or Stop), the slider goes back to any kept step.")


def grid(images: np.ndarray, pad: int = 2, scale: int = 1) -> np.ndarray:
    """uint8 [N, H, W, 3] -> one uint8 row image with white gaps, pixels repeated `scale` times."""
    if scale > 1:  # nearest-neighbour, so a projector shows pixels rather than blur
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, _ = images.shape
    out = np.full((h, n * w + (n - 1) * pad, 3), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        out[:, i * (w + pad):i * (w + pad) + w] = img
    return out


def pair(x: np.ndarray, x0: np.ndarray, scale: int = 3, caption: str = "") -> np.ndarray:
    """x_t above x̂0, each row labelled at the left, the caption (the step) on top."""
    rows = [grid(x, scale=scale), grid(x0, scale=scale)]
    left, top, gap = 120, 24 if caption else 0, 6
    h, w = rows[0].shape[:2]
    type_ = font(15)
    # the caption fits (a lone image is narrower than it), in a width that stays put from step to step
    width = left + max(w, 300, int(type_.getlength(caption)) + 6) if caption else left + w
    canvas = Image.new("RGB", (width, top + 2 * h + gap), "white")
    draw = ImageDraw.Draw(canvas)
    if caption:
        draw.text((left, 4), caption, fill="black", font=type_)
    for i, (label, row) in enumerate(zip(ROWS, rows)):
        y = top + i * (h + gap)
        canvas.paste(Image.fromarray(row), (left, y))
        draw.text((6, y + h // 2 - 9), drawn(*label), fill="black", font=font(16))
    return np.asarray(canvas)


def sampler_label(checkpoint: str, language: str = "en") -> str:
    """'DDIM 2 steps' for what a student was made for."""
    from lab.models import SAMPLER_DISPLAY

    name, steps, _ = REGISTRY.model(checkpoint).default_sampler()
    return f"{SAMPLER_DISPLAY[name]} {steps} 步" if language == "zh" else f"{SAMPLER_DISPLAY[name]} {steps} steps"


def denoise_stream(seed: int, num_images: int = 5, sampler: str = "DDIM", steps: int = 50, eta: float = 0.0,
                   checkpoint: str = DEFAULT_CHECKPOINT, frames: list | None = None,
                   frame_dir: str | None = None) -> Iterator[tuple[np.ndarray, str]]:
    """Yield (x_t above x̂0, status) at every step. For at most MAX_KEPT evenly spaced moments of the run
    (the noise x_T first, the final image, t = -1, last) append (t, x_t, x̂0) as uint8 to `frames` and, with
    `frame_dir`, save that moment's image there as kNNN.png."""
    seeds = inputs.seeds(seed, num_images, MAX_IMAGES)
    REGISTRY.diffusion(checkpoint, "the denoising animation")  # a StyleGAN says it has no steps to show
    shown = teaching(checkpoint, sampler, steps, eta)  # a student: its teacher, unless asked for what it takes
    model = REGISTRY.diffusion(shown, "the denoising animation")
    settings = model.check(sampler_name(sampler), steps, eta)  # the one validation of this request
    limits.LIMITS.check_cost(len(seeds), model.evaluations(settings), "this denoising run")
    run = model.stream(settings, seeds=seeds)
    moments = len(run) + 1  # x_T, then one per step
    keep = set(np.linspace(0, moments - 1, min(MAX_KEPT, moments)).round().astype(int).tolist())
    deadline = limits.LIMITS.deadline()
    T = model.schedule.num_timesteps

    def kept(t: int, x: np.ndarray, x0: np.ndarray, image: np.ndarray) -> None:
        if frames is not None:
            frames.append((t, x, x0))
        if frame_dir is not None:
            Image.fromarray(image).save(os.path.join(frame_dir, f"k{len(os.listdir(frame_dir)):03d}.png"))

    start = to_uint8(run.x_T)
    first = pair(start, start, caption=drawn(f"x_T: pure noise (t = {T - 1})", f"x_T：純雜訊（t = {T - 1}）"))
    kept(T - 1, start, start, first)
    whose = "" if shown == checkpoint else tr(
        f" — {checkpoint} is a distilled student, so these steps are its teacher {shown}'s (pick "
        f"{sampler_label(checkpoint)} to watch the student's own)",
        f"——{checkpoint} 是蒸餾學生模型，所以這些步驟是它的老師 {shown} 的（選 {sampler_label(checkpoint, 'zh')} "
        f"可看學生模型自己的步驟）")
    yield first, tr(f"x_T, {len(run)} steps to go", f"x_T，還有 {len(run)} 步") + whose
    try:
        for step in run:
            deadline.check()
            x, x0 = to_uint8(step.x), to_uint8(step.x0)
            en = (f"step {step.index + 1}/{step.total}, t = {step.t} → "
                  f"{step.t_prev if step.t_prev >= 0 else 'clean image'}")
            zh = (f"第 {step.index + 1}/{step.total} 步，t = {step.t} → "
                  f"{step.t_prev if step.t_prev >= 0 else '乾淨的圖'}")
            status = tr(en, zh) + whose
            image = pair(x, x0, caption=drawn(en, zh))
            if step.index + 1 in keep:
                kept(step.t_prev, x, x0, image)
            yield image, status
    finally:
        run.close()  # a closed handler (Stop) stops the sampler too


def q1_figure(frames: list, path: str, columns: int = FIGURE_COLUMNS) -> str:
    """HW6 Question 1: each image (rows) at ~`columns` timesteps from noise to face (x_t), as a PNG."""
    if not frames:
        raise ValueError("no frames to plot: run the denoising first")
    with plot_style():
        return _q1_figure(frames, path, columns)


def _q1_figure(frames: list, path: str, columns: int) -> str:
    import matplotlib.pyplot as plt

    picks = sorted(set(np.linspace(0, len(frames) - 1, min(columns, len(frames))).round().astype(int).tolist()))
    rows = frames[0][1].shape[0]
    fig, axes = plt.subplots(rows, len(picks), figsize=(len(picks) * 0.75, rows * 0.8 + 0.4), squeeze=False)
    for c, k in enumerate(picks):
        t, x, _ = frames[k]
        for r in range(rows):
            ax = axes[r][c]
            ax.imshow(x[r])
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t={t}" if t >= 0 else "x0", fontsize=7)
    fig.suptitle(drawn("Denoising: x_t from pure noise (left) to the generated face (right)",
                       "去噪過程：x_t 從純雜訊（左）到生成的人臉（右）"), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def denoise_outputs(frames: list, out_dir: str | None = None, max_gif_frames: int = 60) -> tuple[str, str]:
    """An animated GIF of the run, both rows (at most `max_gif_frames` frames), and the Q1 figure; their paths."""
    import imageio.v2 as imageio

    if not frames:
        raise ValueError("no frames: run the denoising first")
    out_dir = out_dir or files.new_dir("denoise")
    os.makedirs(out_dir, exist_ok=True)
    picks = np.linspace(0, len(frames) - 1, min(max_gif_frames, len(frames))).round().astype(int)
    images = [pair(frames[k][1], frames[k][2], scale=1) for k in sorted(set(picks.tolist()))]
    gif = os.path.join(out_dir, "denoising.gif")
    imageio.mimsave(gif, images + [images[-1]] * 10, duration=0.08, loop=0)  # hold the last frame
    return gif, q1_figure(frames, os.path.join(out_dir, "hw6_q1_denoising.png"))


def denoise(seed: int, num_images: int = 5, sampler: str = "DDIM", steps: int = 50, eta: float = 0.0,
            checkpoint: str = DEFAULT_CHECKPOINT) -> Iterator[tuple]:
    """The tab's handler: (live image, status, GIF path, Q1 figure path, kept frame paths so far). The files
    come with the last update; the frame paths grow as the run goes, so a Stop leaves a scrubbable run."""
    frames: list = []
    out_dir = files.new_dir("denoise")
    frame_dir = os.path.join(out_dir, "frames")
    os.makedirs(frame_dir)
    image, status = None, ""
    for image, status in denoise_stream(seed, num_images, sampler, steps, eta, checkpoint, frames, frame_dir):
        yield image, status, None, None, sorted(os.path.join(frame_dir, f) for f in os.listdir(frame_dir))
    gif, figure = denoise_outputs(frames, out_dir)
    yield image, tr(f"{status} — done", f"{status}——完成"), gif, figure, sorted(os.path.join(frame_dir, f) for f in os.listdir(frame_dir))


# ----------------------------------------------------------------------------- the tab

def denoise_live(seed: int = 0, num_images: int = 5, sampler: str = "DDIM", steps: int = 50, eta: float = 0.0,
                 checkpoint: str = DEFAULT_CHECKPOINT) -> Iterator[tuple]:
    """The live run, and the slider over the frames kept so far (so it works after a Stop too)."""
    import gradio as gr

    for live, status, gif, fig, kept in denoise(seed, num_images, sampler, steps, eta, checkpoint):
        yield (live, status, gif, fig, kept,
               gr.update(maximum=max(1, len(kept) - 1), value=len(kept) - 1, visible=len(kept) > 1))


def show_kept_frame(k, kept):
    """The slider's frame: read from disk, nothing recomputed."""
    import gradio as gr

    if not kept:
        return gr.skip()
    return kept[max(0, min(int(k), len(kept) - 1))]


STRINGS = {
    "Denoising": "去噪過程", "Denoise": "去噪", "Seed": "種子", "Number of images": "圖片數量", "Sampler": "取樣器",
    "Steps (DDPM always uses all 1000)": "步數（DDPM 固定使用全部 1000 步）", "eta (DDIM)": "eta（DDIM）",
    "Go back to any kept step (no recomputing)": "回到任一保留的步驟（不需重新計算）", "Animation (GIF)": "動畫（GIF）",
    "HW6 Question 1: images × timesteps": "HW6 第 1 題：圖片 × 時間步",
    EXPLANATION: "上排：x_t，這一步時的樣本。下排：x̂0，網路根據 x_t 猜測的完成人臉。一開始 x_t 幾乎是純高斯雜訊，x̂0 "
                 "則是一張模糊的平均臉。粗略的結構（臉的輪廓、髮色、眼睛的位置）在高雜訊的早期步驟就已決定；後面低雜訊"
                 "的步驟只在去除剩餘雜訊的同時加入細節（眼睛高光、髮絲、邊緣）。執行結束後（或按下停止），可用滑桿回到"
                 "任何保留的步驟。",
}


def _layout(ui):
    import gradio as gr

    from .i18n import T

    with gr.Row():
        with gr.Column(scale=1):
            ui.make("seed", "num_images", "sampler", "steps", "eta")
            ui.run("Denoise")
            ui.expected()
        with gr.Column(scale=2):
            live = ui.picture(gr.Image(show_label=False, format="png", elem_id="den-live"))  # labelled on the image
            scrub = gr.Slider(0, 1, value=0, step=1, visible=False, elem_id="den-scrub",
                              label=T("Go back to any kept step (no recomputing)"))
            frames = gr.State([])
            status = gr.Markdown(elem_id="den-status")
            gif = gr.File(label=T("Animation (GIF)"), elem_id="den-gif")
            fig = ui.picture(gr.Image(label=T("HW6 Question 1: images × timesteps"), format="png", elem_id="den-fig"))
            gr.Markdown(T(EXPLANATION))
    return [live, status, gif, fig, frames, scrub]


DEFAULTS = teaching_defaults("DDIM", 50, 0.0)  # what the default checkpoint's teacher (or it) runs


def _expected(ex) -> tuple[str, str]:
    sampler, steps, _ = teaching_setting("DDIM", 50, 0.0)
    return f"Here: 5 images, {sampler} {steps} steps: {ex(5, steps)}.", f"本機：5 張圖、{sampler} {steps} 步{ex(5, steps, 'zh')}。"


def _events(ui, outputs) -> None:
    live, frames, scrub = outputs[0], outputs[4], outputs[5]
    scrub.input(show_kept_frame, [scrub, frames], live, api_visibility="private")


TAB = Tab(
    "denoise", "den", "Denoising", denoise_live,
    (Input("seed", Seed(), 0, "Seed"),
     Input("num_images", Int(1, MAX_IMAGES), 5, "Number of images"),
     Input("sampler", Choice(list(SAMPLER_NAMES)), DEFAULTS[0], "Sampler"),
     Input("steps", Int(1, 1000), DEFAULTS[1], "Steps (DDPM always uses all 1000)", elem_id="den-steps"),
     Input("eta", Real(0, 1), DEFAULTS[2], "eta (DDIM)"),
     CHECKPOINT),
    _layout,
    examples=(("seed 1 · DDIM 20", dict(seed=1, num_images=4, sampler="DDIM", steps=20)),
              ("seed 7 · DPM-Solver++ 10", dict(seed=7, num_images=3, sampler="DPM-Solver++", steps=10))),
    expected=_expected,
    events=_events,
    follows=False,  # a student picked: its teacher keeps showing the many steps (teaching())
    strings=STRINGS,
)
