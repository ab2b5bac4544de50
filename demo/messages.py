"""The visitor-facing messages in Traditional Chinese, for browsers that ask for Chinese (Accept-Language).

Handlers raise their ValueErrors in English (the CLIs and tests read those); `translate` rewrites the ones a
visitor meets, by pattern, keeping the numbers and names they carry. A message no pattern knows stays in
English rather than being lost.

What a handler writes for the visitor (summaries, statuses, captions, progress) it writes in both languages
with `tr(english, chinese)`: the handler wrapper sets the visitor's language around every step of the
handler (`speaking`), so plain calls (the CLIs, the tests) get English.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

NAMES = {"seed": "種子", "seed A": "種子 A", "seed B": "種子 B", "steps": "步數", "DDIM steps": "DDIM 步數",
         "number of images": "圖片數量", "eta": "eta", "truncation psi": "截斷 ψ", "frames": "影格數", "T": "T",
         "each timestep": "每個時間步", "sampler": "取樣器", "detector": "偵測器", "spacing": "間隔方式",
         "source": "人臉來源"}

PATTERNS: list[tuple[str, str]] = [
    (r"^(?P<n>.+?) must be a whole number from (?P<lo>\S+) to (?P<hi>\S+), got (?P<v>.+)$",
     "{n}必須是 {lo} 到 {hi} 之間的整數，收到的是 {v}"),
    (r"^(?P<n>.+?) must be a number from (?P<lo>\S+) to (?P<hi>\S+), got (?P<v>.+)$",
     "{n}必須是 {lo} 到 {hi} 之間的數字，收到的是 {v}"),
    (r"^(?P<n>.+?) must be one of (?P<c>.+), got (?P<v>.+)$", "{n}必須是下列之一：{c}；收到的是 {v}"),
    (r"^unknown checkpoint (?P<v>.+); available: (?P<c>.+)$", "沒有名為 {v} 的模型檢查點；可用的有：{c}"),
    (r"^(?P<v>.+) is a StyleGAN: it makes an image in one pass, with no steps for (?P<w>.+); choose a diffusion "
     r"checkpoint$", "{v} 是 StyleGAN：它一次就產生圖片，沒有可供{w}的步驟；請選擇擴散模型的檢查點"),
    (r"^DDPM \(1000 steps per image\) is limited to (?P<k>\d+) images per run here; (?P<w>.+) asked for (?P<n>\d+): "
     r"use DDIM or DPM-Solver\+\+, or fewer images$",
     "在這台機器上，DDPM（每張圖 1000 步）每次最多 {k} 張；這次要求了 {n} 張：請改用 DDIM 或 DPM-Solver++，或減少圖片數"),
    (r"^(?P<w>.+) asks for (?P<i>\d+) images × (?P<e>\d+) network evaluations = (?P<t>[\d,]+), above this machine's "
     r"limit of (?P<l>[\d,]+) per run: ask for fewer images or steps$",
     "這次要求 {i} 張圖 × {e} 次網路運算 = {t}，超過這台機器每次 {l} 的上限：請減少圖片數或步數"),
    (r"^stopped after (?P<s>\d+) s, the time limit per job on this shared machine: ask for fewer images or steps$",
     "已在 {s} 秒後停止，這是這台共用機器每個工作的時間上限：請減少圖片數或步數"),
    (r"^this comparison needs (?P<t>[\d,]+) network evaluations .*; the limit here is (?P<l>[\d,]+): ask for fewer or "
     r"smaller step counts$", "這次比較需要 {t} 次網路運算，這裡的上限是 {l}：請減少步數設定的數量或大小"),
    (r"^(?P<f>.+) is not a readable image: upload .+$", "{f} 不是可讀取的圖片：請上傳 .jpg/.png/.webp/.bmp 圖片或其 .zip"),
    (r"^(?P<f>.+) is (?P<w>\d+)x(?P<h>\d+) pixels; images may have at most (?P<m>\d+) megapixels$",
     "{f} 有 {w}x{h} 像素；圖片最多 {m} 百萬像素"),
    (r"^(?P<f>.+) is over (?P<o>\d+) megapixels; images may have at most (?P<m>\d+) megapixels$",
     "{f} 超過 {o} 百萬像素；圖片最多 {m} 百萬像素"),
    (r"^(?P<f>.+) is encrypted: upload a zip without a password$", "{f} 有加密：請上傳沒有密碼的 zip"),
    (r"^(?P<f>.+) cannot be read from its zip \(.*\): the zip is damaged$", "無法從 zip 讀出 {f}：這個 zip 已損毀"),
    (r"^(?P<f>.+) holds no .jpg/.png/.webp images$", "{f} 裡沒有 .jpg/.png/.webp 圖片"),
    (r"^(?P<f>.+) is (?P<s>\d+ MB); an upload may be at most (?P<m>\d+ MB)$", "{f} 有 {s}；每個上傳檔最多 {m}"),
    (r"^at most (?P<m>\d+) images per run; these uploads hold more$", "每次最多 {m} 張圖片；這些上傳檔超過了"),
    (r"^Something went wrong on the server \((?P<e>\w+)\).*$",
     "伺服器發生錯誤（{e}）；沒有任何改變，服務仍在運作：請再試一次，或換個設定。"),
]
_COMPILED = [(re.compile(p), t) for p, t in PATTERNS]


def wants_chinese(accept_language: str | None) -> bool:
    """True when the browser's first language is Chinese (zh, zh-TW, zh-Hant, …)."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return first.startswith("zh")


_ACCEPT_LANGUAGE: ContextVar[str | None] = ContextVar("accept_language", default=None)


@contextmanager
def speaking(accept_language: str | None) -> Iterator[None]:
    """Within: `tr` answers in the language of this Accept-Language header."""
    token = _ACCEPT_LANGUAGE.set(accept_language)
    try:
        yield
    finally:
        _ACCEPT_LANGUAGE.reset(token)


def chinese() -> bool:
    """True inside `speaking` for a Chinese browser."""
    return wants_chinese(_ACCEPT_LANGUAGE.get())


def tr(english: str, chinese_: str) -> str:
    """The visitor's text: `chinese_` for a Chinese browser, else `english`."""
    return chinese_ if chinese() else english


def localized(message: str) -> str:
    """An English message (a ValueError's) in the visitor's language, inside `speaking`."""
    return translate(message, _ACCEPT_LANGUAGE.get())


def translate(message: str, accept_language: str | None) -> str:
    """The message in Traditional Chinese for a Chinese browser (where a pattern knows it), else unchanged."""
    if not wants_chinese(accept_language):
        return message
    for pattern, template in _COMPILED:
        m = pattern.match(message)
        if m:
            parts = {k: NAMES.get(v, v) if k == "n" else v for k, v in m.groupdict().items()}
            if "n" in parts and parts["n"].isascii():  # a name kept in English (a link's num_images) needs a space
                parts["n"] += " "
            return template.format(**parts)
    return message
