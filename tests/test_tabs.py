"""A tab declares itself (demo/tab.py): adding one is one file with its strings, and the app derives its API,
its link spec, its progress bar and its projector rules from the declaration."""
import gradio as gr
import pytest

from demo import links
from demo.i18n import register
from demo.messages import tr
from demo.tab import Builder, Input, Int, Shared, Tab, Text, api_handler, link_specs
from demo.tabs import TABS
from lab import inputs


def hello(name: str = "world", times: int = 1, progress=None) -> str:
    times = inputs.whole(times, "times", 1, 3)
    if progress:
        progress(1.0, "done")
    return tr(f"Hello, {name}!" * times, f"{name}，你好！" * times)


STRINGS = {"Hello": "你好", "Name": "名字", "Times": "次數", "Greet": "打招呼"}


def layout(ui):
    ui.make("name", "times")
    ui.run("Greet", stop=False)
    return [ui.picture(gr.Image(elem_id="hello-picture")), gr.Markdown()][1:]


HELLO = Tab("hello", "hello", "Hello", hello, (Input("name", Text(), "world", "Name"),
                                               Input("times", Int(1, 3), 1, "Times")), layout, strings=STRINGS)


def test_a_new_tab_is_one_declaration():
    import app

    register(HELLO.strings)
    shared = Shared([], None)
    with gr.Blocks() as blocks:
        page_url = gr.Textbox(visible=False)
        shared.checkpoint = gr.Dropdown([], value=None)  # in the app, Generate places the shared picker
        with gr.Tabs():
            linkable = app.mount(HELLO, shared, page_url)
    assert [c.label is not None for c in linkable] == [True, True] and shared.pictures == ["hello-picture"]
    api = blocks.get_api_info()["named_endpoints"]["/hello"]["parameters"]
    assert [(p["parameter_name"], p["parameter_default"]) for p in api] == [("name", "world"), ("times", 1)]
    assert link_specs([HELLO]) == {"hello": {"name": ("text",), "times": ("int", 1, 3)}}
    handler = api_handler(HELLO, None)
    seen = []
    assert handler("class", 2, lambda f, desc: seen.append(desc)) == "Hello, class!Hello, class!" and seen == ["done"]
    assert handler() == "Hello, world!"  # every endpoint answers at its defaults


def test_a_label_without_its_translation_is_refused():
    tab = Tab("bye", "bye", "Bye", hello, (Input("name", Text(), "x", "A label nobody translated"),), layout)
    with gr.Blocks(), pytest.raises(KeyError, match="no zh-TW translation"):
        Builder(tab, Shared([], None)).make("name")


def test_links_and_api_come_from_the_same_declarations():
    assert links.VIEWS == link_specs(TABS)
    for tab in TABS:
        for i in tab.inputs:
            if i.link:
                assert i.name in links.VIEWS[tab.id]
    assert [t.id for t in TABS] == ["generate", "forward", "denoise", "compare", "interpolate", "detect", "batch",
                                    "versus", "playground"]
