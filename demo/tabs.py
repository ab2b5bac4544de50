"""The app's tabs, in the order they appear: each declares itself at the end of its own demo/<tab>.py."""
from __future__ import annotations

from . import batch, compare, denoise, detect, forward, generate, interpolate, playground, versus

TABS = tuple(m.TAB for m in (generate, forward, denoise, compare, interpolate, detect, batch, versus, playground))
