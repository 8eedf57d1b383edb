"""Typed X12 values that keep the exact text they were read from.

* :class:`Num` — an R (real) or N (implied-decimal) element: ``text`` as sent,
  ``value`` a :class:`~decimal.Decimal` (never a float) or None when the text
  is not a number (``?`` placeholders exist in real files).
* :class:`Day` — a DT element: CCYYMMDD or YYMMDD (the century of a 6-digit
  date follows the POSIX ``%y`` rule: 69–99 → 19xx, 00–68 → 20xx); ``value``
  None for anything else (the 7-digit ``1994033`` in a real GS).

N-type elements with implied decimals (TDS01, SAC05, ITD08: N2) are read with
:func:`implied`: ``5635800`` → ``56358.00``. A partner that sends an explicit
decimal point in an N2 element (``TDS*123.45``) is read literally: the point
wins over the implied scale.

Prices with no decimal point (855 PO104 ``7700``) are R type and read as they
are (7700); whether a partner means cents is their convention and is not
guessed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")


@dataclass(frozen=True, slots=True)
class Num:
    """A number as sent (``text``) and as a Decimal (``value``, None when not numeric)."""

    text: str
    value: Decimal | None


@dataclass(frozen=True, slots=True)
class Day:
    """A date as sent (``text``) and as a :class:`date` (``value``, None when not a date)."""

    text: str
    value: date | None


def to_decimal(text: str) -> Decimal | None:
    """The Decimal an X12 R element spells (``1998.61``, ``.8``, ``-10``), else None."""
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        return None


def num(text: str) -> Num | None:
    """An R (explicit decimal) element; None when the element is empty."""
    if not text.strip():
        return None
    return Num(text, to_decimal(text))


def implied(text: str, places: int = 2) -> Num | None:
    """An N element with ``places`` implied decimals (N2 by default); None when empty."""
    if not text.strip():
        return None
    value = to_decimal(text)
    if value is not None and "." not in text and "e" not in text.lower():
        value = value.scaleb(-places)
    return Num(text, value)


def to_date(text: str) -> date | None:
    """CCYYMMDD or YYMMDD as a date, else None."""
    text = text.strip()
    if not text.isdigit():
        return None
    try:
        if len(text) == 8:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) == 6:
            yy = int(text[:2])
            return date((1900 if yy >= 69 else 2000) + yy, int(text[2:4]), int(text[4:]))
    except ValueError:
        return None
    return None


def day(text: str) -> Day | None:
    """A DT element; None when the element is empty."""
    if not text.strip():
        return None
    return Day(text, to_date(text))


def format_decimal(value: Decimal | int) -> str:
    """An R element for writing: plain digits, no exponent, no trailing zeros (``9.25``)."""
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
