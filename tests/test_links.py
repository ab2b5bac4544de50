"""Links that reproduce a view: parsing a URL's query, and making one from a tab's inputs."""
import os

from demo import links

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_a_link_sets_a_tab_and_its_inputs():
    tab, values, notices = links.parse({"tab": "denoise", "seed": "7", "sampler": "ddim", "steps": "20", "eta": "0"})
    assert tab == "denoise" and values == {"seed": 7, "sampler": "DDIM", "steps": 20, "eta": 0.0} and not notices


def test_unknown_or_out_of_range_values_fall_back_with_a_notice():
    tab, values, notices = links.parse({"tab": "denoise", "seed": "-1", "steps": "2.5", "colour": "red",
                                        "num_images": "3", "checkpoint": "anime-64"})
    assert tab == "denoise" and values == {"num_images": 3}
    assert any("seed must be a whole number from 0 to" in n for n in notices)
    assert any("steps must be a whole number from 1 to 1000, got '2.5'" in n for n in notices)
    assert any("'colour' is not an input of denoise" in n for n in notices)
    tab, values, notices = links.parse({"tab": "nope"})
    assert tab is None and "does not exist" in notices[0]
    assert links.parse({}) == (None, {}, [])
    _, values, notices = links.parse({"tab": "compare", "ddpm": "maybe", "steps": "10,20"})
    assert values == {"steps": "10,20"} and "ddpm must be true or false" in notices[0]


def test_make_round_trips_through_parse():
    url = links.make("https://lab.hf.space/?tab=generate&seed=1#x", "batch",
                     {"num_images": 100, "seed": 3, "sampler": "DDIM", "steps": 20, "eta": 0.5, "afd": True,
                      "detector": "Best available", "psi": 1.0, "junk": 5}, checkpoint="anime-64")
    assert url.startswith("https://lab.hf.space/?tab=batch&num_images=100&seed=3&sampler=DDIM")
    query = dict(kv.split("=", 1) for kv in url.split("?", 1)[1].split("&"))
    from urllib.parse import unquote_plus

    tab, values, notices = links.parse({k: unquote_plus(v) for k, v in query.items()})
    assert tab == "batch" and not notices and values["afd"] is True and values["eta"] == 0.5 and "junk" not in values


def test_every_label_has_both_languages():
    from demo.i18n import I18N, T, ZH_TW, _key, both

    both("Here: 3 images take about 1 s.", "本機：3 張圖約 1 秒。")  # a line with measured numbers, made at start-up
    en, zh = I18N.translations_dict["en"], I18N.translations_dict["zh-TW"]
    assert en.keys() == zh.keys() and {_key(e) for e in ZH_TW} <= en.keys()
    assert zh[_key("Here: 3 images take about 1 s.")] == "本機：3 張圖約 1 秒。"
    assert all(v and v != en[k] for k, v in zh.items() if not en[k].startswith(("DDIM", "eta"))), "untranslated"
    import pytest

    with pytest.raises(KeyError, match="no zh-TW translation"):
        T("A label nobody translated")


def test_messages_reach_a_chinese_browser_in_chinese():
    """Refusals carry a key and parameters from where they are raised; nothing is parsed back from English."""
    import pytest

    from demo.messages import ZH, translate
    from lab import inputs
    from lab.uploads import decode

    zh = "zh-TW,zh;q=0.9,en;q=0.8"

    def refusal(fn, *args):
        with pytest.raises(ValueError) as e:
            fn(*args)
        return e.value

    steps = refusal(inputs.steps, 0, 1000)
    assert translate(steps, zh) == "步數必須是 1 到 1000 之間的整數，收到的是 0"
    assert translate(refusal(inputs.seeds, 0, 100, 64), zh).startswith("圖片數量必須是 1 到 64")
    assert translate(refusal(decode, b"text, not an image", "notes.png"), zh).startswith("notes.png 不是可讀取的圖片")
    assert translate(steps, "en-US,en") == str(steps) == "steps must be a whole number from 1 to 1000, got 0"
    assert translate(ValueError("a message without a key"), zh) == "a message without a key"
    import re

    raised = set()
    for root in ("lab", "demo", "evaluation"):
        for name in os.listdir(os.path.join(ROOT, root)):
            if name.endswith(".py"):
                raised |= set(re.findall(r'Refusal\(\s*"(\w+)"', open(os.path.join(ROOT, root, name)).read()))
    raised |= {"whole", "real", "one_of"}
    assert raised <= set(ZH), f"refusals without a Chinese sentence: {sorted(raised - set(ZH))}"


def test_the_wrapper_answers_in_the_visitors_language():
    import gradio as gr
    import pytest

    from demo.ui import as_gr_error

    from lab import inputs

    def handler(steps, progress=gr.Progress()):
        inputs.steps(steps, 1000)

    wrapped = as_gr_error(handler)
    import inspect

    assert list(inspect.signature(wrapped).parameters) == ["steps", "progress", "request"]
    request = gr.Request(headers={"accept-language": "zh-TW"})
    with pytest.raises(gr.Error, match="步數必須是 1 到 1000 之間的整數，收到的是 0"):
        wrapped(0, None, request)
    with pytest.raises(gr.Error, match="steps must be a whole number"):
        wrapped(0)
