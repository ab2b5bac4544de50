"""What app.py needs from Gradio beyond its components: inputs that leave validation to our handlers (so
every message names its parameter), the wrapper that turns a handler's errors into messages, and images cached
without a truncated moment (`cache_images_atomically`)."""
from __future__ import annotations

import functools
import inspect
import logging

import gradio as gr

from lab.refusal import Refusal
from lab.registry import REGISTRY, Registry

from .common import UNCHANGED
from .i18n import both
from .messages import speaking, translate

log = logging.getLogger("anime-face-lab")


def cache_images_atomically() -> None:
    """Gradio caches an output image under the hash of its bytes and, when the same image is served again, writes
    it again in place: opening the file for writing empties it, so a visitor fetching that image at that moment
    (a class asking for the same seeds) gets a body cut short (bench/load.py: 1 request in 960). Write each under a
    temporary name and rename it into place instead, which readers see whole or not at all."""
    import os
    import tempfile
    from pathlib import Path

    from gradio import processing_utils as pu

    if getattr(pu.save_pil_to_cache, "atomic", False):
        return

    def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
        data = pu.encode_pil_to_bytes(img, format)
        folder = Path(cache_dir) / pu.hash_bytes(data)
        folder.mkdir(exist_ok=True, parents=True)
        path = (folder / f"{name}.{format}").resolve()
        if path.exists() and path.stat().st_size == len(data):  # the same bytes: touch it (the sweeper's clock)
            os.utime(path)
            return str(path)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return str(path)

    save_pil_to_cache.atomic = True
    pu.save_pil_to_cache = save_pil_to_cache


class Slider(gr.Slider):
    """A slider whose value reaches the handler as sent: lab.inputs checks it and names the parameter in its
    message ("steps must be a whole number from 1 to 1000, got 0") instead of Gradio's unnamed range error."""
    is_template = True  # rendered by Gradio's own slider

    def preprocess(self, payload):
        return payload


class Number(gr.Number):
    """A number box passing its value through unrounded (2.5 steps is refused, not cut to 2; NaN is refused
    with a sentence instead of crashing the rounding)."""
    is_template = True

    def preprocess(self, payload):
        return payload


def _unchanged_to_skip(value):
    if value is UNCHANGED:
        return gr.skip()
    if isinstance(value, tuple):
        return tuple(gr.skip() if v is UNCHANGED else v for v in value)
    return value


def _message(e: Exception, accept_language: str | None = None) -> gr.Error:
    if isinstance(e, ValueError):
        return gr.Error(translate(e, accept_language))
    log.exception("handler failed")  # the traceback goes to the server log, not to the visitor
    return gr.Error(translate(Refusal("server", f"Something went wrong on the server ({type(e).__name__}); nothing "
                                      f"was changed and the app is still running: try again, or with other settings.",
                                      error=type(e).__name__), accept_language))


def _split_request(args: tuple) -> tuple[tuple, str | None]:
    """The handler's own arguments, and the visitor's Accept-Language from the gr.Request Gradio appended."""
    if args and isinstance(args[-1], gr.Request):
        request = args[-1]
        return args[:-1], (request.headers.get("accept-language") if request.headers is not None else None)
    return args, None


def as_gr_error(fn):
    """A handler for Gradio: ValueErrors become the visitor's message (in Chinese for a Chinese browser), any
    other exception a short one (its traceback logged), UNCHANGED outputs become gr.skip(); the app keeps
    serving. The signature Gradio sees is fn's plus a trailing gr.Request, so a gr.Progress parameter is still
    found and the visitor's language arrives as the last argument."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            args, lang = _split_request(args)
            steps = fn(*args, **kwargs)
            try:
                while True:
                    with speaking(lang):  # each step may run on another worker thread: set it every time
                        try:
                            value = next(steps)
                        except StopIteration:
                            return
                    yield _unchanged_to_skip(value)
            except gr.Error:
                raise
            except Exception as e:  # noqa: BLE001 (every failure becomes a message; GeneratorExit is not one)
                raise _message(e, lang) from None
            finally:
                steps.close()  # a Stop closes the handler's own generator at once (its finally blocks clean up)
    else:
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            args, lang = _split_request(args)
            try:
                with speaking(lang):
                    return _unchanged_to_skip(fn(*args, **kwargs))
            except gr.Error:
                raise
            except Exception as e:  # noqa: BLE001
                raise _message(e, lang) from None
    params = list(inspect.signature(fn).parameters.values())
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                annotation=gr.Request)
    wrapped.__signature__ = inspect.Signature(params + [request])
    wrapped.__annotations__ = {"request": gr.Request}  # what Gradio reads its special parameters' types from
    return wrapped


def checkpoint_choices(registry: Registry = REGISTRY) -> list[tuple]:
    """(label in the visitor's language, name) per checkpoint: the label carries its two-sample score."""
    out = []
    for name in registry.names():
        q = registry.quality(name)
        ffd = f" · FFD {q['ffd']:.2f}" if q and q.get("ffd") is not None else ""
        out.append((both(f"{name} · two-sample {q['mean']:.2f} (0.5 = like real){ffd}",
                         f"{name} · 雙樣本分數 {q['mean']:.2f}（0.5 = 與真實無法區分）{ffd}") if q else name, name))
    return out


def examples(rows: list[list], labels: list[str], inputs: list, outputs: list, fn) -> None:
    """A few examples for a tab, run through the tab's own handler and cached on first use (not at start-up:
    a Space starting up should not spend minutes sampling); shown by their labels, which fit a phone."""
    gr.Examples(rows, inputs, outputs, fn=as_gr_error(fn), cache_examples=True, cache_mode="lazy",
                api_visibility="private", example_labels=labels)


def expected_line(text) -> None:
    """What a tab's defaults cost on this machine (small type: the `expected` class in app.py's CSS)."""
    gr.Markdown(text, elem_classes=["expected"])
