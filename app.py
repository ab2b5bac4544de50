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

from demo import files, limits, links  # noqa: E402
from demo.common import follow_checkpoint, takes, teacher_of  # noqa: E402
from demo.i18n import I18N, T  # noqa: E402
from demo.tab import CHECKPOINT, Builder, Shared, Tab, api_handler  # noqa: E402
from demo.tabs import TABS  # noqa: E402
from demo.ui import as_gr_error, cache_images_atomically, checkpoint_choices, examples  # noqa: E402
from lab import memory, uploads  # noqa: E402
from lab.cores import use_granted_cores  # noqa: E402
from lab.registry import REGISTRY  # noqa: E402

# Every event that runs a model shares one slot: two visitors' jobs on 2 cores would only slow each other.
CPU = {"concurrency_limit": 1, "concurrency_id": "cpu"}


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


def present_css(pictures: list[str]) -> str:
    """The CSS, with the pictures that carry labels or titles along their top (their tabs say which): the
    image's buttons sit above them, not over them."""
    rule = ", ".join(f"#{p} .image-container" for p in pictures)
    return PRESENT_CSS + (f"{rule} {{ padding-top: 36px; }}\n" if pictures else "")


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


def mount(tab: Tab, shared: Shared, page_url) -> list:
    """One tab from its declaration: layout, link controls, run (the API endpoint), Stop, examples; returns its
    linkable inputs, in the order of its link spec."""
    with gr.Tab(T(tab.title), id=tab.id):
        ui = Builder(tab, shared)
        outputs = tab.layout(ui)
        inputs = [ui.components.get(i.name, shared.checkpoint) for i in tab.inputs]
        linkable = [ui.components[i.name] for i in tab.inputs if i.link]
        link_controls(tab.id, linkable, shared.checkpoint, page_url)
        handler = api_handler(tab, shared.default_checkpoint)
        event = ui.run_button.click(as_gr_error(handler), inputs, outputs, api_name=tab.id, **CPU)
        runs = shared.default_checkpoint  # the checkpoint the examples run on: a teaching tab's, its teacher
        if runs and not tab.follows:
            runs = teacher_of(runs) or runs
        shown = [(label, v) for label, v in tab.examples  # not those it would refuse
                 if takes(runs, dict(zip([i.name for i in tab.inputs], ui.values(v))))]
        if shown and shared.default_checkpoint and tab.needs():
            examples([ui.values(v) for _, v in shown], [label for label, _ in shown], inputs, outputs, handler)
        if ui.stop_button is not None:
            ui.stop_button.click(None, None, None, cancels=[event])
        if tab.events:
            tab.events(ui, outputs)
        follow = [ui.components.get(name) for name in ("sampler", "steps", "eta")]
        if CHECKPOINT in tab.inputs and tab.follows and all(follow):  # picking a student sets what it takes
            shared.checkpoint.change(follow_checkpoint, [shared.checkpoint, *follow], follow, api_visibility="private")
    return linkable


def build() -> tuple[gr.Blocks, list[str]]:
    """The app, and the pictures the projector CSS pads (main() starts the sweeper of sent files)."""
    cache_images_atomically()
    checkpoints = REGISTRY.names()
    if checkpoints:
        default = REGISTRY.model(checkpoints[0])  # loaded now, not on the first visitor's click
        if default.has_steps:  # the expected times are per network evaluation of a model with steps
            limits.calibrate(default)
    shared = Shared(checkpoint_choices(), checkpoints[0] if checkpoints else None)
    # one sweeper for Gradio's cache, ours (demo/files.py, started by main): Gradio's delete_cache goes by a file's
    # ctime, which a re-served output keeps, so it could take a file a visitor was about to fetch
    with gr.Blocks(title="Anime Face Diffusion Lab") as app:
        gr.Markdown("# Anime Face Diffusion Lab")
        gr.Markdown(T("Anime faces from random numbers with a diffusion model (NTU ML2023 HW6), on the CPU."))
        if limits.LIMITS.public:
            gr.Markdown(T("Shared Space: some limits apply; each tab says what a run costs here."))
        notice = gr.Markdown(elem_id="link-notice")
        page_url = gr.Textbox(visible=False)  # the browser's address, for "Link to this view"
        with gr.Tabs() as tabs:
            linkable = [c for tab in TABS for c in mount(tab, shared, page_url)]
        app.load(links.apply_link, None, [tabs, notice, shared.checkpoint] + linkable, api_visibility="private")
    return app, shared.pictures


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=None, help="default: $GRADIO_SERVER_NAME, else 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: $GRADIO_SERVER_PORT, else 7860")
    p.add_argument("--public", action="store_true", help="the limits of a shared Space (on where $SPACE_ID is set)")
    p.add_argument("--cache-ttl", type=float, default=float(os.environ.get("CACHE_TTL", 600)),
                   help="seconds before files made for responses are deleted (default 600; env CACHE_TTL)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    memory.limit_arenas(2)  # before Gradio's worker threads start: RSS stays flat under a class's load
    cores = use_granted_cores()
    if args.public or limits.public_from_env():
        limits.set_public(True)
    ttl = max(1.0, args.cache_ttl)
    files.start_sweeper(ttl, [files.ROOT, files.GRADIO_TMP], after=memory.trim)  # and hand freed memory back
    logging.getLogger("anime-face-lab").info("torch threads %d; public mode %s; cache TTL %.0f s", cores,
                                             limits.LIMITS.public, ttl)
    app, pictures = build()
    app.queue(max_size=limits.LIMITS.queue_size, default_concurrency_limit=1)
    app.launch(server_name=args.host, server_port=args.port, share=False, max_file_size=uploads.MAX_FILE_BYTES,
               i18n=I18N, css=present_css(pictures), js=PRESENT_JS)


if __name__ == "__main__":
    main()
