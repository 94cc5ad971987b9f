"""The rubric linter: every problem that would make a version unfit to publish, all at once.

It works on the canonical document (see rubrics.document), so the same rules apply to a YAML
file, an API draft and a stored version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

GOVERNANCE_FIELDS = ("owner", "purpose", "limitations", "anti_gaming", "review_cadence")

# Individual activity metrics (DESIGN.md, principle 4). Matched against what a dimension is
# called and what it says it measures, every criterion and every scale anchor; limitations and
# anti-gaming notes may mention them (they say what not to do).
ACTIVITY_METRICS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), label)
    for pattern, label in (
        (
            r"\blines?[\s_-]+of[\s_-]+code\b|\bs?loc\b|\blines[\s_-]+(changed|added|written)\b",
            "lines of code",
        ),
        (
            r"\bcommit(s)?[\s_-]*(count|per|number)|\b(number|count)[\s_-]+of[\s_-]+commits\b"
            r"|\b\d+\s+commits\b|\bcommits?\b[^.;]{0,40}?\b(times?|per|a|each|every)[\s_-]+"
            r"(day|week|sprint|month)\b",
            "commit counts",
        ),
        (
            r"\b(prs?|pull[\s_-]+requests?|merge[\s_-]+requests?)[\s_-]*(count|merged|opened|per)\b"
            r"|\b(number|count)[\s_-]+of[\s_-]+(prs|pull[\s_-]+requests|merge[\s_-]+requests)\b",
            "pull request counts",
        ),
        (
            r"\bhours?[\s_-]*(worked|logged|spent|per)\b|\b(number|count)[\s_-]+of[\s_-]+hours\b"
            r"|\btime[\s_-]+logged\b|\blog(s|ged|ging)?\s+(at\s+least\s+)?\d+\+?\s*hours?\b"
            r"|\b\d+\+?\s*hours?\s+(a|per|each|every)\s+(day|week)\b",
            "hours worked",
        ),
        (r"\bstory[\s_-]*points?\b", "story points"),
        (r"\bvelocity\b", "velocity"),
        (
            r"\b(tickets?|issues?|jiras?|stories|tasks?)[\s_-]+(closed|resolved|completed|done)\b"
            r"|\b(closed|resolved|completed|closes|resolves)\s+(\d+\s+)?(more\s+)?"
            r"(tickets?|issues?|jiras?)\b|\b(number|count)[\s_-]+of[\s_-]+(tickets|issues)\b",
            "tickets closed",
        ),
        (r"\bthroughput\b", "throughput"),
        (
            r"\b(number|count)[\s_-]+of[\s_-]+(deploys|deployments|reviews\s+done)\b"
            r"|\bdeploys?[\s_-]+per[\s_-]+(engineer|person|developer)\b",
            "deployment counts",
        ),
    )
)


def activity_metric(text: str) -> tuple[str, str] | None:
    """The individual activity metric `text` asks for, and the words that ask for it."""
    for pattern, metric in ACTIVITY_METRICS:
        match = pattern.search(text)
        if match:
            return metric, match.group(0)
    return None


ACTIVITY_WHY = (
    "is an individual activity metric: it counts effort rather than outcomes, is easy to game "
    "and penalises invisible work such as mentoring and incident follow-ups. Rate the outcome "
    "instead (delivery, quality, reliability) and back it with evidence."
)


@dataclass(frozen=True)
class LintProblem:
    path: str
    message: str


def _dimension_label(index: int, dimension: dict[str, Any]) -> str:
    return f"dimensions[{index}] ({dimension.get('key', '?')})"


def lint_document(document: dict[str, Any], *, max_share: Decimal) -> list[LintProblem]:
    problems: list[LintProblem] = []
    levels = [level["code"] for level in document.get("levels", [])]
    dimensions = document.get("dimensions", [])
    scale = document.get("scale", {})

    if not levels:
        problems.append(LintProblem("levels", "at least one level is required"))
    if not dimensions:
        problems.append(LintProblem("dimensions", "at least one dimension is required"))

    lo, hi = scale.get("min"), scale.get("max")
    if not isinstance(lo, int) or not isinstance(hi, int) or lo >= hi:
        problems.append(LintProblem("scale", "the scale needs whole-number min below max"))
    else:
        if hi - lo < 2:
            problems.append(
                LintProblem("scale", "a scale needs at least three points to have a midpoint")
            )
        anchors = {int(k): str(v).strip() for k, v in (scale.get("anchors") or {}).items()}
        missing = [str(p) for p in range(lo, hi + 1) if not anchors.get(p)]
        if missing:
            problems.append(
                LintProblem(
                    "scale.anchors",
                    f"every point needs an anchor text; missing for {', '.join(missing)}",
                )
            )

    weights = [Decimal(str(d.get("weight", 0))) for d in dimensions]
    total = sum(weights, Decimal(0))
    for index, (dimension, weight) in enumerate(zip(dimensions, weights, strict=True)):
        path = f"dimensions[{index}]"
        label = _dimension_label(index, dimension)
        if weight <= 0:
            problems.append(LintProblem(f"{path}.weight", f"{label}: must be a positive number"))
        elif total > 0 and len(dimensions) > 1 and weight / total > max_share:
            share = (weight / total * 100).quantize(Decimal("0.1"))
            problems.append(
                LintProblem(
                    f"{path}.weight",
                    f"{label}: carries {share}% of the total weight; no dimension may carry "
                    f"more than {(max_share * 100).normalize():f}%, so one skill cannot decide "
                    "the composite",
                )
            )
        for field in GOVERNANCE_FIELDS:
            if not str(dimension.get(field) or "").strip():
                problems.append(
                    LintProblem(
                        f"{path}.{field}",
                        f"{label}: {field.replace('_', '-')} is required (every dimension "
                        "documents its owner, purpose, limitations, anti-gaming notes and "
                        "review cadence)",
                    )
                )
        criteria = dimension.get("criteria") or {}
        missing_levels = [code for code in levels if not str(criteria.get(code) or "").strip()]
        if missing_levels:
            problems.append(
                LintProblem(
                    f"{path}.criteria",
                    f"{label}: no criterion for level {', '.join(missing_levels)}",
                )
            )
        gate = dimension.get("gate")
        if gate and isinstance(lo, int) and isinstance(hi, int):
            if not lo < int(gate["below"]) <= hi:
                problems.append(
                    LintProblem(f"{path}.gate.below", f"{label}: must be within ({lo}, {hi}]")
                )
            if not lo <= Decimal(str(gate["cap"])) <= hi:
                problems.append(
                    LintProblem(f"{path}.gate.cap", f"{label}: must be within [{lo}, {hi}]")
                )
        text = " ".join(str(dimension.get(field) or "") for field in ("key", "name", "purpose"))
        found = activity_metric(text)
        if found:
            problems.append(
                LintProblem(path, f"{label}: measures {found[0]}, which {ACTIVITY_WHY}")
            )
        for code, criterion in (dimension.get("criteria") or {}).items():
            found = activity_metric(str(criterion or ""))
            if found:
                metric, words = found
                problems.append(
                    LintProblem(
                        f"{path}.criteria.{code}",
                        f'{label}, level {code}: "{words}" asks for {metric}, which {ACTIVITY_WHY}',
                    )
                )
    for point, anchor in sorted((scale.get("anchors") or {}).items(), key=lambda i: str(i[0])):
        found = activity_metric(str(anchor or ""))
        if found:
            metric, words = found
            problems.append(
                LintProblem(
                    f"scale.anchors.{point}",
                    f'the anchor of rating {point}: "{words}" asks for {metric}, which '
                    f"{ACTIVITY_WHY}",
                )
            )
    return problems


# A small set of dimensions (DESIGN.md, principle 5): more than this and the linter warns.
SMALL_SET = 7


def lint_warnings(document: dict[str, Any]) -> list[LintProblem]:
    """What the linter advises without refusing: a version may still be published."""
    dimensions = document.get("dimensions") or []
    if len(dimensions) > SMALL_SET:
        return [
            LintProblem(
                "dimensions",
                f"{len(dimensions)} dimensions: keep to a small set (at most {SMALL_SET}) that "
                "people can hold in mind and that can each be reviewed and governed; merge or "
                "retire the weakest.",
            )
        ]
    return []
