"""Anime Face Diffusion Lab: the Gradio app. It only wires components; handlers live in demo/.

    python app.py [--host 127.0.0.1] [--port 7860]
"""
from __future__ import annotations

import argparse
import functools
import inspect
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
import gradio as gr  # noqa: E402

from demo import compare as cmp  # noqa: E402
from demo import denoise as dn  # noqa: E402
from demo import interpolate as itp  # noqa: E402
from demo import generate as gen  # noqa: E402


def as_gr_error(fn):
    """Core ValueErrors become a gr.Error the visitor sees; the app keeps serving. functools.wraps keeps
    the signature visible, so Gradio still finds a gr.Progress parameter."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except ValueError as e:
                raise gr.Error(str(e)) from None
    else:
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except ValueError as e:
                raise gr.Error(str(e)) from None
    return wrapped


def compare_with_progress(seed, steps, etas, include_ddpm, checkpoint, progress=gr.Progress()):
    return cmp.compare(seed, steps, etas, include_ddpm, checkpoint, progress=lambda f, d: progress(f, desc=d))


def build() -> gr.Blocks:
    checkpoints = gen.available_checkpoints()
    with gr.Blocks(title="Anime Face Diffusion Lab") as app:
        gr.Markdown("# Anime Face Diffusion Lab\nAnime faces from random numbers with a diffusion model "
                    "(NTU ML2023 HW6), on the CPU.")
        with gr.Tab("Generate"):
            with gr.Row():
                with gr.Column(scale=1):
                    seed = gr.Number(value=0, precision=0, label="Seed (the images use seeds seed, seed+1, …)")
                    randomize = gr.Checkbox(value=False, label="Randomize seed")
                    num = gr.Slider(1, gen.MAX_IMAGES, value=16, step=1, label="Number of images")
                    sampler = gr.Radio(list(gen.SAMPLER_NAMES), value="DPM-Solver++", label="Sampler")
                    steps = gr.Slider(1, 1000, value=20, step=1, label="Steps (DDPM always uses all 1000)")
                    eta = gr.Slider(0, 1, value=0, step=0.05, label="eta (DDIM: 0 deterministic, 1 like DDPM)")
                    checkpoint = gr.Dropdown(checkpoints, value=checkpoints[0] if checkpoints else None,
                                             label="Checkpoint")
                    button = gr.Button("Generate", variant="primary")
                with gr.Column(scale=2):
                    gallery = gr.Gallery(label="Generated faces", columns=6, height="auto", format="png")
                    info = gr.Markdown()
            button.click(as_gr_error(gen.generate), [seed, num, sampler, steps, eta, checkpoint, randomize],
                         [gallery, info, seed], api_name="generate", concurrency_limit=1)

        with gr.Tab("Denoising"):
            with gr.Row():
                with gr.Column(scale=1):
                    d_seed = gr.Number(value=0, precision=0, label="Seed")
                    d_num = gr.Slider(1, dn.MAX_IMAGES, value=5, step=1, label="Number of images")
                    d_sampler = gr.Radio(list(gen.SAMPLER_NAMES), value="DDIM", label="Sampler")
                    d_steps = gr.Slider(1, 1000, value=50, step=1, label="Steps (DDPM always uses all 1000)")
                    d_eta = gr.Slider(0, 1, value=0, step=0.05, label="eta (DDIM)")
                    d_view = gr.Radio(list(dn.VIEWS), value="x_t", label="Show")
                    with gr.Row():
                        d_run = gr.Button("Denoise", variant="primary")
                        d_stop = gr.Button("Stop", variant="stop")
                with gr.Column(scale=2):
                    d_live = gr.Image(label="Live", format="png", height=240)
                    d_status = gr.Markdown()
                    d_gif = gr.File(label="Animation (GIF)")
                    d_fig = gr.Image(label="HW6 Question 1: images × timesteps", format="png")
                    gr.Markdown(dn.EXPLANATION)
            d_event = d_run.click(as_gr_error(dn.denoise), [d_seed, d_num, d_sampler, d_steps, d_eta, d_view, checkpoint],
                                  [d_live, d_status, d_gif, d_fig], api_name="denoise", concurrency_limit=1)
            d_stop.click(None, None, None, cancels=[d_event])

        with gr.Tab("DDIM compare"):
            gr.Markdown("One seed, the same x_T, sampled at several step counts and eta values. At eta 0 the face "
                        "stays the same across step counts (DDIM is consistent); eta 1 over all steps is DDPM.")
            with gr.Row():
                c_seed = gr.Number(value=0, precision=0, label="Seed")
                c_steps = gr.Textbox(value="10,20,50,100", label="DDIM steps (comma-separated)")
                c_etas = gr.Textbox(value="0,0.5,1", label="eta values (comma-separated)")
                c_ddpm = gr.Checkbox(value=True, label="Add DDPM (1000 steps)")
            c_run = gr.Button("Compare", variant="primary")
            with gr.Row():
                c_grid = gr.Image(label="Rows: eta; columns: steps (DDPM top right)", format="png")
                c_plot = gr.Image(label="Seconds per image vs steps", format="png")
            c_table = gr.Markdown()
            c_run.click(as_gr_error(compare_with_progress), [c_seed, c_steps, c_etas, c_ddpm, checkpoint],
                        [c_grid, c_table, c_plot], api_name="compare", concurrency_limit=1)

        with gr.Tab("Interpolation"):
            gr.Markdown("Two seeds; their x_T blended, each blend sampled with deterministic DDIM. " + itp.WHY_SLERP)
            with gr.Row():
                i_a = gr.Number(value=0, precision=0, label="Seed A")
                i_b = gr.Number(value=1, precision=0, label="Seed B")
                i_frames = gr.Slider(2, itp.MAX_FRAMES, value=8, step=1, label="Frames")
                i_steps = gr.Slider(1, 100, value=20, step=1, label="DDIM steps")
            i_run = gr.Button("Interpolate", variant="primary")
            i_slerp = gr.Image(label="Spherical (slerp)", format="png")
            i_lerp = gr.Image(label="Linear, for comparison", format="png")
            i_gif = gr.File(label="Slerp animation (GIF)")
            i_run.click(as_gr_error(itp.interpolate), [i_a, i_b, i_frames, i_steps, checkpoint],
                        [i_slerp, i_lerp, i_gif], api_name="interpolate", concurrency_limit=1)
    return app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    args = p.parse_args()
    build().queue(default_concurrency_limit=1, max_size=32).launch(server_name=args.host, server_port=args.port,
                                                                   share=False)


if __name__ == "__main__":
    main()
