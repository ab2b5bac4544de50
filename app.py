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

from demo import batch as bt  # noqa: E402
from demo import common  # noqa: E402
from demo import compare as cmp  # noqa: E402
from demo import denoise as dn  # noqa: E402
from demo import detect as dt  # noqa: E402
from demo import generate as gen  # noqa: E402
from demo import interpolate as itp  # noqa: E402
from demo import versus as vs  # noqa: E402
from lab.registry import REGISTRY  # noqa: E402

# Every event that runs the model shares one slot: two visitors' jobs on 2 cores would only slow each other.
CPU = {"concurrency_limit": 1, "concurrency_id": "cpu"}


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


def batch_with_progress(num, seed, sampler, steps, eta, checkpoint, compute_afd, detector, psi,
                        progress=gr.Progress()):
    return bt.batch(num, seed, sampler, steps, eta, checkpoint, compute_afd, detector, psi,
                    progress=lambda f, d: progress(f, desc=d))


def versus_with_progress(num, seed, ddim_steps, include_ddpm, detector, progress=gr.Progress()):
    return vs.versus(num, seed, ddim_steps, include_ddpm, detector=detector, progress=lambda f, d: progress(f, desc=d))


def psi_slider(elem_id: str) -> gr.Slider:
    return gr.Slider(0, 1, value=1, step=0.05, label="Truncation ψ (StyleGAN checkpoints: 1 = none, lower = "
                     "closer to the average face)", elem_id=elem_id)


def detect_with_progress(files, seed, num, detector, checkpoint, progress=gr.Progress()):
    progress(0.0, desc="detecting faces …")
    return dt.detect(files, seed, num, detector, checkpoint)


def build() -> gr.Blocks:
    checkpoints = REGISTRY.names()
    if checkpoints:
        REGISTRY.model(checkpoints[0])  # load the default model now, not on the first visitor's click
    with gr.Blocks(title="Anime Face Diffusion Lab") as app:
        gr.Markdown("# Anime Face Diffusion Lab\nAnime faces from random numbers with a diffusion model "
                    "(NTU ML2023 HW6), on the CPU.")
        with gr.Tab("Generate"):
            with gr.Row():
                with gr.Column(scale=1):
                    seed = gr.Number(value=0, precision=0, label="Seed (the images use seeds seed, seed+1, …)")
                    randomize = gr.Checkbox(value=False, label="Randomize seed")
                    num = gr.Slider(1, gen.MAX_IMAGES, value=8, step=1, label="Number of images")
                    sampler = gr.Radio(list(common.SAMPLER_NAMES), value="DPM-Solver++", label="Sampler")
                    steps = gr.Slider(1, 1000, value=10, step=1, label="Steps (DDPM always uses all 1000)")
                    eta = gr.Slider(0, 1, value=0, step=0.05, label="eta (DDIM: 0 deterministic, 1 like DDPM)")
                    checkpoint = gr.Dropdown(checkpoints, value=checkpoints[0] if checkpoints else None,
                                             label="Checkpoint (used by every tab)")
                    psi = psi_slider("gen-psi")
                    button = gr.Button("Generate", variant="primary", elem_id="gen-run")
                with gr.Column(scale=2):
                    gallery = gr.Gallery(label="Generated faces (download: the gallery's buttons)", columns=4,
                                         height="auto", format="png", elem_id="gen-gallery")
                    info = gr.Markdown(elem_id="gen-info")
            button.click(as_gr_error(gen.generate), [seed, num, sampler, steps, eta, checkpoint, randomize, psi],
                         [gallery, info, seed], api_name="generate", **CPU)

        with gr.Tab("Denoising"):
            with gr.Row():
                with gr.Column(scale=1):
                    d_seed = gr.Number(value=0, precision=0, label="Seed")
                    d_num = gr.Slider(1, dn.MAX_IMAGES, value=5, step=1, label="Number of images")
                    d_sampler = gr.Radio(list(common.SAMPLER_NAMES), value="DDIM", label="Sampler")
                    d_steps = gr.Slider(1, 1000, value=50, step=1, label="Steps (DDPM always uses all 1000)",
                                        elem_id="den-steps")
                    d_eta = gr.Slider(0, 1, value=0, step=0.05, label="eta (DDIM)")
                    d_view = gr.Radio(list(dn.VIEWS), value="x_t", label="Show")
                    with gr.Row():
                        d_run = gr.Button("Denoise", variant="primary", elem_id="den-run")
                        d_stop = gr.Button("Stop", variant="stop", elem_id="den-stop")
                with gr.Column(scale=2):
                    d_live = gr.Image(label="Live", format="png", height=240, elem_id="den-live")
                    d_status = gr.Markdown(elem_id="den-status")
                    d_gif = gr.File(label="Animation (GIF)", elem_id="den-gif")
                    d_fig = gr.Image(label="HW6 Question 1: images × timesteps", format="png", elem_id="den-fig")
                    gr.Markdown(dn.EXPLANATION)
            d_event = d_run.click(as_gr_error(dn.denoise),
                                  [d_seed, d_num, d_sampler, d_steps, d_eta, d_view, checkpoint],
                                  [d_live, d_status, d_gif, d_fig], api_name="denoise", **CPU)
            d_stop.click(None, None, None, cancels=[d_event])

        with gr.Tab("DDIM compare"):
            gr.Markdown("One seed, the same x_T, sampled at several step counts and eta values. At eta 0 the face "
                        "stays the same across step counts (DDIM is consistent); eta 1 over all steps is DDPM.")
            with gr.Row():
                c_seed = gr.Number(value=0, precision=0, label="Seed")
                c_steps = gr.Textbox(value="10,20,50,100", label="DDIM steps (comma-separated)", elem_id="cmp-steps")
                c_etas = gr.Textbox(value="0,0.5,1", label="eta values (comma-separated)")
                c_ddpm = gr.Checkbox(value=True, label="Add DDPM (1000 steps)", elem_id="cmp-ddpm")
            c_run = gr.Button("Compare", variant="primary", elem_id="cmp-run")
            with gr.Row():
                c_grid = gr.Image(label="Rows: eta; columns: steps (DDPM at the end of the eta = 1 row)", format="png",
                                  elem_id="cmp-grid")
                c_plot = gr.Image(label="Seconds per image vs steps", format="png", elem_id="cmp-plot")
            c_table = gr.Markdown()
            c_run.click(as_gr_error(compare_with_progress), [c_seed, c_steps, c_etas, c_ddpm, checkpoint],
                        [c_grid, c_table, c_plot], api_name="compare", **CPU)

        with gr.Tab("Interpolation"):
            gr.Markdown("Two seeds; their x_T blended, each blend sampled with deterministic DDIM. " + itp.WHY_SLERP
                        + " With a StyleGAN checkpoint: the top strip is linear in w (with truncation ψ), the "
                          "bottom slerp in z, seed A's noise maps held fixed.")
            with gr.Row():
                i_a = gr.Number(value=0, precision=0, label="Seed A")
                i_b = gr.Number(value=1, precision=0, label="Seed B")
                i_frames = gr.Slider(2, itp.MAX_FRAMES, value=8, step=1, label="Frames")
                i_steps = gr.Slider(1, 100, value=20, step=1, label="DDIM steps")
                i_psi = psi_slider("itp-psi")
            i_run = gr.Button("Interpolate", variant="primary", elem_id="itp-run")
            i_slerp = gr.Image(label="Spherical (slerp)", format="png", elem_id="itp-slerp")
            i_lerp = gr.Image(label="Linear, for comparison", format="png")
            i_gif = gr.File(label="Slerp animation (GIF)", elem_id="itp-gif")
            i_run.click(as_gr_error(itp.interpolate), [i_a, i_b, i_frames, i_steps, checkpoint, i_psi],
                        [i_slerp, i_lerp, i_gif], api_name="interpolate", **CPU)

        with gr.Tab("Detect (AFD)"):
            gr.Markdown("Anime-face boxes with confidences, and the **AFD rate**: the fraction of images with at least "
                        "one face, as HW6 scores a submission (YOLOv8 `yolov8x6_animeface.pt`, conf 0.8, iou 0.8, "
                        "imgsz 64). Upload images or a zip, or leave the upload empty to detect on generated faces. "
                        "Without the homework's weights, our own small YOLOv8n or the lbpcascade detector runs "
                        "instead, and the result says which.")
            with gr.Row():
                with gr.Column(scale=1):
                    a_files = gr.File(label="Images or a .zip (optional)", file_count="multiple",
                                      file_types=["image", ".zip"], elem_id="afd-files")
                    a_seed = gr.Number(value=0, precision=0, label="Seed (when nothing is uploaded)")
                    a_num = gr.Slider(1, dt.MAX_GENERATED, value=16, step=1, label="Generated images",
                                      elem_id="afd-num")
                    a_detector = gr.Dropdown(list(common.DETECTOR_CHOICES), value="Best available", label="Detector")
                    a_run = gr.Button("Detect", variant="primary", elem_id="afd-run")
                with gr.Column(scale=2):
                    a_info = gr.Markdown(elem_id="afd-info")
                    a_gallery = gr.Gallery(label="Detected faces", columns=4, height="auto", format="png",
                                           elem_id="afd-gallery")
            a_run.click(as_gr_error(detect_with_progress), [a_files, a_seed, a_num, a_detector, checkpoint],
                        [a_gallery, a_info], api_name="detect", **CPU)

        with gr.Tab("Batch"):
            gr.Markdown("Up to 1000 faces as a zip of `1.jpg` … `N.jpg`, the HW6 submission format "
                        "(image i from seed + i − 1). 1000 images take about 2 minutes on 2 CPU cores.")
            with gr.Row():
                with gr.Column(scale=1):
                    b_num = gr.Slider(1, bt.MAX_IMAGES, value=100, step=1, label="Number of images",
                                      elem_id="batch-num")
                    b_seed = gr.Number(value=0, precision=0, label="Seed")
                    b_sampler = gr.Radio(list(common.SAMPLER_NAMES), value="DPM-Solver++", label="Sampler")
                    b_steps = gr.Slider(1, 1000, value=20, step=1, label="Steps (DDPM always uses all 1000)")
                    b_eta = gr.Slider(0, 1, value=0, step=0.05, label="eta (DDIM)")
                    b_afd = gr.Checkbox(value=True, label="Compute the AFD rate")
                    b_detector = gr.Dropdown(list(common.DETECTOR_CHOICES), value="Best available", label="Detector")
                    b_psi = psi_slider("batch-psi")
                    b_run = gr.Button("Generate batch", variant="primary", elem_id="batch-run")
                with gr.Column(scale=2):
                    b_zip = gr.File(label="Zip of 1.jpg … N.jpg", elem_id="batch-zip")
                    b_info = gr.Markdown(elem_id="batch-info")
                    b_preview = gr.Gallery(label="The first images", columns=6, height="auto", format="png",
                                           elem_id="batch-preview")
            b_run.click(as_gr_error(batch_with_progress),
                        [b_num, b_seed, b_sampler, b_steps, b_eta, checkpoint, b_afd, b_detector, b_psi],
                        [b_zip, b_info, b_preview], api_name="batch", **CPU)

        with gr.Tab("Diffusion vs GAN"):
            gr.Markdown("The same seeds through DDPM (1000 steps), DDIM and the StyleGAN baseline: the GAN makes an "
                        "image in one pass, the diffusion model in many network evaluations. Wall time per image and "
                        "the AFD rate are measured now, on this machine.")
            with gr.Row():
                v_num = gr.Slider(1, vs.MAX_IMAGES, value=4, step=1, label="Images per method", elem_id="vs-num")
                v_seed = gr.Number(value=0, precision=0, label="Seed")
                v_steps = gr.Slider(1, 1000, value=20, step=1, label="DDIM steps")
                v_ddpm = gr.Checkbox(value=True, label="Include DDPM (1000 steps: slow)", elem_id="vs-ddpm")
                v_detector = gr.Dropdown(list(common.DETECTOR_CHOICES), value="Best available", label="Detector")
            v_run = gr.Button("Compare", variant="primary", elem_id="vs-run")
            v_grid = gr.Image(label="A row per method", format="png", elem_id="vs-grid")
            v_table = gr.Markdown(elem_id="vs-table")
            v_run.click(as_gr_error(versus_with_progress), [v_num, v_seed, v_steps, v_ddpm, v_detector],
                        [v_grid, v_table], api_name="versus", **CPU)
    return app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    args = p.parse_args()
    build().queue(max_size=32).launch(server_name=args.host, server_port=args.port,
                                                                   share=False)


if __name__ == "__main__":
    main()
