"""The Forward process tab: how q(x_t | x_0) destroys a face under the linear, cosine and sigmoid schedules
(the HW6 "Strong" baseline's point), the schedules as curves, and where a sampler's steps land on them."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from lab import inputs, paths
from lab.pipeline import sample_images
from lab.registry import REGISTRY
from lab.teaching import curves, forward_grid, parse_timesteps, visited
from lab.uploads import read_images

from . import files
from .common import DEFAULT_CHECKPOINT, drawn, labelled_grid, plot_style
from .messages import tr
from .tab import CHECKPOINT, Choice, Files, Input, Int, Seed, Tab, Text

SOURCES = ("Generated face", "Uploaded image", "Training face")
SPACINGS = ("trailing", "uniform", "linspace", "quad")
EXPLANATION = (
    "The forward process adds Gaussian noise in closed form: x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε. Each row uses "
    "the same ε, so only the schedule differs. The linear schedule (DDPM) destroys the face early: by t ≈ 500 "
    "little is left, so many steps are spent on almost pure noise. The cosine schedule (Nichol & Dhariwal) keeps "
    "ᾱ near 1 longer and spends its steps more evenly in log-SNR; sigmoid is similar, flatter at both ends. "
    "The dots show the timesteps a sampler with S steps visits under the chosen spacing: 'trailing' starts at "
    "t = T−1, 'uniform' (the DDIM paper's) at T − T/S and never sees the noisiest step.")


def training_faces_present() -> bool:
    return os.path.isdir(paths.FACES)


def source_face(source: str, seed: int, upload, checkpoint: str) -> tuple[np.ndarray, str]:
    """(uint8 [64, 64, 3] face, where it came from)."""
    if source == SOURCES[0]:
        model = REGISTRY.model(checkpoint)
        return (sample_images(model, [seed])[0],
                tr(f"generated from seed {seed} on {checkpoint}", f"由種子 {seed} 以 {checkpoint} 生成"))
    if source == SOURCES[1]:
        if not upload:
            raise ValueError("upload an image first (or choose a generated face)")
        name, image = read_images([upload] if isinstance(upload, str) else list(upload)[:1], max_images=1)[0]
        return np.asarray(Image.fromarray(image).resize((64, 64), Image.Resampling.BICUBIC)), tr(f"uploaded {name}",
                                                                                                f"上傳的 {name}")
    if source == SOURCES[2]:
        if not training_faces_present():
            raise ValueError(f"no training faces here ({paths.FACES} is absent): choose a generated face or an upload")
        from lab.data import list_images

        names = list_images(paths.FACES)
        name = names[seed % len(names)]
        with Image.open(os.path.join(paths.FACES, name)) as im:
            face = np.asarray(im.convert("RGB").resize((64, 64), Image.Resampling.BICUBIC))
        return face, tr(f"training face {name}", f"訓練人臉 {name}")
    inputs.one_of(source, "source", SOURCES)  # raises: none of the sources above
    raise AssertionError(f"unhandled source {source!r}")


def curves_plot(T: int, steps: int, spacing: str, path: str) -> str:
    with plot_style():
        return _curves_plot(T, steps, spacing, path)


def _curves_plot(T: int, steps: int, spacing: str, path: str) -> str:
    import matplotlib.pyplot as plt

    data, visits = curves(T), visited(T, steps, spacing)
    t = np.arange(T)
    fig, axes = plt.subplots(2, 2, figsize=(9, 6), dpi=100)
    for name, c in data.items():
        line, = axes[0, 0].plot(t, c["alpha_bar"], label=name)
        color = line.get_color()
        axes[0, 0].plot(visits, c["alpha_bar"][visits], "o", ms=4, color=color)
        axes[0, 1].plot(c["sqrt_one_minus"], c["sqrt_alpha_bar"], color=color, label=name)
        axes[0, 1].plot(c["sqrt_one_minus"][visits], c["sqrt_alpha_bar"][visits], "o", ms=4, color=color)
        axes[1, 0].plot(t, c["log_snr"], color=color, label=name)
        axes[1, 0].plot(visits, c["log_snr"][visits], "o", ms=4, color=color)
        axes[1, 1].plot(t, c["beta"], color=color, label=name)
        axes[1, 1].plot(visits, c["beta"][visits], "o", ms=4, color=color)
    for ax, title, xl, yl in ((axes[0, 0], drawn("ᾱ_t: how much of x_0 is left", "ᾱ_t：x_0 還剩多少"), "t", "ᾱ_t"),
                              (axes[0, 1], drawn("signal √ᾱ_t against noise √(1−ᾱ_t)", "訊號 √ᾱ_t 對雜訊 √(1−ᾱ_t)"),
                               "√(1−ᾱ_t)", "√ᾱ_t"),
                              (axes[1, 0], "log-SNR = log(ᾱ_t / (1−ᾱ_t))", "t", "log-SNR"),
                              (axes[1, 1], drawn("β_t (log scale)", "β_t（對數刻度）"), "t", "β_t")):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
    axes[1, 1].set_yscale("log")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(drawn(f"T = {T}; dots: the {len(visits)} timesteps a {steps}-step sampler visits ({spacing} spacing)",
                       f"T = {T}；圓點：{steps} 步取樣器（{spacing} 間隔）走過的 {len(visits)} 個時間步"), fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def forward(source: str = SOURCES[0], seed: int = 0, upload=None, timesteps: str = "0,50,100,250,500,750,999",
            T: int = 1000, steps: int = 10, spacing: str = "trailing", checkpoint: str = DEFAULT_CHECKPOINT,
            out_dir: str | None = None) -> tuple[np.ndarray, str, str]:
    """(labelled grid: schedules down, timesteps across; the curves plot's path; a markdown summary)."""
    seed = inputs.seed(seed)
    T = inputs.whole(T, "T", 50, 1000)
    ts = parse_timesteps(timesteps, T)
    inputs.one_of(spacing, "spacing", SPACINGS)
    steps = inputs.steps(steps, T)
    face, origin = source_face(source, seed, upload, checkpoint)
    grid = forward_grid(face, ts, T, seed)
    image = labelled_grid([list(row) for row in grid], ["linear", "cosine", "sigmoid"], [f"t = {t}" for t in ts])
    visits = ", ".join(str(v) for v in visited(T, steps, spacing))
    out_dir = out_dir or files.new_dir("forward")
    os.makedirs(out_dir, exist_ok=True)
    plot = curves_plot(T, steps, spacing, os.path.join(out_dir, "schedules.png"))
    data = curves(T)
    left = {name: float(np.sqrt(c["alpha_bar"][T // 2])) for name, c in data.items()}
    weights = tr(f"{left['linear']:.3f} (linear), {left['cosine']:.3f} (cosine), {left['sigmoid']:.3f} (sigmoid)",
                 f"{left['linear']:.3f}（linear）、{left['cosine']:.3f}（cosine）、{left['sigmoid']:.3f}（sigmoid）")
    info = tr(f"x_0: {origin}; noise ε from seed {seed}, the same in every cell. At t = T/2 = {T // 2} the signal "
              f"weight √ᾱ is {weights}. A {steps}-step sampler with {spacing} spacing visits t = {visits}.",
              f"x_0：{origin}；雜訊 ε 來自種子 {seed}，每一格都相同。在 t = T/2 = {T // 2} 時，訊號權重 √ᾱ 為 "
              f"{weights}。{steps} 步、{spacing} 間隔的取樣器走過 t = {visits}。")
    return image, plot, info


# ----------------------------------------------------------------------------- the tab

STRINGS = {
    "Forward process": "前向過程", "Show": "顯示", "The face x_0": "人臉 x_0",
    "Seed (the generated or training face, and the noise ε)": "種子（生成或訓練人臉，以及雜訊 ε）",
    "Image (for 'Uploaded image')": "圖片（選「上傳圖片」時使用）", "Timesteps t (comma-separated)": "時間步 t（以逗號分隔）",
    "T (diffusion steps of the schedules)": "T（排程的擴散步數）", "Sampler steps S (dots on the curves)": "取樣步數 S（曲線上的點）",
    "Spacing of the sampler's steps": "取樣步的間隔方式", "The schedules": "排程曲線",
    "q(x_t | x_0): schedules down, t across, the same ε": "q(x_t | x_0)：縱向為排程、橫向為 t，使用相同 ε",
    "Generated face": "生成的人臉", "Uploaded image": "上傳圖片", "Training face": "訓練人臉",
    EXPLANATION: "前向過程以封閉形式加入高斯雜訊：x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε。每一列使用相同的 ε，所以只有排程不同。"
                 "線性排程（DDPM）很早就把臉破壞掉：到 t ≈ 500 時幾乎什麼都不剩，許多步數都花在近乎純雜訊上。餘弦排程"
                 "（Nichol & Dhariwal）讓 ᾱ 更久地維持在接近 1，並在 log-SNR 上更平均地分配步數；sigmoid 與其相似，但兩端"
                 "更平。圓點是 S 步取樣器在所選間隔方式下走過的時間步：「trailing」從 t = T−1 開始，「uniform」（DDIM "
                 "論文的做法）從 T − T/S 開始，永遠走不到雜訊最多的那一步。",
}


def _layout(ui):
    import gradio as gr

    from .i18n import T, translated

    gr.Markdown(T(EXPLANATION))
    with gr.Row():
        with gr.Column(scale=1):
            shown = list(SOURCES) if training_faces_present() else list(SOURCES[:2])  # a Space has no training faces
            ui.add("source", gr.Radio(translated(shown), value=SOURCES[0], label=T("The face x_0")))
            ui.make("seed", "upload", "timesteps", "T", "steps", "spacing")
            ui.run("Show", stop=False)
        with gr.Column(scale=2):
            grid = ui.picture(gr.Image(show_label=False, format="png", elem_id="fw-grid"))  # labelled on the image
            info = gr.Markdown(elem_id="fw-info")
            plot = ui.picture(gr.Image(label=T("The schedules"), format="png", elem_id="fw-plot"))
    return [grid, plot, info]


TAB = Tab(
    "forward", "fw", "Forward process", forward,
    (Input("source", Choice(SOURCES, translate=True), SOURCES[0], "The face x_0"),
     Input("seed", Seed(), 0, "Seed (the generated or training face, and the noise ε)"),
     Input("upload", Files(), None, "Image (for 'Uploaded image')", link=False, elem_id="fw-upload"),
     Input("timesteps", Text(), "0,50,100,250,500,750,999", "Timesteps t (comma-separated)", elem_id="fw-ts"),
     Input("T", Int(50, 1000), 1000, "T (diffusion steps of the schedules)"),
     Input("steps", Int(1, 100), 10, "Sampler steps S (dots on the curves)"),
     Input("spacing", Choice(SPACINGS), "trailing", "Spacing of the sampler's steps"),
     CHECKPOINT),
    _layout,
    strings=STRINGS,
)
