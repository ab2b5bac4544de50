"""Anime Face Diffusion Lab: the Gradio app. It only wires components; handlers live in demo/.

    python app.py [--host 127.0.0.1] [--port 7860]
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
import gradio as gr  # noqa: E402

from demo import denoise as dn  # noqa: E402
from demo import generate as gen  # noqa: E402


def as_gr_error(fn):
    """Core ValueErrors become a gr.Error the visitor sees; the app keeps serving."""
    import inspect

    if inspect.isgeneratorfunction(fn):
        def wrapped(*args):
            try:
                yield from fn(*args)
            except ValueError as e:
                raise gr.Error(str(e)) from None
    else:
        def wrapped(*args):
            try:
                return fn(*args)
            except ValueError as e:
                raise gr.Error(str(e)) from None
    wrapped.__name__ = fn.__name__
    return wrapped


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
