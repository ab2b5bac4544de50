"""The 2-D playground tab: the whole diffusion process on one plane, with the samplers that draw the faces.

A shipped model per built-in data set starts it instantly; "Train" fits a small MLP live (loss and samples
update as it goes, Stop ends it). Views: the forward process as a cloud at t, the reverse paths of a few hundred
points under the chosen sampler, the learned denoising direction as arrows at t, the cloud flowing from noise to
the data (GIF), and the fit (sliced Wasserstein distance to the data) against steps for every sampler.
"""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np

from lab import inputs, paths
from lab.models import SAMPLER_DISPLAY
from lab import playground as pg
from lab.refusal import Refusal

from . import files, limits
from .common import SAMPLER_NAMES, UNCHANGED, cjk_font, drawn, plot_style, sampler_name
from .messages import tr
from .tab import Bool, Choice, Input, Int, Real, Seed, Tab, Text

SHIPPED = os.path.join(paths.CHECKPOINTS, "playground")
SHIPPED_WORD = "NTU"
TRAIN_STEPS = pg.TRAIN_STEPS
DATA_POINTS = 2000  # what a model trains on
MAX_POINTS = 2000  # points drawn in the views (the public limit too: a view costs milliseconds per 1000)
FIT_STEPS = [1, 2, 5, 10, 20, 50, 100]
_TRAINED: OrderedDict = OrderedDict()  # the last models trained here, by their settings: "Show" reuses them
_SHIPPED_LOADED: dict = {}
_LOCK = threading.Lock()


def slug(data: str, word: str) -> str:
    return (f"word-{word}" if data == "word" else data).replace(" ", "-")


def word_font(word: str) -> str:
    """DejaVu Sans (shipped with matplotlib) for Latin; the CJK font for anything else, where installed."""
    import matplotlib

    latin = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
    return latin if word.isascii() or not cjk_font() else cjk_font()


def shipped_or_trained(data: str, word: str, config: pg.PointConfig, seed: int) -> tuple[pg.PointModel, list, str]:
    """(model, its losses, where it came from): trained here earlier with these settings, or shipped."""
    with _LOCK:
        if (data, word, config, seed) in _TRAINED:
            model, losses = _TRAINED[(data, word, config, seed)]
            return model, losses, tr("trained here earlier", "先前在此訓練")
    path = os.path.join(SHIPPED, slug(data, word) + ".safetensors")
    if (data != "word" or word == SHIPPED_WORD) and os.path.isfile(path):
        with _LOCK:  # loaded once, kept: its fit curve is kept with it
            if path not in _SHIPPED_LOADED:
                _SHIPPED_LOADED[path] = pg.load(path)
            model, extra = _SHIPPED_LOADED[path]
        if model.config == config:
            return model, extra.get("losses", []), tr("shipped model", "內附模型")
    raise Refusal("playground_untrained", "no shipped model for these settings (the shipped ones: "
                  f"{SHIPPED_WORD!r} and the built-in sets at cosine, T 100, width 128): tick Train", word=SHIPPED_WORD)


def train_live(data: str, word: str, config: pg.PointConfig, seed: int, n: int, progress) -> Iterator:
    """Fit a model here: yields (model, losses so far, picture of the loss and current samples or None) every
    50 steps (a picture every 300), so the page shows it learn and Stop ends it; the model is kept for reuse."""
    cloud = pg.points(data, DATA_POINTS, seed, word, word_font(word) if data == "word" else None)
    model = pg.PointModel(config, seed)  # same seed, same model, same plots
    losses, started = [], time.monotonic()
    limit = min(limits.LIMITS.deadline().seconds, limits.LIMITS.max_train_seconds)
    out_dir = files.new_dir("playground")
    for step, loss in pg.training(model, cloud, steps=TRAIN_STEPS, seed=seed):
        losses.append(loss)
        if progress:
            progress(step / TRAIN_STEPS, tr(f"training: step {step}/{TRAIN_STEPS}, loss {loss:.3f}",
                                            f"訓練中：第 {step}/{TRAIN_STEPS} 步，損失 {loss:.3f}"))
        picture = None
        if step % 300 == 0 and step < TRAIN_STEPS:
            model.eval()
            now = pg.sample_paths(model, "dpm-solver", 10, 0.0, min(n, 500), seed)[-1]
            model.train()
            picture = draw_progress(cloud[:500], now, losses, os.path.join(out_dir, f"train_{step}.png"))
        yield model, losses, picture
        if time.monotonic() - started > limit:  # public mode: the model learnt so far is what is shown
            break
    model.eval()
    with _LOCK:
        _TRAINED[(data, word, config, seed)] = (model, losses)
        while len(_TRAINED) > 8:
            _TRAINED.popitem(last=False)


def playground(data: str = "moons", word: str = SHIPPED_WORD, schedule: str = "cosine", T: int = 100,
               width: int = 128, sampler: str = "DDIM", steps: int = 20, eta: float = 0.0, t: int = 30,
               seed: int = 0, num_points: int = 500, train: bool = False,
               progress: Callable[[float, str], None] | None = None) -> Iterator[tuple]:
    """Yields the loss and the samples as a model trains (with Train), then (views, fit plot, GIF, summary)."""
    inputs.one_of(data, "data set", pg.DATASETS)
    inputs.one_of(schedule, "schedule", ("linear", "cosine", "sigmoid"))
    T = inputs.whole(T, "T", 10, 1000)
    config = pg.PointConfig(hidden=inputs.whole(width, "network width", 16, 256), schedule=schedule, timesteps=T)
    name = sampler_name(sampler)
    steps = T if name == "ddpm" else inputs.steps(steps, T)
    eta, t = inputs.eta(eta), inputs.whole(t, "t", 0, T - 1)
    seed, n = inputs.seed(seed), inputs.whole(num_points, "points", 50, MAX_POINTS)
    word = str(word or "").strip()
    if train:
        started = time.monotonic()
        for model, losses, picture in train_live(data, word, config, seed, n, progress):
            status = tr(f"training: step {50 * len(losses)}/{TRAIN_STEPS}, loss {losses[-1]:.3f}",
                        f"訓練中：第 {50 * len(losses)}/{TRAIN_STEPS} 步，損失 {losses[-1]:.3f}")
            yield UNCHANGED, picture if picture is not None else UNCHANGED, UNCHANGED, status
        origin = tr(f"trained now: {50 * len(losses)} steps in {time.monotonic() - started:.1f} s",
                    f"剛剛訓練：{50 * len(losses)} 步，{time.monotonic() - started:.1f} 秒")
    else:
        model, losses, origin = shipped_or_trained(data, word, config, seed)
    reference = pg.points(data, n, seed + 1, word, word_font(word) if data == "word" else None)
    path = pg.sample_paths(model, name, steps, eta, n, seed)
    out_dir = files.new_dir("playground")
    views = draw_views(model, reference, path, name, steps, eta, t, seed, os.path.join(out_dir, "views.png"))
    distance = pg.sliced_wasserstein(path[-1], reference)
    floor = pg.sliced_wasserstein(pg.points(data, n, seed + 2, word, word_font(word) if data == "word" else None),
                                  reference)  # two draws of the data itself: as close as a perfect model gets
    how = SAMPLER_DISPLAY[name] + ("" if name == "ddpm" else f" {steps}") + (f", η {eta:g}" if name == "ddim"
                                                                                  else "")
    summary = tr(f"{origin}; {how}: sliced Wasserstein distance to the data **{distance:.3f}** (lower is closer; "
                 f"another draw of the data itself: {floor:.3f}).",
                 f"{origin}；{how}：與資料的切片 Wasserstein 距離 **{distance:.3f}**（越低越接近；資料本身另一次抽樣：{floor:.3f}）。")
    yield views, UNCHANGED, UNCHANGED, summary  # the main view first: the rest follows
    fit = draw_fit(fit_curve(model, data, word, seed), losses, os.path.join(out_dir, "fit.png"))
    yield views, fit, draw_flow(path, os.path.join(out_dir, "flow.gif")), summary


_CURVES: OrderedDict = OrderedDict()


def fit_curve(model: pg.PointModel, data: str, word: str, seed: int) -> dict:
    """The fit against steps for every sampler, on 300 points: it depends on the model alone, so it is kept."""
    key = (id(model), data, word, seed)
    with _LOCK:
        if key in _CURVES:
            return _CURVES[key]
    reference = pg.points(data, 300, seed + 1, word, word_font(word) if data == "word" else None)
    curve = pg.fit_curve(model, reference, [s for s in FIT_STEPS if s <= model.config.timesteps], n=300, seed=seed)
    with _LOCK:
        _CURVES[key] = curve
        while len(_CURVES) > 32:
            _CURVES.popitem(last=False)
    return curve


def draw_views(model, reference, path, sampler: str, steps: int, eta: float, t: int, seed: int, out: str) -> str:
    """Four panels: q(x_t | x_0) at t, the reverse paths, the denoising direction at t, samples against data."""
    import matplotlib.pyplot as plt

    with plot_style():
        fig, axes = plt.subplots(2, 2, figsize=(8.5, 8.5), dpi=72)
        noisy = pg.forward_cloud(reference, model.schedule, t, seed).numpy()
        ref, final = reference.numpy(), path[-1].numpy()
        ax = axes[0, 0]
        ax.scatter(ref[:, 0], ref[:, 1], s=3, c="#bbbbbb", label=drawn("data", "資料"))
        ax.scatter(noisy[:, 0], noisy[:, 1], s=3, c="#e8710a", label=drawn(f"x_t at t = {t}", f"t = {t} 的 x_t"))
        ax.set_title(drawn(f"forward: q(x_t | x_0), t = {t}", f"前向過程：q(x_t | x_0)，t = {t}"))
        ax = axes[0, 1]
        shown = path[:, :200].numpy()
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(shown.transpose(1, 0, 2), lw=0.4, alpha=0.35, colors="#1a73e8"))
        ax.scatter(shown[-1, :, 0], shown[-1, :, 1], s=4, c="#0b3d91")
        name = SAMPLER_DISPLAY[sampler] + ("" if sampler == "ddpm" else f" {steps}")
        ax.set_title(drawn(f"reverse paths: {name}" + (f", η {eta:g}" if sampler == "ddim" else ""),
                           f"反向路徑：{name}" + (f"，η {eta:g}" if sampler == "ddim" else "")))
        ax = axes[1, 0]
        grid, arrows = pg.denoising_field(model, t)
        ax.scatter(ref[:, 0], ref[:, 1], s=2, c="#dddddd")
        ax.quiver(grid[:, 0], grid[:, 1], arrows[:, 0], arrows[:, 1], color="#188038", angles="xy",
                  scale_units="xy", scale=4, width=0.004)
        ax.set_title(drawn(f"where the model pushes a point at t = {t} (x̂0 − x)/4", f"t = {t} 時模型推動點的方向 (x̂0 − x)/4"))
        ax = axes[1, 1]
        ax.scatter(ref[:, 0], ref[:, 1], s=3, c="#bbbbbb", label=drawn("data", "資料"))
        ax.scatter(final[:, 0], final[:, 1], s=3, c="#1a73e8", label=drawn("samples", "樣本"))
        ax.set_title(drawn("samples against the data", "樣本與資料"))
        for ax in axes.flat:
            ax.set_xlim(-2.2, 2.2)
            ax.set_ylim(-2.2, 2.2)
            ax.set_xticks([-2, 0, 2])  # fixed ticks: matplotlib's own locator makes ~10 per axis, and making
            ax.set_yticks([-2, 0, 2])  # them was half of the first view's time
            ax.set_aspect("equal")
            ax.grid(alpha=0.2)
        axes[0, 0].legend(loc="lower right", fontsize=8, markerscale=3)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.04, top=0.96, wspace=0.18, hspace=0.16)  # not tight_layout:
        fig.savefig(files.writable(out))  # that draws the figure twice, and the first view must be on screen within a second
        plt.close(fig)
    return out


def draw_fit(curve: dict, losses: list[float], out: str) -> str:
    """The fit against network evaluations per sampler, and the training loss."""
    import matplotlib.pyplot as plt

    with plot_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=80)
        for label, points_ in curve.items():
            xs, ys = zip(*points_)
            left.plot(xs, ys, "o-" if len(xs) > 1 else "s", label=label)
        left.set_xscale("log")
        left.set_xlabel(drawn("network evaluations per point", "每個點的網路運算次數"))
        left.set_ylabel(drawn("sliced Wasserstein to the data", "與資料的切片 Wasserstein 距離"))
        left.set_title(drawn("what fewer steps cost", "步數少的代價"))
        left.legend(fontsize=8)
        left.grid(alpha=0.3)
        if losses:
            right.plot([50 * (i + 1) for i in range(len(losses))], losses)
        right.set_xlabel(drawn("training step", "訓練步"))
        right.set_title(drawn("training loss (v-prediction MSE)", "訓練損失（v 預測的 MSE）"))
        right.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(files.writable(out))
        plt.close(fig)
    return out


def draw_progress(data, samples, losses: list[float], out: str) -> str:
    """While training: the loss so far, and what the model draws now (DPM-Solver++ 10) against the data."""
    import matplotlib.pyplot as plt

    with plot_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=72)
        left.scatter(data[:, 0], data[:, 1], s=3, c="#bbbbbb")
        left.scatter(samples[:, 0], samples[:, 1], s=3, c="#1a73e8")
        left.set_xlim(-2.2, 2.2)
        left.set_ylim(-2.2, 2.2)
        left.set_aspect("equal")
        left.set_title(drawn(f"what it draws now, after {50 * len(losses)} steps", f"訓練 {50 * len(losses)} 步後畫出的樣本"))
        right.plot([50 * (i + 1) for i in range(len(losses))], losses)
        right.set_xlabel(drawn("training step", "訓練步"))
        right.set_title(drawn("training loss (v-prediction MSE)", "訓練損失（v 預測的 MSE）"))
        right.grid(alpha=0.3)
        fig.subplots_adjust(left=0.05, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
        fig.savefig(files.writable(out))
        plt.close(fig)
    return out


def draw_flow(path, out: str, size: int = 240, frames: int = 30) -> str:
    """The cloud from noise (x_T) to the data, as a GIF of dots (PIL: fast)."""
    import imageio.v2 as imageio
    from PIL import Image, ImageDraw

    idx = np.unique(np.linspace(0, len(path) - 1, min(frames, len(path))).round().astype(int))
    images = []
    for i in idx:
        image = Image.new("RGB", (size, size), "white")
        draw = ImageDraw.Draw(image)
        xy = ((path[i].numpy() / 2.2 + 1) * size / 2).clip(0, size - 1)
        for x, y in xy:
            draw.ellipse([x - 1, size - y - 1, x + 1, size - y + 1], fill=(26, 115, 232))
        images.append(np.asarray(image))
    imageio.mimsave(files.writable(out), images + [images[-1]] * 8, duration=0.1, loop=0)
    return out


# ----------------------------------------------------------------------------- the tab

INTRO = ("The whole diffusion process on one plane: the same schedules and samplers that draw the faces, on 2-D "
         "points, with a small network that trains here in seconds. Pick a data set (or type a word), a sampler "
         "and its steps; tick Train to fit a new model live.")
STRINGS = {
    "2-D playground": "2D 遊樂場", "Run": "執行", "Data set": "資料集", "Word (for 'word')": "文字（選「word」時使用）",
    "Schedule": "排程", "T (diffusion steps)": "T（擴散步數）", "Network width": "網路寬度", "Sampler": "取樣器",
    "Steps": "步數", "eta (DDIM)": "eta（DDIM）", "t (forward cloud and arrows)": "t（前向點雲與箭頭）", "Seed": "種子",
    "Points": "點數", "Train a new model here (live; about 12 s)": "在此訓練新模型（即時；約 12 秒）",
    "Forward, reverse paths, arrows, samples": "前向、反向路徑、箭頭、樣本", "Fit against steps, and training loss":
        "擬合程度對步數，以及訓練損失", "The cloud flowing from noise to data (GIF)": "點雲從雜訊流向資料（GIF）",
    INTRO: "把整個擴散過程放在一個平面上：與生成人臉相同的排程與取樣器，作用在 2D 點上，小網路在這裡幾秒就能訓練好。"
           "選一個資料集（或輸入文字）、取樣器與步數；勾選「訓練」即可即時訓練新模型。",
}


def _layout(ui):
    import gradio as gr

    from .i18n import T

    gr.Markdown(T(INTRO))
    if os.path.isdir(SHIPPED):  # drawn once at start-up: the first visitor's click finds matplotlib and the model warm
        for _ in playground():
            pass
    with gr.Row():
        with gr.Column(scale=1):
            ui.make("data", "word", "schedule", "T", "width", "sampler", "steps", "eta", "t", "seed", "num_points",
                    "train")
            ui.run("Run")
        with gr.Column(scale=2):
            views = ui.picture(gr.Image(label=T("Forward, reverse paths, arrows, samples"), format="png",
                                        elem_id="pg-views"))
            status = gr.Markdown(elem_id="pg-status")
            fit = ui.picture(gr.Image(label=T("Fit against steps, and training loss"), format="png", elem_id="pg-fit"))
            gif = gr.Image(label=T("The cloud flowing from noise to data (GIF)"), type="filepath", elem_id="pg-gif")
    return [views, fit, gif, status]


TAB = Tab(
    "playground", "pg", "2-D playground", playground,
    (Input("data", Choice(pg.DATASETS), "moons", "Data set"),
     Input("word", Text(), SHIPPED_WORD, "Word (for 'word')"),
     Input("schedule", Choice(("linear", "cosine", "sigmoid")), "cosine", "Schedule"),
     Input("T", Int(10, 1000), 100, "T (diffusion steps)"),
     Input("width", Int(16, 256), 128, "Network width"),
     Input("sampler", Choice(list(SAMPLER_NAMES)), "DDIM", "Sampler"),
     Input("steps", Int(1, 1000), 20, "Steps"),
     Input("eta", Real(0, 1), 0.0, "eta (DDIM)"),
     Input("t", Int(0, 999), 30, "t (forward cloud and arrows)"),
     Input("seed", Seed(), 0, "Seed"),
     Input("num_points", Int(50, MAX_POINTS), 500, "Points"),
     Input("train", Bool(), False, "Train a new model here (live; about 12 s)")),
    _layout,
    examples=(("swiss roll · DDPM", dict(data="swiss roll", sampler="DDPM")),
              ("rings · DDIM 5", dict(data="rings", steps=5)),
              ("gaussian mixture · DPM-Solver++ 10", dict(data="gaussian mixture", sampler="DPM-Solver++", steps=10))),
    strings=STRINGS,
)
