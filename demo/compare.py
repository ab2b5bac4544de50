"""The DDIM compare tab: one seed (the same x_T) across step counts × eta, with the time of each cell.

Same x_T → the same face across step counts at eta 0 (DDIM's consistency); eta 1 over all steps is DDPM.
Answers HW6 Question 2 with numbers measured on this machine.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import numpy as np

from lab import inputs, paths
from lab.refusal import Refusal
from lab.pipeline import stream, to_uint8
from lab.registry import REGISTRY

from . import files, limits
from .common import DEFAULT_CHECKPOINT, UNCHANGED, at_step, drawn, labelled_grid, last, plot_style, teacher_of
from .messages import chinese, tr
from .tab import CHECKPOINT, Bool, Input, Seed, Tab, Text


GRID_SCALE = 3
GRID_LEFT, GRID_TOP, GRID_PAD = 90, 24, 4  # labelled_grid's margins


def quality_plot(checkpoint: str) -> str | None:
    """The checkpoint's quality-vs-steps plot from its report (evaluate.py report --sweep), in the visitor's
    language where it was drawn in both; a student shows its teacher's, where its curve stands beside DDIM's."""
    folder = os.path.join(REGISTRY.folder, teacher_of(checkpoint) or checkpoint)
    english = os.path.join(folder, paths.QUALITY_VS_STEPS)
    chinese_ = os.path.join(folder, paths.QUALITY_VS_STEPS_ZH)
    path = chinese_ if chinese() and os.path.isfile(chinese_) else english
    return path if os.path.isfile(path) else None


def _parse(values: str, kind: type, what: str) -> list:
    try:
        out = [kind(v) for v in str(values).replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"{what} must be a comma-separated list of numbers, got {values!r}") from None
    if not out or len(out) > 8:
        raise ValueError(f"{what}: give 1 to 8 values, got {values!r}")
    return out


def compare(*args, **kwargs) -> tuple[np.ndarray, str, str, str | None]:
    """(grid image: rows = eta, columns = steps [+ DDPM 1000], labelled; a markdown table of seconds; the
    seconds-vs-steps plot's path; the checkpoint's quality-vs-steps plot from its report, or None)."""
    return last(compare_stream(*args, **kwargs))


def compare_stream(seed: int, steps: str = "10,20,50,100", etas: str = "0,0.5,1", include_ddpm: bool | None = None,
                   checkpoint: str = DEFAULT_CHECKPOINT, progress: Callable[[float, str], None] | None = None,
                   out_dir: str | None = None) -> Iterator[tuple]:
    """Yields UNCHANGED outputs and a status after every network evaluation (so Stop ends the work within
    one), then (grid, table, plot path)."""
    include_ddpm = limits.LIMITS.ddpm_by_default if include_ddpm is None else bool(include_ddpm)
    model = REGISTRY.diffusion(checkpoint, "a DDIM steps comparison")
    student, teacher = None, teacher_of(checkpoint)
    if teacher:  # a student: its teacher's grid, and its own face from the same x_T at the end of the eta 0 row
        student, model = model, REGISTRY.diffusion(teacher, "a DDIM steps comparison")
    T = model.schedule.num_timesteps
    step_list = [inputs.steps(s, T) for s in _parse(steps, float, "steps")]
    eta_list = [inputs.eta(e) for e in _parse(etas, float, "eta")]
    seed = inputs.seed(seed)
    cells = [(model, "ddim", s, e) for e in eta_list for s in step_list] + \
        ([(model, "ddpm", None, 1.0)] if include_ddpm else []) + \
        ([(student, "student", k, 0.0) for k in student.made_for()[1]] if student else [])
    total_nfe = sum(T if s is None else s for _, _, s, _ in cells)
    if total_nfe > limits.LIMITS.max_compare_evaluations:
        most = f"{limits.LIMITS.max_compare_evaluations:,}"
        raise Refusal("compare_limit", f"this comparison needs {total_nfe:,} network evaluations (the steps of all "
                      f"cells{', DDPM 1000 included' if include_ddpm else ''}); the limit here is {most}: ask for "
                      f"fewer or smaller step counts", total=f"{total_nfe:,}", most=most)
    deadline = limits.LIMITS.deadline()
    done, images, seconds = 0, {}, {}
    for m, name, steps_, eta in cells:
        label = tr(f"{name.upper()} {steps_ or T} steps, eta {eta:g}", f"{name.upper()} {steps_ or T} 步，eta {eta:g}")
        if m is student:
            label = tr(f"student, {steps_} step(s)", f"學生模型，{steps_} 步")
        t0 = time.perf_counter()
        run = stream(m, m.default_sampler()[0] if m is student else name, steps_, eta, seeds=[seed])
        try:
            for step in run:
                deadline.check()
                done += 1
                if progress and (step.index % 10 == 0 or step.index + 1 == step.total):
                    progress(done / total_nfe, f"{label}: {at_step(step.index + 1, step.total)}")
                yield UNCHANGED, f"{label}: {at_step(step.index + 1, step.total)} …", UNCHANGED, UNCHANGED
        finally:
            run.close()
        seconds[(name, eta, steps_)] = time.perf_counter() - t0
        images[(name, eta, steps_)] = to_uint8(step.x)[0]
    if progress:
        progress(1.0, tr("done", "完成"))
    # the grid: a row per eta, a column per step count; the extra columns hold one cell each: DDPM at the end of
    # the eta = 1 row (it is η = 1 over all T steps), a student's faces at the end of the eta 0 row (the same x_T
    # through its few steps, beside the teacher's DDIM); the labels are drawn on the image
    ddpm_row = eta_list.index(1.0) if 1.0 in eta_list else len(eta_list) - 1
    student_row = eta_list.index(0.0) if 0.0 in eta_list else 0
    extra = ([(f"DDPM {T} (eta 1)", f"DDPM {T}", ddpm_row, ("ddpm", 1.0, None))] if include_ddpm else []) + \
        [(drawn(f"student {k}", f"學生 {k} 步"), tr(f"student, {k} step(s)", f"學生模型 {k} 步"), student_row,
          ("student", 0.0, k)) for k in (student.made_for()[1] if student else [])]
    grid = [[images[("ddim", eta, s)] for s in step_list] + [images[key] if r == row else None
                                                              for _, _, row, key in extra]
            for r, eta in enumerate(eta_list)]
    canvas = labelled_grid(grid, [f"eta {e:g}" for e in eta_list],
                           [drawn(f"{s} steps", f"{s} 步") for s in step_list] + [c[0] for c in extra],
                           scale=GRID_SCALE)

    table = _table(seconds, step_list, eta_list, extra, T if include_ddpm else None, checkpoint, teacher, student)
    out_dir = out_dir or files.new_dir("compare")
    os.makedirs(out_dir, exist_ok=True)
    plot = os.path.join(out_dir, "seconds_vs_steps.png")
    with plot_style():
        seconds_plot(seconds, step_list, eta_list, T if include_ddpm else None, plot)
    yield canvas, table, plot, quality_plot(checkpoint)


def _table(seconds: dict, step_list: list[int], eta_list: list[float], extra: list, ddpm_T: int | None,
           checkpoint: str, teacher: str | None, student) -> str:
    """The seconds of every cell as a markdown table (the extra columns filled in their one row), and what the
    DDPM and student cells are, in the visitor's language."""
    in_s = lambda s: tr(f"{s:.2f} s", f"{s:.2f} 秒")  # noqa: E731
    rows = [tr("| eta \\ steps | ", "| eta \\ 步數 | ") + " | ".join([str(s) for s in step_list] + [c[1] for c in extra])
            + " |", "|---" * (len(step_list) + len(extra) + 1) + "|"]
    for r, eta in enumerate(eta_list):
        cells_s = [in_s(seconds[("ddim", eta, s)]) for s in step_list] + \
            [in_s(seconds[key]) if r == row else "" for _, _, row, key in extra]
        rows.append(f"| {eta:g} | " + " | ".join(cells_s) + " |")
    notes = []
    if ddpm_T is not None:
        where = (tr("in the eta = 1 row", "在 eta = 1 那一列") if 1.0 in eta_list
                 else tr("at the end of the last row", "在最後一列的末端"))
        notes.append(tr(f"DDPM ({ddpm_T} steps, posterior variance: eta 1) is shown {where}.",
                        f"DDPM（{ddpm_T} 步，後驗變異數：eta 1）顯示{where}。"))
    if student:
        k = " or ".join(map(str, student.made_for()[1]))
        notes.append(tr(f"**{checkpoint}** is a distilled student of **{teacher}**: trained to land in {k} step(s) "
                        f"where its teacher's many DDIM steps land, so the face from the same x_T should match the "
                        f"eta 0 row at a fraction of the network evaluations. Below: its teacher's quality-vs-steps plot, "
                        f"where the student (diamonds) stands beside DDIM's and DPM-Solver++'s curves at equal network "
                        f"evaluations (further left is cheaper; a two-sample score nearer 0.5 and a lower FFD are "
                        f"nearer real faces).",
                        f"**{checkpoint}** 是 **{teacher}** 的蒸餾學生模型：它被訓練成只用 {k} 步就到達老師走許多步 "
                        f"DDIM 才到的地方，所以同一個 x_T 產生的臉應與 eta 0 那一列相同，而網路運算次數只需一小部分。"
                        f"下方是老師模型報告中的品質與步數關係圖：學生模型（菱形）與 DDIM、DPM-Solver++ 的曲線在相同網路運算次數下並列"
                        f"（越左越省；雙樣本分數越接近 0.5、FFD 越低，就越接近真實人臉）。"))
    return "\n".join(rows) + "".join("\n\n" + n for n in notes)


def seconds_plot(seconds: dict, step_list: list[int], eta_list: list[float], ddpm_T: int | None, path: str) -> None:
    """Seconds per image against steps (log-log), a line per eta, DDPM as a square at T, a student's steps as
    diamonds."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=110)
    for eta in eta_list:
        ax.plot(step_list, [seconds[("ddim", eta, s)] for s in step_list], "o-", label=f"DDIM eta {eta:g}")
    if ddpm_T is not None:
        ax.plot([ddpm_T], [seconds[("ddpm", 1.0, None)]], "s", color="black", label=f"DDPM {ddpm_T}")
    mine = sorted(k for name, _, k in seconds if name == "student")
    if mine:  # a distilled student: its few steps as diamonds, beside the teacher's lines
        ax.plot(mine, [seconds[("student", 0.0, k)] for k in mine], "D", color="crimson",
                label=drawn("distilled student", "蒸餾學生模型"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(drawn("sampling steps (network evaluations)", "取樣步數（網路運算次數）"))
    ax.set_ylabel(drawn("seconds per image", "每張圖的秒數"))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(drawn("Seconds per image against steps, measured now on this machine",
                       "每張圖的秒數與步數的關係（剛剛在這台機器上量測）"), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ----------------------------------------------------------------------------- the tab

INTRO = ("One seed, the same x_T, sampled at several step counts and eta values. At eta 0 the face stays the same "
         "across step counts (DDIM is consistent); eta 1 over all steps is DDPM.")
AFTER = ("HW6 Q2 on one screen: the first plot is what each setting costs, measured now; the second what it gives, "
         "measured once for this checkpoint by `evaluate.py report --sweep --two-sample` (face rates, the two-sample "
         "score, 0.5 = like real faces, and FFD, lower = nearer real faces; FID where the Inception weights are "
         "present; a distilled student is the diamond).")
STRINGS = {
    "DDIM compare": "DDIM 比較", "Compare": "比較", "Seed": "種子", "DDIM steps (comma-separated)": "DDIM 步數（以逗號分隔）",
    "eta values (comma-separated)": "eta 值（以逗號分隔）", "Add DDPM (1000 steps: slow)": "加入 DDPM（1000 步：較慢）",
    INTRO: "同一個種子、同一個 x_T，以不同步數與 eta 取樣。eta 為 0 時，不同步數下的臉幾乎不變（DDIM 具一致性）；"
           "eta 為 1 且使用全部步數即為 DDPM。",
    AFTER: "HW6 第 2 題一次看完：第一張圖是各設定的耗時（即時量測）；第二張是其品質，由 `evaluate.py report --sweep "
           "--two-sample` 為此檢查點量測一次（人臉偵測率、雙樣本分數（0.5 = 與真實人臉無法區分）與 FFD（越低越接近真實人臉）；"
           "有 Inception 權重時另含 FID；菱形為蒸餾學生模型）。",
}


def _layout(ui):
    import gradio as gr

    from .i18n import T

    ui.top(INTRO, ("seed", "steps", "etas", "ddpm"), "Compare")
    grid = ui.picture(gr.Image(show_label=False, format="png", elem_id="cmp-grid"))  # labels are on the image
    table = gr.Markdown(elem_id="cmp-table")
    plot = ui.picture(gr.Image(show_label=False, format="png", elem_id="cmp-plot"))
    # the report's plot has three panels: full width, so a projector shows its labels
    quality = ui.picture(gr.Image(show_label=False, format="png", elem_id="cmp-quality"))
    gr.Markdown(T(AFTER))
    return [grid, table, plot, quality]


def _expected(ex) -> tuple[str, str]:
    most = limits.LIMITS.max_compare_evaluations
    return (f"Here: the default 12 cells take {ex(1, 540)} (one image at a time); DDPM adds {ex(1, 1000)}. At most "
            f"{most:,} network evaluations per run.",
            f"本機：預設的 12 格{ex(1, 540, 'zh')}（一次一張）；加入 DDPM 再{ex(1, 1000, 'zh')}。每次最多 {most:,} 次網路運算。")


TAB = Tab(
    "compare", "cmp", "DDIM compare", compare_stream,
    (Input("seed", Seed(), 0, "Seed"),
     Input("steps", Text(), "10,20,50,100", "DDIM steps (comma-separated)", elem_id="cmp-steps"),
     Input("etas", Text(), "0,0.5,1", "eta values (comma-separated)"),
     Input("ddpm", Bool(), lambda: limits.LIMITS.ddpm_by_default, "Add DDPM (1000 steps: slow)", elem_id="cmp-ddpm"),
     CHECKPOINT),
    _layout,
    examples=(("seed 3 · steps 5,10,20 · eta 0,1", dict(seed=3, steps="5,10,20", etas="0,1", ddpm=False)),
              ("seed 11 · steps 10,50 · eta 0,0.5,1", dict(seed=11, steps="10,50", etas="0,0.5,1", ddpm=False))),
    expected=_expected,
    strings=STRINGS,
)
