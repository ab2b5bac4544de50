"""The visitor-facing messages in Traditional Chinese, for browsers that ask for Chinese (Accept-Language).

Refusals carry their translation from where they are raised: a `lab.refusal.Refusal` has a key and parameters,
and `ZH` below holds each key's Traditional Chinese sentence, written with the same numbers and names. A
ValueError without a key (the core's, a library's) reaches the visitor as it is, in English, rather than lost.

What a handler writes for the visitor (summaries, statuses, captions, progress) it writes in both languages
with `tr(english, chinese)`: the handler wrapper sets the visitor's language around every step of the
handler (`speaking`), so plain calls (the CLIs, the tests) get English.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

NAMES = {"seed": "種子", "seed A": "種子 A", "seed B": "種子 B", "steps": "步數", "DDIM steps": "DDIM 步數",
         "number of images": "圖片數量", "eta": "eta", "truncation psi": "截斷 ψ", "frames": "影格數", "T": "T",
         "each timestep": "每個時間步", "sampler": "取樣器", "detector": "偵測器", "spacing": "間隔方式",
         "source": "人臉來源"}

# a Refusal's key → its sentence in Traditional Chinese, from the Refusal's parameters
ZH: dict[str, str] = {
    "whole": "{name}必須是 {low} 到 {high} 之間的整數，收到的是 {value}",
    "real": "{name}必須是 {low} 到 {high} 之間的數字，收到的是 {value}",
    "one_of": "{name}必須是下列之一：{choices}；收到的是 {value}",
    "bool": "{name}必須是 true 或 false，收到的是 {value}",
    "too_long": "{name}太長了",
    "unknown_checkpoint": "沒有名為 {value} 的模型檢查點；可用的有：{choices}",
    "no_steps": "{model} 是 StyleGAN：它一次就產生圖片，沒有可供{what}的步驟；請選擇擴散模型的檢查點",
    "student": "這個蒸餾學生模型只接受 {takes}，不接受 {asked}",
    "ddpm_limit": "在這台機器上，DDPM（每張圖 1000 步）每次最多 {most} 張；這次要求了 {n} 張：請改用 DDIM 或 DPM-Solver++，"
                  "或減少圖片數",
    "cost_limit": "這次要求 {images} 張圖 × {evaluations} 次網路運算 = {total}，超過這台機器每次 {most} 的上限：請減少圖片數或步數",
    "time_limit": "已在 {seconds} 秒後停止，這是這台共用機器每個工作的時間上限：請減少圖片數或步數",
    "compare_limit": "這次比較需要 {total} 次網路運算，這裡的上限是 {most}：請減少步數設定的數量或大小",
    "unreadable": "{file} 不是可讀取的圖片：請上傳 .jpg/.png/.webp/.bmp 圖片或其 .zip",
    "wrong_format": "{file} 是 {format} 檔：請上傳 .jpg/.png/.webp/.bmp 圖片或其 .zip",
    "pixels": "{file} 有 {w}x{h} 像素；圖片最多 {most} 百萬像素",
    "bomb": "{file} 超過 {over} 百萬像素；圖片最多 {most} 百萬像素",
    "zip_entries": "{file} 有 {n} 個項目；一個 zip 最多 {most} 個",
    "no_images": "{file} 裡沒有 .jpg/.png/.webp 圖片",
    "encrypted": "{file} 有加密：請上傳沒有密碼的 zip",
    "unpacks": "{file} 解壓後有 {size} 的圖片；一個 zip 解壓後最多 {most}",
    "file_size": "{file} 有 {size}；每個上傳檔最多 {most}",
    "bad_zip": "{file} 是損毀或不支援的 zip：請上傳一般的圖片 .zip",
    "too_many": "每次最多 {most} 張圖片；這些上傳檔超過了",
    "damaged": "無法從 zip 讀出 {file}：這個 zip 已損毀",
    "word": "文字必須有 1 到 {most} 個字元，收到的是 {n} 個",
    "word_glyphs": "這裡的字型沒有 {word} 的字形：請輸入字母或數字",
    "playground_untrained": "這些設定沒有內附模型（內附的是 {word!r} 與各內建資料集，cosine、T 100、寬度 128）：請勾選「訓練」",
    "server": "伺服器發生錯誤（{error}）；沒有任何改變，服務仍在運作：請再試一次，或換個設定。",
}


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


def localized(error: Exception) -> str:
    """An error's sentence in the visitor's language, inside `speaking`."""
    return translate(error, _ACCEPT_LANGUAGE.get())


def translate(error: Exception, accept_language: str | None) -> str:
    """The error's sentence in Traditional Chinese for a Chinese browser where it carries a key (a Refusal),
    else its English."""
    key, params = getattr(error, "key", None), getattr(error, "params", {})
    if not wants_chinese(accept_language) or key not in ZH:
        return str(error)
    parts = dict(params)
    if "name" in parts:
        name = NAMES.get(str(parts["name"]), str(parts["name"]))
        parts["name"] = name + " " if name.isascii() else name  # a name kept in English needs a space
    return ZH[key].format(**parts)
