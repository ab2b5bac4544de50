"""One validation of the numbers every tab and CLI takes: seeds, image counts, steps, eta, ψ.

Each check returns the clean value or raises ValueError with one sentence that names the parameter and
what is allowed. Whole numbers must be whole: 2.5 steps is refused, not cut to 2; NaN, infinity and
booleans are refused everywhere.
"""
from __future__ import annotations

import math

from .refusal import Refusal, one_of  # noqa: F401  (one_of: the choice check every caller shares)

MAX_SEED = 2**31 - 1  # seeds are shown in number boxes and URLs: keep them JavaScript-safe and short


def _finite(value, refusal: Refusal) -> float:
    """value as a finite float (not a bool, not None), else the refusal."""
    if isinstance(value, bool) or value is None:
        raise refusal
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise refusal from None
    if not math.isfinite(number):
        raise refusal
    return number


def whole(value, name: str, low: int, high: int) -> int:
    """value as an int in [low, high]."""
    refusal = Refusal("whole", f"{name} must be a whole number from {low} to {high}, got {value!r}", name=name,
                      low=low, high=high, value=repr(value))
    number = _finite(value, refusal)
    if number != int(number) or not low <= int(number) <= high:
        raise refusal
    return int(number)


def real(value, name: str, low: float, high: float) -> float:
    """value as a float in [low, high]."""
    refusal = Refusal("real", f"{name} must be a number from {low:g} to {high:g}, got {value!r}", name=name,
                      low=f"{low:g}", high=f"{high:g}", value=repr(value))
    number = _finite(value, refusal)
    if not low <= number <= high:
        raise refusal
    return number


def seeds(first, count, max_count: int, name: str = "seed", count_name: str = "number of images"
          ) -> list[int]:
    """The seeds first … first+count-1; every one must stay within 0..MAX_SEED."""
    n = whole(count, count_name, 1, max_count)
    s = whole(first, name, 0, MAX_SEED - n + 1)
    return list(range(s, s + n))


def seed(value, name: str = "seed") -> int:
    return whole(value, name, 0, MAX_SEED)


def steps(value, timesteps: int, name: str = "steps") -> int:
    return whole(value, name, 1, timesteps)


def eta(value) -> float:
    return real(value, "eta", 0.0, 1.0)


def psi(value) -> float:
    return real(value, "truncation psi", 0.0, 1.0)
