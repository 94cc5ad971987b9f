"""Bounds on every input, in one place: how big a request, a file or a text may be, how deep a
JSON document may nest, how many links one paste may hold, which dates make sense.

Services check what they are given (so the API, the pages and the commands answer alike, with
the field named); the API's JSON parser refuses oversized and over-deep bodies before any view
runs.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from core.errors import ValidationFailed

MAX_JSON_BYTES = 1_000_000
MAX_JSON_DEPTH = 32
MAX_UPLOAD_BYTES = 1_000_000  # a CSV or YAML file
MAX_PASTE_LINES = 200
MAX_ID = 2**63 - 1  # the largest id or number a database column holds
MAX_ERRORS_LISTED = 50  # a file with more problems names the first ones and counts the rest

SHORT_TEXT = 200  # titles, names
TEXT = 4_000  # justifications, rationales, reasons, contributions, feedback, pre-reads
LONG_TEXT = 20_000  # narratives, summaries, rubric descriptions

EARLIEST_DATE = datetime.date(1970, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)


def text_problems(fields: Mapping[str, tuple[Any, int]]) -> dict[str, list[str]]:
    """{field: [problem]} for every text longer than its bound ({field: (value, bound)})."""
    return {
        name: [f"is {len(value):,} characters long; at most {bound:,} are allowed"]
        for name, (value, bound) in fields.items()
        if isinstance(value, str) and len(value) > bound
    }


def require_bounded(**fields: tuple[Any, int]) -> None:
    """Refuse, naming each field, any text longer than its bound."""
    problems = text_problems(fields)
    if problems:
        raise ValidationFailed.from_errors(problems)


def date_problem(value: datetime.date | None) -> str | None:
    if value is None or EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"


def require_dates(**fields: datetime.date | None) -> None:
    problems = {name: [p] for name, value in fields.items() if (p := date_problem(value))}
    if problems:
        raise ValidationFailed.from_errors(problems)


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a decoded JSON value nests deeper than `limit` (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def listed(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """At most MAX_ERRORS_LISTED entries, and how many more there were."""
    if len(errors) <= MAX_ERRORS_LISTED:
        return errors
    kept = dict(list(errors.items())[:MAX_ERRORS_LISTED])
    kept["more"] = [f"and {len(errors) - MAX_ERRORS_LISTED:,} more problems not listed"]
    return kept


def as_id(value: Any) -> int | None:
    """A whole number (ASCII digits) a database column can hold, or None for anything else:
    `1.5`, `-1`, `²`, and numbers past MAX_ID, which the database would refuse."""
    text = str(value).strip() if value is not None else ""
    if not re.fullmatch(r"[0-9]{1,19}", text):
        return None
    number = int(text)
    return number if number <= MAX_ID else None
