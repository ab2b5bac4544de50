"""What app.py needs from Gradio beyond its components: inputs that leave validation to our handlers (so
every message names its parameter) and the wrapper that turns a handler's errors into messages."""
from __future__ import annotations

import functools
import inspect
import logging

import gradio as gr

from .common import UNCHANGED

log = logging.getLogger("anime-face-lab")


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


def _message(e: Exception) -> gr.Error:
    if isinstance(e, ValueError):
        return gr.Error(str(e))
    log.exception("handler failed")  # the traceback goes to the server log, not to the visitor
    return gr.Error(f"Something went wrong on the server ({type(e).__name__}); nothing was changed and the app "
                    f"is still running: try again, or with other settings.")


def as_gr_error(fn):
    """A handler for Gradio: ValueErrors become the visitor's message, any other exception a short one (its
    traceback logged), UNCHANGED outputs become gr.skip(); the app keeps serving. functools.wraps keeps the
    signature visible, so Gradio still finds a gr.Progress parameter."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            try:
                for value in fn(*args, **kwargs):
                    yield _unchanged_to_skip(value)
            except gr.Error:
                raise
            except Exception as e:  # noqa: BLE001 (every failure becomes a message; GeneratorExit is not one)
                raise _message(e) from None
    else:
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            try:
                return _unchanged_to_skip(fn(*args, **kwargs))
            except gr.Error:
                raise
            except Exception as e:  # noqa: BLE001
                raise _message(e) from None
    return wrapped
