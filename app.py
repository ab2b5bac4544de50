"""Anime Face Diffusion Lab: the Gradio app. It only wires components; handlers live in demo/.

    python app.py [--host 127.0.0.1] [--port 7860] [--public] [--cache-ttl 600]

Host and port come from the flags, else from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (as a Hugging Face
Space sets them), else 127.0.0.1:7860. Public mode (limits for a shared 2-core machine, see demo/limits.py)
is on where $SPACE_ID is set, or with --public.
"""
from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
import gradio as gr  # noqa: E402

from demo import batch as bt  # noqa: E402
from demo import common  # noqa: E402
from demo import compare as cmp  # noqa: E402
from demo import denoise as dn  # noqa: E402
from demo import detect as dt  # noqa: E402
from demo import files  # noqa: E402
from demo import forward as fw  # noqa: E402
from demo import generate as gen  # noqa: E402
from demo import interpolate as itp  # noqa: E402
from demo import limits  # noqa: E402
from demo import links  # noqa: E402
from demo.i18n import I18N, ZH_TW, T, both, translated  # noqa: E402
from demo import versus as vs  # noqa: E402
from demo.ui import (Number, Slider, as_gr_error, batch_with_progress, compare_with_progress,  # noqa: E402, F401
                     checkpoint_choices, denoise_with_scrubber, detect_with_progress, examples, expected_line,
                     psi_slider, run_and_stop, seed_box, show_kept_frame, versus_with_progress)
from lab import uploads  # noqa: E402
from lab.registry import REGISTRY  # noqa: E402

# Every event that runs a model shares one slot: two visitors' jobs on 2 cores would only slow each other.
CPU = {"concurrency_limit": 1, "concurrency_id": "cpu"}
SAMPLERS = list(common.SAMPLER_NAMES)


# ?present=1: the projector view. Large type, the light theme, pixels shown as pixels, and the chrome a class does
# not need on the wall hidden, so each tab's main output fits a 1280x800 projector without scrolling.
PRESENT_JS = """() => {
  const q = new URLSearchParams(window.location.search);
  if (q.get('present') !== '1') return;
  if (q.get('__theme') !== 'light') { q.set('__theme', 'light'); window.location.search = q.toString(); return; }
  document.body.classList.add('present');
}"""
PRESENT_CSS = """
.expected { font-size: 0.8rem; opacity: 0.85; }
/* on a phone, tables scroll sideways instead of wrapping one digit per line */
.prose table { display: block; overflow-x: auto; white-space: nowrap; }
/* pictures with labels or titles along their top: the image's buttons sit above it, not over them */
#fw-grid .image-container, #den-live .image-container, #cmp-grid .image-container, #vs-grid .image-container,
#fw-plot .image-container, #den-fig .image-container, #cmp-plot .image-container,
#cmp-quality .image-container { padding-top: 36px; }
/* galleries: the first row starts below the label badge instead of under it, and no empty box below the rows */
.gallery-container .grid-container { padding-top: 34px !important; }
.gallery-container .grid-wrap.fixed-height { min-height: 0 !important; max-height: none !important; }
/* … and on a phone a gallery's columns shrink to the screen (Gradio keeps them at least 100 px: the last is cut) */
@media (max-width: 640px) {
  .grid-container { grid-template-columns: repeat(var(--grid-cols), minmax(0, 1fr)) !important;
                    grid-auto-rows: auto !important; }
}
body.present .gradio-container { max-width: 100% !important; }
body.present .prose, body.present label, body.present button, body.present [role=tab] { font-size: 1.3rem !important; }
body.present img { image-rendering: pixelated; }
body.present .expected, body.present .gallery-examples, body.present #link-notice,
body.present [id$='-link-make'], body.present [id$='-link'], body.present footer, body.present .examples-holder,
body.present h1 { display: none !important; }
body.present .block.padded { padding: 6px !important; }
"""


def link_controls(tab_id: str, comps: list, checkpoint, page_url) -> None:
    """A "link to this view" button and the link it makes (with a copy button), for one tab. The browser puts its
    own address into `page_url` first (the js step), so the link is right behind any proxy or Space iframe."""
    with gr.Row():
        button = gr.Button(T("Link to this view"), size="sm", elem_id=f"{tab_id}-link-make")
        box = gr.Textbox(label=T("Link (send it to the class)"), buttons=["copy"], visible=False, interactive=False,
                         elem_id=f"{tab_id}-link")

    def make(*values):
        *inputs_, ckpt, base = values
        return gr.update(value=links.make(base, tab_id, dict(zip(links.VIEWS[tab_id], inputs_)), ckpt), visible=True)

    button.click(make, comps + [checkpoint, page_url], box, api_visibility="private",
                 js="(...args) => [...args.slice(0, -1), window.location.href]")


def build(cache_ttl: float = 600) -> gr.Blocks:
    """The app; Gradio's own cache of files sent to visitors is swept of files older than cache_ttl seconds."""
    L = limits.LIMITS
    checkpoints = REGISTRY.names()
    first_images: list = []
    if checkpoints:
        default = REGISTRY.model(checkpoints[0])  # loaded now, not on the first visitor's click
        if default.has_steps:  # the expected times are per network evaluation of a model with steps
            limits.calibrate(default)
        first_images = gen.generate(0, 8, "DPM-Solver++", 10, 0.0, checkpoints[0])[0]  # faces on first load
    ex = limits.expected

    def zx(images: int, evaluations: int) -> str:
        return limits.expected(images, evaluations, "zh")
    sweep = (max(1, int(min(60, cache_ttl / 2))), max(1, int(cache_ttl)))
    with gr.Blocks(title="Anime Face Diffusion Lab", delete_cache=sweep) as app:
        gr.Markdown("# Anime Face Diffusion Lab")
        gr.Markdown(T("Anime faces from random numbers with a diffusion model (NTU ML2023 HW6), on the CPU."))
        if L.public:
            gr.Markdown(T("Shared Space: some limits apply; each tab says what a run costs here."))
        notice = gr.Markdown(elem_id="link-notice")
        views: dict[str, list] = {}  # tab → its linkable inputs, in demo.links.VIEWS order
        page_url = gr.Textbox(visible=False)  # the browser's address, for "Link to this view"
        with gr.Tabs() as tabs:
            with gr.Tab(T("Generate"), id="generate"):
                with gr.Row():
                    with gr.Column(scale=1):
                        seed = seed_box(T("Seed (the images use seeds seed, seed+1, …)"))
                        randomize = gr.Checkbox(value=False, label=T("Randomize seed"))
                        num = Slider(1, gen.MAX_IMAGES, value=8, step=1, label=T("Number of images"))
                        sampler = gr.Radio(SAMPLERS, value="DPM-Solver++", label=T("Sampler"))
                        steps = Slider(1, 1000, value=10, step=1, label=T("Steps (DDPM always uses all 1000)"))
                        eta = Slider(0, 1, value=0, step=0.05, label=T("eta (DDIM: 0 deterministic, 1 like DDPM)"))
                        checkpoint = gr.Dropdown(checkpoint_choices(), value=checkpoints[0] if checkpoints else None,
                                                 label=T("Checkpoint (used by every tab; two-sample score: 0.5 = like real faces)"),
                                                 elem_id="checkpoint")
                        psi = psi_slider("gen-psi")
                        button = gr.Button(T("Generate"), variant="primary", elem_id="gen-run")
                        expected_line(both(f"Here: 8 images at DPM-Solver++ 10 steps take {ex(8, 10)}; "
                                           f"DDPM {ex(1, 1000)} per image.",
                                           f"本機：8 張圖、DPM-Solver++ 10 步{zx(8, 10)}；DDPM 每張{zx(1, 1000)}。"))
                    with gr.Column(scale=2):
                        gallery = gr.Gallery(value=first_images or None, label=T("Generated faces (download: the gallery's buttons)"),
                                             columns=4, height="auto", format="png",
                                             elem_id="gen-gallery")
                        info = gr.Markdown(T("Seeds 0–7, DPM-Solver++ 10 steps: press Generate for your own.")
                                           if first_images else "", elem_id="gen-info")
                gen_inputs = [seed, num, sampler, steps, eta, checkpoint, randomize, psi]
                views["generate"] = [seed, num, sampler, steps, eta, psi]
                link_controls("generate", views["generate"], checkpoint, page_url)
                button.click(as_gr_error(gen.generate), gen_inputs, [gallery, info, seed], api_name="generate", **CPU)
                if checkpoints:
                    examples([[7, 8, "DDIM", 20, 0.0, checkpoints[0], False, 1.0],
                              [42, 8, "DPM-Solver++", 20, 0.0, checkpoints[0], False, 1.0],
                              [3, 4, "DDIM", 50, 1.0, checkpoints[0], False, 1.0]],
                             ["seed 7 · DDIM 20", "seed 42 · DPM-Solver++ 20", "seed 3 · DDIM 50, eta 1"],
                             gen_inputs, [gallery, info, seed],
                             gen.generate)

            with gr.Tab(T("Forward process"), id="forward"):
                gr.Markdown(T(fw.EXPLANATION))
                with gr.Row():
                    with gr.Column(scale=1):
                        f_sources = list(fw.SOURCES) if fw.training_faces_present() else list(fw.SOURCES[:2])
                        f_source = gr.Radio(translated(f_sources), value=fw.SOURCES[0], label=T("The face x_0"))
                        f_seed = seed_box(T("Seed (the generated or training face, and the noise ε)"))
                        f_upload = gr.File(label=T("Image (for 'Uploaded image')"), file_count="single",
                                           file_types=["image"], elem_id="fw-upload")
                        f_ts = gr.Textbox(value="0,50,100,250,500,750,999", label=T("Timesteps t (comma-separated)"),
                                          elem_id="fw-ts")
                        f_T = Slider(50, 1000, value=1000, step=1, label=T("T (diffusion steps of the schedules)"))
                        f_steps = Slider(1, 100, value=10, step=1, label=T("Sampler steps S (dots on the curves)"))
                        f_spacing = gr.Radio(list(fw.SPACINGS), value="trailing", label=T("Spacing of the sampler's steps"))
                        f_run = gr.Button(T("Show"), variant="primary", elem_id="fw-run")
                    with gr.Column(scale=2):
                        f_grid = gr.Image(show_label=False, format="png",  # labelled on the image
                                          elem_id="fw-grid")
                        f_info = gr.Markdown(elem_id="fw-info")
                        f_plot = gr.Image(label=T("The schedules"), format="png", elem_id="fw-plot")
                f_inputs = [f_source, f_seed, f_upload, f_ts, f_T, f_steps, f_spacing, checkpoint]
                views["forward"] = [f_source, f_seed, f_ts, f_T, f_steps, f_spacing]
                link_controls("forward", views["forward"], checkpoint, page_url)
                f_run.click(as_gr_error(fw.forward), f_inputs, [f_grid, f_plot, f_info], api_name="forward", **CPU)

            with gr.Tab(T("Denoising"), id="denoise"):
                with gr.Row():
                    with gr.Column(scale=1):
                        d_seed = seed_box()
                        d_num = Slider(1, dn.MAX_IMAGES, value=5, step=1, label=T("Number of images"))
                        d_sampler = gr.Radio(SAMPLERS, value="DDIM", label=T("Sampler"))
                        d_steps = Slider(1, 1000, value=50, step=1, label=T("Steps (DDPM always uses all 1000)"),
                                         elem_id="den-steps")
                        d_eta = Slider(0, 1, value=0, step=0.05, label=T("eta (DDIM)"))
                        d_run, d_stop = run_and_stop(T("Denoise"), "den")
                        expected_line(both(f"Here: 5 images, DDIM 50 steps: {ex(5, 50)}.",
                                           f"本機：5 張圖、DDIM 50 步{zx(5, 50)}。"))
                    with gr.Column(scale=2):
                        d_live = gr.Image(show_label=False, format="png", elem_id="den-live")  # labelled on the image
                        d_scrub = gr.Slider(0, 1, value=0, step=1, visible=False, elem_id="den-scrub",
                                            label=T("Go back to any kept step (no recomputing)"))
                        d_frames = gr.State([])
                        d_status = gr.Markdown(elem_id="den-status")
                        d_gif = gr.File(label=T("Animation (GIF)"), elem_id="den-gif")
                        d_fig = gr.Image(label=T("HW6 Question 1: images × timesteps"), format="png", elem_id="den-fig")
                        gr.Markdown(T(dn.EXPLANATION))
                d_inputs = [d_seed, d_num, d_sampler, d_steps, d_eta, checkpoint]
                views["denoise"] = [d_seed, d_num, d_sampler, d_steps, d_eta]
                link_controls("denoise", views["denoise"], checkpoint, page_url)
                d_outputs = [d_live, d_status, d_gif, d_fig, d_frames, d_scrub]
                d_event = d_run.click(as_gr_error(denoise_with_scrubber), d_inputs, d_outputs, api_name="denoise", **CPU)
                d_scrub.input(show_kept_frame, [d_scrub, d_frames], d_live, api_visibility="private")
                if checkpoints:
                    examples([[1, 4, "DDIM", 20, 0.0, checkpoints[0]], [7, 3, "DPM-Solver++", 10, 0.0, checkpoints[0]]],
                             ["seed 1 · DDIM 20", "seed 7 · DPM-Solver++ 10"], d_inputs, d_outputs, denoise_with_scrubber)
                d_stop.click(None, None, None, cancels=[d_event])

            with gr.Tab(T("DDIM compare"), id="compare"):
                gr.Markdown(T("One seed, the same x_T, sampled at several step counts and eta values. At eta 0 the face "
                            "stays the same across step counts (DDIM is consistent); eta 1 over all steps is DDPM."))
                with gr.Row():
                    c_seed = seed_box()
                    c_steps = gr.Textbox(value="10,20,50,100", label=T("DDIM steps (comma-separated)"), elem_id="cmp-steps")
                    c_etas = gr.Textbox(value="0,0.5,1", label=T("eta values (comma-separated)"))
                    c_ddpm = gr.Checkbox(value=L.ddpm_by_default, label=T("Add DDPM (1000 steps: slow)"), elem_id="cmp-ddpm")
                c_run, c_stop = run_and_stop(T("Compare"), "cmp")
                expected_line(both(f"Here: the default 12 cells take {ex(1, 540)} (one image at a time); DDPM adds "
                                   f"{ex(1, 1000)}. At most {L.max_compare_evaluations:,} network evaluations per run.",
                                   f"本機：預設的 12 格{zx(1, 540)}（一次一張）；加入 DDPM 再{zx(1, 1000)}。"
                                   f"每次最多 {L.max_compare_evaluations:,} 次網路運算。"))
                c_grid = gr.Image(show_label=False, format="png", elem_id="cmp-grid")  # labels are on the image
                c_table = gr.Markdown(elem_id="cmp-table")
                c_plot = gr.Image(show_label=False, format="png", elem_id="cmp-plot")
                # the report's plot has three panels: full width, so a projector shows its labels
                c_quality = gr.Image(show_label=False, format="png", elem_id="cmp-quality")
                gr.Markdown(T("HW6 Q2 on one screen: the first plot is what each setting costs, measured now; the "
                            "second what it gives, measured once for this checkpoint by `evaluate.py report --sweep "
                            "--two-sample` (face rates and the two-sample score, 0.5 = like real faces; FID where the "
                            "Inception weights are present)."))
                c_inputs = [c_seed, c_steps, c_etas, c_ddpm, checkpoint]
                views["compare"] = [c_seed, c_steps, c_etas, c_ddpm]
                link_controls("compare", views["compare"], checkpoint, page_url)
                c_outputs = [c_grid, c_table, c_plot, c_quality]
                c_event = c_run.click(as_gr_error(compare_with_progress), c_inputs, c_outputs, api_name="compare", **CPU)
                if checkpoints:
                    examples([[3, "5,10,20", "0,1", False, checkpoints[0]], [11, "10,50", "0,0.5,1", False, checkpoints[0]]],
                             ["seed 3 · steps 5,10,20 · eta 0,1", "seed 11 · steps 10,50 · eta 0,0.5,1"], c_inputs,
                             c_outputs, compare_with_progress)
                c_stop.click(None, None, None, cancels=[c_event])

            with gr.Tab(T("Interpolation"), id="interpolate"):
                gr.Markdown(T(itp.EXPLANATION))
                with gr.Row():
                    i_a = seed_box(T("Seed A"))
                    i_b = seed_box(T("Seed B"), 1)
                    i_frames = Slider(2, itp.MAX_FRAMES, value=8, step=1, label=T("Frames"))
                    i_steps = Slider(1, itp.MAX_STEPS, value=20, step=1, label=T("DDIM steps"))
                    i_psi = psi_slider("itp-psi")
                i_run, i_stop = run_and_stop(T("Interpolate"), "itp")
                expected_line(both(f"Here: 8 frames at 20 steps, both strips: {ex(16, 20)}.",
                                   f"本機：8 個影格、20 步，兩條都算{zx(16, 20)}。"))
                i_slerp = gr.Image(label=T("Spherical (slerp)"), format="png", elem_id="itp-slerp")
                i_lerp = gr.Image(label=T("Linear, for comparison"), format="png")
                i_gif = gr.File(label=T("Slerp animation (GIF)"), elem_id="itp-gif")
                i_inputs = [i_a, i_b, i_frames, i_steps, checkpoint, i_psi]
                views["interpolate"] = [i_a, i_b, i_frames, i_steps, i_psi]
                link_controls("interpolate", views["interpolate"], checkpoint, page_url)
                i_event = i_run.click(as_gr_error(itp.interpolate_stream), i_inputs, [i_slerp, i_lerp, i_gif],
                                      api_name="interpolate", **CPU)
                if checkpoints:
                    examples([[2, 9, 8, 20, checkpoints[0], 1.0], [5, 6, 6, 10, checkpoints[0], 1.0]],
                             ["seeds 2 → 9, 8 frames", "seeds 5 → 6, 6 frames"], i_inputs,
                             [i_slerp, i_lerp, i_gif], itp.interpolate_stream)
                i_stop.click(None, None, None, cancels=[i_event])

            with gr.Tab(T("Detect (AFD)"), id="detect"):
                mb, n = uploads.MAX_FILE_BYTES // 2**20, uploads.MAX_IMAGES
                gr.Markdown(both(dt.EXPLANATION + f" Uploads: at most {mb} MB a file and {n} images per run.",
                                 ZH_TW[dt.EXPLANATION] + f"上傳限制：每個檔案最多 {mb} MB，每次最多 {n} 張圖片。"))
                with gr.Row():
                    with gr.Column(scale=1):
                        a_files = gr.File(label=T("Images or a .zip (optional)"), file_count="multiple",
                                          file_types=["image", ".zip"], elem_id="afd-files")
                        a_seed = seed_box(T("Seed (when nothing is uploaded)"))
                        a_num = Slider(1, dt.MAX_GENERATED, value=16, step=1, label=T("Generated images"), elem_id="afd-num")
                        a_detector = gr.Dropdown(translated(common.DETECTOR_CHOICES), value="Best available", label=T("Detector"))
                        a_run, a_stop = run_and_stop(T("Detect"), "afd")
                        expected_line(both(f"Here: 16 generated faces (DPM-Solver++ 20) take {ex(16, 20)}.",
                                           f"本機：生成 16 張人臉（DPM-Solver++ 20）{zx(16, 20)}。"))
                    with gr.Column(scale=2):
                        a_info = gr.Markdown(elem_id="afd-info")
                        a_gallery = gr.Gallery(label=T("Detected faces"), columns=4, height="auto", format="png",
                                               elem_id="afd-gallery")
                a_inputs = [a_files, a_seed, a_num, a_detector, checkpoint]
                views["detect"] = [a_seed, a_num, a_detector]
                link_controls("detect", views["detect"], checkpoint, page_url)
                a_event = a_run.click(as_gr_error(detect_with_progress), a_inputs, [a_gallery, a_info], api_name="detect",
                                      **CPU)
                if checkpoints:
                    examples([[None, 100, 8, "Best available", checkpoints[0]],
                              [None, 200, 8, "lbpcascade (OpenCV)", checkpoints[0]]],
                             ["8 faces from seed 100", "8 faces from seed 200 · lbpcascade"], a_inputs, [a_gallery, a_info],
                             detect_with_progress)
                a_stop.click(None, None, None, cancels=[a_event])

            with gr.Tab(T("Batch"), id="batch"):
                gr.Markdown(T("Up to 1000 faces as a zip of `1.jpg` … `N.jpg`, the HW6 submission format "
                            "(image i from seed + i − 1)."))
                with gr.Row():
                    with gr.Column(scale=1):
                        b_num = Slider(1, bt.MAX_IMAGES, value=100, step=1, label=T("Number of images"), elem_id="batch-num")
                        b_seed = seed_box()
                        b_sampler = gr.Radio(SAMPLERS, value="DPM-Solver++", label=T("Sampler"))
                        b_steps = Slider(1, 1000, value=20, step=1, label=T("Steps (DDPM always uses all 1000)"))
                        b_eta = Slider(0, 1, value=0, step=0.05, label=T("eta (DDIM)"))
                        b_afd = gr.Checkbox(value=True, label=T("Compute the AFD rate"))
                        b_detector = gr.Dropdown(translated(common.DETECTOR_CHOICES), value="Best available", label=T("Detector"))
                        b_psi = psi_slider("batch-psi")
                        b_run, b_stop = run_and_stop(T("Generate batch"), "batch")
                        expected_line(both(f"Here: 100 images at DPM-Solver++ 20 take {ex(100, 20)}; 1000 take "
                                           f"{ex(1000, 20)}. Stop ends it at once (no partial zip).",
                                           f"本機：DPM-Solver++ 20 步，100 張{zx(100, 20)}、1000 張{zx(1000, 20)}。"
                                           f"按「停止」立即結束（不留下不完整的壓縮檔）。"))
                    with gr.Column(scale=2):
                        b_zip = gr.File(label=T("Zip of 1.jpg … N.jpg"), elem_id="batch-zip")
                        b_info = gr.Markdown(elem_id="batch-info")
                        b_preview = gr.Gallery(label=T("The first images"), columns=6, height="auto", format="png",
                                               elem_id="batch-preview")
                b_inputs = [b_num, b_seed, b_sampler, b_steps, b_eta, checkpoint, b_afd, b_detector, b_psi]
                views["batch"] = [b_num, b_seed, b_sampler, b_steps, b_eta, b_afd, b_detector, b_psi]
                link_controls("batch", views["batch"], checkpoint, page_url)
                b_event = b_run.click(as_gr_error(batch_with_progress), b_inputs, [b_zip, b_info, b_preview],
                                      api_name="batch", **CPU)
                if checkpoints:
                    examples([[16, 0, "DPM-Solver++", 10, 0.0, checkpoints[0], True, "Best available", 1.0],
                              [16, 500, "DDIM", 20, 0.0, checkpoints[0], True, "Best available", 1.0]],
                             ["16 faces · DPM-Solver++ 10", "16 faces from seed 500 · DDIM 20"], b_inputs,
                             [b_zip, b_info, b_preview], batch_with_progress)
                b_stop.click(None, None, None, cancels=[b_event])

            with gr.Tab(T("Diffusion vs GAN"), id="versus"):
                gr.Markdown(T("The same seeds through DDPM (1000 steps), DDIM and the StyleGAN baseline: the GAN makes an "
                            "image in one pass, the diffusion model in many network evaluations. Wall time per image and "
                            "the AFD rate are measured now, on this machine."))
                with gr.Row():
                    v_num = Slider(1, vs.MAX_IMAGES, value=4, step=1, label=T("Images per method"), elem_id="vs-num")
                    v_seed = seed_box()
                    v_steps = Slider(1, 1000, value=20, step=1, label=T("DDIM steps"))
                    v_ddpm = gr.Checkbox(value=L.ddpm_by_default, label=T("Include DDPM (1000 steps: slow)"),
                                         elem_id="vs-ddpm")
                    v_detector = gr.Dropdown(translated(common.DETECTOR_CHOICES), value="Best available", label=T("Detector"))
                v_run, v_stop = run_and_stop(T("Compare"), "vs")
                expected_line(both(f"Here: 4 images with DDIM 20 take {ex(4, 20)}; DDPM adds {ex(4, 1000)}.",
                                   f"本機：4 張圖、DDIM 20 步{zx(4, 20)}；加入 DDPM 再{zx(4, 1000)}。"))
                v_grid = gr.Image(label=T("A row per method"), format="png", elem_id="vs-grid")
                v_table = gr.Markdown(elem_id="vs-table")
                v_inputs = [v_num, v_seed, v_steps, v_ddpm, v_detector]
                views["versus"] = [v_num, v_seed, v_steps, v_ddpm, v_detector]
                link_controls("versus", views["versus"], checkpoint, page_url)
                v_event = v_run.click(as_gr_error(versus_with_progress), v_inputs, [v_grid, v_table], api_name="versus",
                                      **CPU)
                if REGISTRY.names("stylegan") and REGISTRY.names("diffusion"):
                    examples([[4, 0, 20, False, "Best available"], [4, 40, 10, False, "lbpcascade (OpenCV)"]],
                             ["4 seeds · DDIM 20", "4 seeds from 40 · DDIM 10"], v_inputs,
                             [v_grid, v_table], versus_with_progress)
                v_stop.click(None, None, None, cancels=[v_event])
        app.load(links.apply_link, None, [tabs, notice, checkpoint] + [c for comps in views.values() for c in comps],
                 api_visibility="private")
    return app


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=None, help="default: $GRADIO_SERVER_NAME, else 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: $GRADIO_SERVER_PORT, else 7860")
    p.add_argument("--public", action="store_true", help="the limits of a shared Space (on where $SPACE_ID is set)")
    p.add_argument("--cache-ttl", type=float, default=float(os.environ.get("CACHE_TTL", 600)),
                   help="seconds before files made for responses are deleted (default 600; env CACHE_TTL)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from lab.cores import use_granted_cores

    cores = use_granted_cores()
    if args.public or limits.public_from_env():
        limits.set_public(True)
    ttl = max(1.0, args.cache_ttl)
    files.start_sweeper(ttl, [files.ROOT, files.GRADIO_TMP])
    logging.getLogger("anime-face-lab").info("torch threads %d; public mode %s; cache TTL %.0f s", cores,
                                             limits.LIMITS.public, ttl)
    app = build(ttl)
    app.queue(max_size=limits.LIMITS.queue_size, default_concurrency_limit=1)
    app.launch(server_name=args.host, server_port=args.port, share=False, max_file_size=uploads.MAX_FILE_BYTES,
               i18n=I18N, css=PRESENT_CSS, js=PRESENT_JS)


if __name__ == "__main__":
    main()
