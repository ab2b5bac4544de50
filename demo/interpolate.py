"""The Interpolation tab: two seeds, their x_T blended, each frame sampled with deterministic DDIM.

Slerp keeps every blend at the norm a Gaussian x_T has (about √d); a straight line between two
independent x_T passes through shorter vectors, which the model has never seen as noise, so the
middle frames come out washed-out and blurry. The maths lives in lab.pipeline and diffusion.noise.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from lab import inputs
from lab.pipeline import interpolation_stream
from lab.registry import REGISTRY

from . import files, limits
from .common import DEFAULT_CHECKPOINT, UNCHANGED, last
from .denoise import grid
from .generate import PSI_LABEL
from .tab import CHECKPOINT, Input, Int, Real, Seed, Tab

WHY_SLERP = ("Why slerp: a Gaussian x_T lives near the sphere of radius √d; the straight line between two "
             "of them cuts inside it (the midpoint has ~71 % of the norm), so linear blends look faded, "
             "while slerp stays on the sphere.")
EXPLANATION = ("Two seeds; their x_T blended, each blend sampled with deterministic DDIM. " + WHY_SLERP
               + " With a StyleGAN checkpoint: the top strip is linear in w (with truncation ψ), the bottom slerp "
                 "in z, seed A's noise maps held fixed.")
MAX_FRAMES = 16
MAX_STEPS = 100
STEPS_LABEL = "DDIM steps (a distilled student: the steps it takes nearest these)"


def interpolate_stream(seed_a: int, seed_b: int, frames: int = 8, steps: int = 20,
                       checkpoint: str = DEFAULT_CHECKPOINT, psi: float = 1.0, out_dir: str | None = None
                       ) -> Iterator[tuple]:
    """Yields UNCHANGED outputs after every network evaluation (so Stop ends the work within one), then
    (slerp strip, linear strip, GIF path of the first strip there and back). For a StyleGAN: the first strip
    is linear in w (truncated by psi), the second slerp in z, with seed A's noise maps held fixed."""
    seed_a, seed_b = inputs.seed(seed_a, "seed A"), inputs.seed(seed_b, "seed B")
    frames = inputs.whole(frames, "frames", 2, MAX_FRAMES)
    steps = inputs.whole(steps, "DDIM steps", 1, MAX_STEPS)
    deadline = limits.LIMITS.deadline()
    for strips in interpolation_stream(REGISTRY.model(checkpoint), seed_a, seed_b, frames, steps, psi):
        deadline.check()
        if strips is None:
            yield UNCHANGED, UNCHANGED, UNCHANGED
    import imageio.v2 as imageio

    out_dir = out_dir or files.new_dir("interp")
    os.makedirs(out_dir, exist_ok=True)
    gif = os.path.join(out_dir, "slerp.gif")
    big = [img.repeat(4, axis=0).repeat(4, axis=1) for img in strips[0]]
    imageio.mimsave(gif, big + big[-2:0:-1], duration=0.15, loop=0)  # there and back, no repeated ends
    yield grid(strips[0], scale=2), grid(strips[1], scale=2), gif


def interpolate(*args, **kwargs) -> tuple[np.ndarray, np.ndarray, str]:
    return last(interpolate_stream(*args, **kwargs))


# ----------------------------------------------------------------------------- the tab

STRINGS = {
    "Interpolation": "內插", "Interpolate": "內插", "Seed A": "種子 A", "Seed B": "種子 B", "Frames": "影格數",
    STEPS_LABEL: "DDIM 步數（蒸餾學生模型：取它能用且最接近的步數）", "Spherical (slerp)": "球面內插（slerp）", "Linear, for comparison": "線性內插（對照）",
    "Slerp animation (GIF)": "slerp 動畫（GIF）",
    EXPLANATION: "兩個種子；將它們的 x_T 混合，每個混合結果都以確定性的 DDIM 取樣。為什麼用 slerp：高斯分布的 x_T 位在"
                 "半徑約 √d 的球面附近；兩點之間的直線會穿過球的內部（中點只剩約 71% 的長度），所以線性混合看起來褪色，"
                 "而 slerp 則保持在球面上。使用 StyleGAN 檢查點時：上排是在 w 空間的線性內插（含截斷 ψ），下排是在 z "
                 "空間的 slerp，並固定種子 A 的雜訊圖。",
}


def _layout(ui):
    import gradio as gr

    from .i18n import T

    ui.top(EXPLANATION, ("seed_a", "seed_b", "frames", "steps", "psi"), "Interpolate")
    slerp_strip = gr.Image(label=T("Spherical (slerp)"), format="png", elem_id="itp-slerp")
    lerp_strip = gr.Image(label=T("Linear, for comparison"), format="png")
    gif = gr.File(label=T("Slerp animation (GIF)"), elem_id="itp-gif")
    return [slerp_strip, lerp_strip, gif]


def _expected(ex) -> tuple[str, str]:
    """What the defaults cost on the default checkpoint: a distilled student interpolates at its own steps."""
    try:
        steps = REGISTRY.model(REGISTRY.default).interpolation_settings(20).steps or 20
    except ValueError:  # no default here (or a StyleGAN): the slider's 20
        steps = 20
    return (f"Here: 8 frames at {steps} steps, both strips: {ex(16, steps)}.",
            f"本機：8 個影格、{steps} 步，兩條都算{ex(16, steps, 'zh')}。")


TAB = Tab(
    "interpolate", "itp", "Interpolation", interpolate_stream,
    (Input("seed_a", Seed(), 0, "Seed A"), Input("seed_b", Seed(), 1, "Seed B"),
     Input("frames", Int(2, MAX_FRAMES), 8, "Frames"), Input("steps", Int(1, MAX_STEPS), 20, STEPS_LABEL),
     CHECKPOINT, Input("psi", Real(0, 1), 1.0, PSI_LABEL, elem_id="itp-psi")),
    _layout,
    examples=(("seeds 2 → 9, 8 frames", dict(seed_a=2, seed_b=9)),
              ("seeds 5 → 6, 6 frames", dict(seed_a=5, seed_b=6, frames=6, steps=10))),
    expected=_expected,
    strings=STRINGS,
)
