"""Refusals a visitor reads: a ValueError with its English sentence, and a key with parameters from which the
app writes the same sentence in the visitor's language (demo/messages.py holds the other languages' templates).

    raise Refusal("whole", "steps must be a whole number from 1 to 1000, got 0", name="steps", low=1, high=1000,
                  value="0")

The CLIs and tests read the English; nothing is recovered from the English text by pattern.
"""
from __future__ import annotations


class Refusal(ValueError):
    def __init__(self, key: str, english: str, **params) -> None:
        super().__init__(english)
        self.key, self.params = key, params


def one_of(value, name: str, choices) -> object:
    """value if it is one of `choices`, else a Refusal naming them."""
    choices = list(choices)
    if value not in choices:
        raise Refusal("one_of", f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}", name=name,
                      choices=", ".join(map(str, choices)), value=repr(value))
    return value
