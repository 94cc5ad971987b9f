"""Exports that open in a spreadsheet: a cell that starts with =, +, -, @, a tab or a carriage
return would run as a formula (`=HYPERLINK(...)` in a name), so it is written with a leading
apostrophe and shown as the text it is."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, neutralised if it is text a spreadsheet would read as a formula. Numbers
    stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: list[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]
