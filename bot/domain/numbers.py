"""Whole numbers from outside (commands, buttons, headers), parsed with a pattern.

``str.isdigit()`` accepts ``²`` and ``①``, which ``int()`` refuses, and ``\\d`` accepts other
scripts' digits. Only ASCII digits, and only as many as the largest value can need, are read.
"""

from __future__ import annotations

import re

from bot.domain.errors import InvalidInput

_ASCII_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)


def ascii_int(text: object, max_digits: int = 18) -> int | None:
    """The value of ``text`` if it is 1 to ``max_digits`` ASCII digits, else None."""
    if not isinstance(text, str) or len(text) > max_digits or not _ASCII_DIGITS.fullmatch(text):
        return None
    return int(text)


def whole_number(text: str, field: str, lo: int, hi: int, usage: str) -> int:
    """Parse a whole number from ``lo`` to ``hi`` or raise InvalidInput naming ``field``."""
    value = ascii_int(text.strip(), len(str(hi)))
    if value is None or not lo <= value <= hi:
        raise InvalidInput({field: f"must be a whole number from {lo} to {hi}. Usage: {usage}"})
    return value
