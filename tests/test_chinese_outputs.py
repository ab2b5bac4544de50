"""What the handlers write for a visitor (summaries, statuses, captions, link notices, labels drawn on images)
comes in Traditional Chinese for a Chinese browser and stays English otherwise."""
import re

import gradio as gr
import numpy as np

from demo import batch as bt
from demo import common
from demo import compare as cmp
from demo import denoise as dn
from demo import detect as dt
from demo import forward as fw
from demo import generate as gen
from demo import links
from demo import versus as vs
from demo.messages import chinese, speaking, tr
from demo.ui import as_gr_error
from test_app_generate import needs_default

ZH = "zh-TW,zh;q=0.9,en;q=0.8"
LBP = "lbpcascade (OpenCV)"
CJK = re.compile(r"[\u4e00-\u9fff]")
# English words of our summaries; names (anime-64, DDIM, StyleGAN, AFD, eta, lbpcascade_animeface) may stay
ENGLISH = re.compile(r"\b(images?|seconds?|steps?|faces?|seeds?|network|evaluations?|Detector|rate|done|"
                     r"generated|uploaded|per|method|machine|shown|the|of|in|by|with)\b")


def english_left(text: str) -> list[str]:
    """English words of ours left in a text once file names and checkpoint names are set aside."""
    text = re.sub(r"（它的輸入有：[^）]*）|`[^`]*`|\S+\.(jpg|png|zip)|lbpcascade_animeface|\(OpenCV\)|the homework's", "", text)
    return ENGLISH.findall(text)


def test_tr_follows_the_language_set_around_it():
    assert tr("done", "完成") == "done" and not chinese()
    with speaking(ZH):
        assert tr("done", "完成") == "完成"
        with speaking("en-US,en"):
            assert tr("done", "完成") == "done"
        assert chinese()
    with speaking("fr-FR,zh-TW;q=0.5"):  # the browser's first language decides
        assert not chinese()
    assert not chinese()


@needs_default
def test_every_tab_summarises_in_chinese_for_a_chinese_browser(tmp_path):
    with speaking(ZH):
        texts = {"generate": gen.generate(0, 2, "DDIM", 2)[1]}
        grid_zh, texts["compare"], _, _ = cmp.compare(0, "2,3", "0,1", False)
        runs = list(dn.denoise(0, 1, "DDIM", 3))
        texts["denoise step"], texts["denoise end"] = runs[1][1], runs[-1][1]
        shown, texts["detect"] = dt.detect(None, seed=0, num_images=2, detector=LBP)
        texts["detect caption"] = shown[0][1]
        texts["batch"] = bt.batch(3, 0, "DDIM", 2, compute_afd=True, detector=LBP, out_dir=str(tmp_path / "b"))[1]
        texts["versus"] = vs.versus(2, 0, 3, False, detector=LBP)[1]
        texts["forward"] = fw.forward(out_dir=str(tmp_path / "f"))[2]
        texts["link"] = " ".join(links.parse({"tab": "denoise", "num_images": "99", "colour": "red"})[2])
    for where, text in texts.items():
        assert CJK.search(text), (where, text)
        assert not english_left(text), (where, english_left(text), text)
    assert "第 3/3 步" in texts["denoise end"] and "完成" in texts["denoise end"]
    assert "AFD 比率：2/2" in texts["detect"] or "AFD 比率：1/2" in texts["detect"] or "AFD 比率：0/2" in texts["detect"]
    assert "圖片數量" not in texts["link"] and "num_images" in texts["link"] and "1 到 8" in texts["link"]
    # the same calls outside `speaking` stay English (what the CLIs and the other tests read)
    assert "network evaluations" in gen.generate(0, 2, "DDIM", 2)[1]
    grid_en, table_en, _, _ = cmp.compare(0, "2,3", "0,1", False)
    assert "eta \\ steps" in table_en and not CJK.search(table_en)
    if common.cjk_font():  # the step labels drawn on the grid are Chinese too (where a CJK font is installed)
        assert grid_en.shape == grid_zh.shape and not np.array_equal(grid_en[:24], grid_zh[:24])
        assert np.array_equal(grid_en[24:, 90:], grid_zh[24:, 90:])  # … and the faces the same


def test_drawn_text_stays_english_without_a_cjk_font(monkeypatch):
    monkeypatch.setattr(common, "cjk_font", lambda: None)
    with speaking(ZH):
        assert common.drawn("3 steps", "3 步") == "3 steps"
        assert tr("3 steps", "3 步") == "3 步"  # the page's own text is translated either way


def test_the_gradio_wrapper_speaks_the_requests_language_at_every_step():
    def handler(n):
        for i in range(int(n)):
            yield tr(f"step {i}", f"第 {i} 步")

    wrapped = as_gr_error(handler)
    assert list(wrapped(2, gr.Request(headers={"accept-language": ZH}))) == ["第 0 步", "第 1 步"]
    assert list(wrapped(2, gr.Request(headers={"accept-language": "en-GB"}))) == ["step 0", "step 1"]
    assert not chinese()  # nothing leaks out of the handler
    plain = as_gr_error(lambda: tr("done", "完成"))
    assert plain(gr.Request(headers={"accept-language": ZH})) == "完成"


def test_a_links_notices_come_in_the_visitors_language():
    query = {"tab": "denoise", "seed": "7", "num_images": "99", "checkpoint": "nope"}
    out = links.apply_link(gr.Request(query_params=query, headers={"accept-language": ZH}))
    tabs, notice, checkpoint = out[:3]
    assert tabs.selected == "denoise" and checkpoint != "nope"  # an unknown checkpoint is not set
    assert notice.startswith("**注意：**") and "num_images 必須是 1 到 8 之間的整數" in notice and "'nope'" in notice
    assert 7 in out[3:]  # the seed the link sets
    out = links.apply_link(gr.Request(query_params=query, headers={"accept-language": "en"}))
    assert "**Note:** The link's num_images must be a whole number from 1 to 8" in out[1]
