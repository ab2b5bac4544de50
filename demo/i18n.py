"""English and Traditional Chinese (Taiwan) for the app's labels, chosen by the browser's language (gr.I18n).

`T("Number of images")` returns a key Gradio's frontend translates; the code keeps its English text readable,
and the key is derived from it. Every string wrapped in T must have a zh-TW entry: here, or in its tab's STRINGS
(tested).
"""
from __future__ import annotations

import hashlib

import gradio as gr

# what no single tab owns: the page's header, the shared checkpoint picker, Stop and the link controls
ZH_TW: dict[str, str] = {
    "Stop": "停止", "Link to this view": "此畫面的連結", "Link (send it to the class)": "連結（傳給全班）",
    "Checkpoint (used by every tab; two-sample score: 0.5 = like real faces)":
        "模型檢查點（所有分頁共用；雙樣本分數 0.5 = 與真實人臉無法區分）",
    "Shared Space: some limits apply; each tab says what a run costs here.":
        "共用的 Space：有些用量限制；每個分頁都會說明在這台機器上執行所需的時間。",
    "Anime faces from random numbers with a diffusion model (NTU ML2023 HW6), on the CPU.":
        "用擴散模型從隨機數生成動漫人臉（台大 ML2023 HW6），在 CPU 上執行。",
}

# each tab's own strings, declared beside it (demo/<tab>.py: STRINGS)
from .tabs import TABS  # noqa: E402

for _tab in TABS:
    ZH_TW.update(_tab.strings)


def _key(english: str) -> str:
    return "t" + hashlib.sha1(english.encode()).hexdigest()[:10]  # no dots: the frontend reads dots as paths


def T(english: str):
    """A translatable label: Gradio's frontend shows English or zh-TW by the browser's language."""
    if english not in ZH_TW:
        raise KeyError(f"no zh-TW translation for {english!r}: add it to its tab's STRINGS (or demo/i18n.py)")
    return I18N(_key(english))


def translated(choices) -> list[tuple]:
    """(label in the visitor's language, English value) per choice: what is sent stays the English value."""
    return [(T(c), c) for c in choices]


def both(english: str, chinese: str):
    """A label computed at start-up (it carries measured numbers), registered in both languages."""
    key = _key(english)
    I18N.translations["en"][key] = english
    for locale in ("zh-TW", "zh-Hant"):
        I18N.translations[locale][key] = chinese
    return I18N(key)


I18N = gr.I18n(en={_key(e): e for e in ZH_TW}, **{"zh-TW": {_key(e): z for e, z in ZH_TW.items()},
                                                     "zh-Hant": {_key(e): z for e, z in ZH_TW.items()}})


def register(strings: dict[str, str]) -> None:
    """A tab's strings, added after start (a tab mounted outside demo/tabs.py, as the tests mount one)."""
    ZH_TW.update(strings)
    for english, chinese in strings.items():
        both(english, chinese)
