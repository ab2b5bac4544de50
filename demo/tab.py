"""How a tab declares itself, and how app.py mounts the declarations. A tab is one `Tab` at the end of its own
demo/<tab>.py: its inputs in the handler's order (name, kind and range from the tab's own constants, default,
English label), its layout, its handler, examples and expected-time line; its strings in both languages are the
module's `STRINGS`. Everything else is derived from the declarations, never kept as a second list:

- the link spec of each tab (`link_specs()`: demo/links.py reads it) from its linkable inputs;
- the API: `api_name` is the tab's id, the parameters are the inputs' names with their defaults, so every
  endpoint answers `client.predict(api_name=...)` with no arguments, as the UI does at its defaults;
- Gradio's progress bar, for a handler that takes `progress(fraction, description)`;
- the projector view's rules for pictures with labels along their top (`Builder.picture`).

The smallest tab (see the README's architecture section):

    def hello(name: str = "world") -> str:
        return tr(f"Hello, {name}!", f"{name}，你好！")

    STRINGS = {"Hello": "你好", "Name": "名字", "Greet": "打招呼"}
    TAB = Tab("hello", "hello", "Hello", hello, (Input("name", Text(), "world", "Name"),),
              layout=lambda ui: (ui.make("name"), ui.run("Greet", stop=False), [gr.Markdown()])[-1])
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lab import inputs as checks


@dataclass(frozen=True)
class Int:
    low: int
    high: int
    widget: str = "slider"  # slider | number

    def link(self) -> tuple:
        return ("int", self.low, self.high)


def Seed() -> Int:  # noqa: N802 (reads as a kind, like Int)
    return Int(0, checks.MAX_SEED, widget="number")


@dataclass(frozen=True)
class Real:
    low: float
    high: float
    step: float = 0.05

    def link(self) -> tuple:
        return ("float", self.low, self.high)


@dataclass(frozen=True)
class Choice:
    choices: Sequence[str]
    widget: str = "radio"  # radio | dropdown
    translate: bool = False  # show each choice in the visitor's language (the value sent stays English)

    def link(self) -> tuple:
        return ("choice", list(self.choices))


@dataclass(frozen=True)
class Bool:
    def link(self) -> tuple:
        return ("bool",)


@dataclass(frozen=True)
class Text:
    def link(self) -> tuple:
        return ("text",)


@dataclass(frozen=True)
class Files:
    multiple: bool = False
    types: tuple = ("image",)

    def link(self) -> tuple:
        raise TypeError("uploads are not part of a link")


@dataclass(frozen=True)
class Input:
    name: str  # the handler's parameter: links and the API use it
    kind: object  # Int | Real | Choice | Bool | Text | Files
    default: object  # or a function of nothing, read when the app is built
    label: str = ""  # English; the visitor sees it in their language (the module's STRINGS)
    link: bool = True
    elem_id: str | None = None


CHECKPOINT = Input("checkpoint", None, None, link=False)  # the one picker every tab shares (placed by Generate)


@dataclass
class Tab:
    id: str  # the api_name and the `tab=` of links
    ids: str  # the prefix of its element ids ("gen": gen-run, gen-stop), which the browser tests and CSS use
    title: str  # English
    handler: Callable  # takes the inputs in order (and `progress`, if it reports progress); returns/yields outputs
    inputs: tuple[Input, ...]
    layout: Callable  # layout(ui: Builder) -> the output components, in the handler's order
    examples: tuple = ()  # (label, {input name: value}); the rest at their defaults
    expected: Callable | None = None  # expected(ex) -> (English, Chinese): what the defaults cost here
    events: Callable | None = None  # events(ui, outputs): events beyond run and stop (a slider's own handler)
    needs: Callable[[], bool] = lambda: True  # examples only where what they need is here
    follows: bool = True  # its sampler, steps and eta move to what a picked student takes (Denoising: its teacher runs)
    strings: dict = field(default_factory=dict)  # English → 繁體中文 for every label and text of the tab

    def link_spec(self) -> dict[str, tuple]:
        return {i.name: i.kind.link() for i in self.inputs if i.link}

    def defaults(self) -> dict[str, object]:
        """Each input's default; a callable default is read now (public mode is decided at start-up)."""
        return {i.name: i.default() if callable(i.default) else i.default for i in self.inputs}


def link_specs(tabs: Sequence[Tab]) -> dict[str, dict[str, tuple]]:
    return {tab.id: tab.link_spec() for tab in tabs}


def api_handler(tab: Tab, default_checkpoint: str | None) -> Callable:
    """The handler as Gradio calls it: parameters named and defaulted as declared, Gradio's progress bar where
    the handler reports progress. (as_gr_error then turns its errors into the visitor's sentences.)"""
    import gradio as gr

    wants_progress = "progress" in inspect.signature(tab.handler).parameters
    defaults = {**tab.defaults(), "checkpoint": default_checkpoint}
    n = len(tab.inputs)

    def call(args: tuple, kwargs: dict):
        values = list(args[:n]) + [kwargs.get(i.name, defaults[i.name]) for i in tab.inputs[len(args[:n]):]]
        progress = args[n] if len(args) > n else kwargs.get("progress")
        report = {"progress": lambda f, d: progress(f, desc=d)} if wants_progress and progress is not None else {}
        return tab.handler(*values, **report)

    if inspect.isgeneratorfunction(tab.handler):
        def handler(*args, **kwargs):
            yield from call(args, kwargs)
    else:
        def handler(*args, **kwargs):
            return call(args, kwargs)
    params = [inspect.Parameter(i.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=defaults[i.name])
              for i in tab.inputs]
    if wants_progress:  # Gradio fills a parameter whose default is gr.Progress() with its progress bar
        params.append(inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress()))
    handler.__name__ = handler.__qualname__ = tab.handler.__name__
    handler.__doc__ = tab.handler.__doc__
    handler.__signature__ = inspect.Signature(params)
    return handler


@dataclass
class Shared:
    """What the tabs share while the app is built: the checkpoint picker, the pictures the projector view pads."""
    checkpoint_choices: list
    default_checkpoint: str | None
    checkpoint: object = None
    pictures: list[str] = field(default_factory=list)


class Builder:
    """Handed to a tab's layout: makes its declared inputs where the layout places them, and the shared parts."""

    def __init__(self, tab: Tab, shared: Shared) -> None:
        self.tab, self.shared = tab, shared
        self.defaults = tab.defaults()  # read once: a callable default may look at the limits
        self.components: dict[str, object] = {}
        self.run_button = self.stop_button = None

    def make(self, *names: str) -> list:
        return [self._make(n) for n in names]

    def _make(self, name: str):
        import gradio as gr

        from .i18n import T, translated
        from .ui import Number, Slider

        spec = next(i for i in self.tab.inputs if i.name == name)
        if spec is CHECKPOINT:
            if self.shared.checkpoint is None:
                self.shared.checkpoint = gr.Dropdown(
                    self.shared.checkpoint_choices, value=self.shared.default_checkpoint, elem_id="checkpoint",
                    label=T("Checkpoint (used by every tab; two-sample score: 0.5 = like real faces)"))
            component = self.shared.checkpoint
        else:
            kind, label, kw = spec.kind, T(spec.label), {"elem_id": spec.elem_id} if spec.elem_id else {}
            default = self.defaults[name]
            if isinstance(kind, Int) and kind.widget == "number":
                component = Number(value=default, precision=0, label=label, **kw)
            elif isinstance(kind, Int):
                component = Slider(kind.low, kind.high, value=default, step=1, label=label, **kw)
            elif isinstance(kind, Real):
                component = Slider(kind.low, kind.high, value=default, step=kind.step, label=label, **kw)
            elif isinstance(kind, Choice):
                choices = translated(kind.choices) if kind.translate else list(kind.choices)
                make = gr.Radio if kind.widget == "radio" else gr.Dropdown
                component = make(choices, value=default, label=label, **kw)
            elif isinstance(kind, Bool):
                component = gr.Checkbox(value=default, label=label, **kw)
            elif isinstance(kind, Text):
                component = gr.Textbox(value=default, label=label, **kw)
            else:
                component = gr.File(label=label, file_count="multiple" if kind.multiple else "single",
                                    file_types=list(kind.types), **kw)
        self.components[name] = component
        return component

    def run(self, label: str, stop: bool = True) -> None:
        """The run button (and Stop, which cancels the run)."""
        import gradio as gr

        from .i18n import T

        with gr.Row():
            self.run_button = gr.Button(T(label), variant="primary", elem_id=f"{self.tab.ids}-run")
            if stop:
                self.stop_button = gr.Button(T("Stop"), variant="stop", elem_id=f"{self.tab.ids}-stop")

    def top(self, text: str, names: Sequence[str], run: str) -> None:
        """The common head of a tab: its explanation, its inputs in a row, its run and Stop, what a run costs."""
        import gradio as gr

        from .i18n import T

        gr.Markdown(T(text))
        with gr.Row():
            self.make(*names)
        self.run(run)
        self.expected()

    def expected(self) -> None:
        """What the tab's defaults cost on this machine, in both languages (measured at start-up)."""
        from . import limits
        from .i18n import both
        from .ui import expected_line

        expected_line(both(*self.tab.expected(limits.expected)))

    def add(self, name: str, component):
        """A declared input the layout makes itself (e.g. with only some of its choices shown)."""
        self.components[name] = component
        return component

    def picture(self, component):
        """An image with labels or titles along its top: the projector view keeps its buttons off them."""
        self.shared.pictures.append(component.elem_id)
        return component

    def values(self, example: dict) -> list:
        values = {**self.defaults, "checkpoint": self.shared.default_checkpoint, **example}
        return [values[i.name] for i in self.tab.inputs]
