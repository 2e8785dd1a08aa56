"""Text as search compares it, and as spreadsheets read it."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case without accents, so "Zoë" is found by "zoe"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def csv_safe(value: object) -> str:
    """A cell for a CSV file people open in a spreadsheet: cells starting with = + - @ would
    run as formulas there, so they get a leading apostrophe (numbers and phones do not)."""
    text = "" if value is None else str(value)
    if text[:1] in ("+", "-") and text[1:].replace(" ", "").isdigit():
        return text  # a phone number or a plain number is not a formula
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
