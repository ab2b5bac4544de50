"""Fonts for text drawn on images and plots, shared by the app and the report scripts (which must not import
the UI): Noto Sans CJK where installed (Debian's fonts-noto-cjk; packages.txt installs it on the Space)."""
from __future__ import annotations

import functools
import os

CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJKtc-Regular.otf")
TC_FACE = 3  # the Traditional Chinese face in the .ttc collection (JP, KR, SC, TC, HK)


@functools.cache
def cjk_font() -> str | None:
    """The path of a font that has Chinese glyphs, or None."""
    return next((p for p in CJK_FONTS if os.path.isfile(p)), None)


@functools.cache
def cjk_family() -> str:
    """The CJK font's family name, registered with matplotlib once (call only where cjk_font() is a path)."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(cjk_font())
    return font_manager.FontProperties(fname=cjk_font()).get_name()
