"""A structured diff between two rubric documents, with one human sentence per change."""

from __future__ import annotations

from typing import Any

DIMENSION_FIELDS = (
    "name",
    "weight",
    "gate",
    "owner",
    "purpose",
    "limitations",
    "anti_gaming",
    "review_cadence",
)


def _change(field: str, old: Any, new: Any) -> dict[str, Any]:
    return {"field": field, "from": old, "to": new}


def _gate_text(gate: dict[str, Any] | None) -> str:
    return f"below {gate['below']} caps at {gate['cap']}" if gate else "none"


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    summary: list[str] = []

    scale_changes = [
        _change(field, old["scale"].get(field), new["scale"].get(field))
        for field in ("min", "max", "anchors")
        if old["scale"].get(field) != new["scale"].get(field)
    ]
    for change in scale_changes:
        summary.append(f"Scale {change['field']} changed.")

    old_levels = {lv["code"]: lv for lv in old["levels"]}
    new_levels = {lv["code"]: lv for lv in new["levels"]}
    levels: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}
    for code, level in new_levels.items():
        if code not in old_levels:
            levels["added"].append(level)
            summary.append(f"Level {code} ({level['name']}) added.")
        elif old_levels[code]["name"] != level["name"]:
            levels["changed"].append(
                {
                    "code": code,
                    "changes": [_change("name", old_levels[code]["name"], level["name"])],
                }
            )
            summary.append(f"Level {code} renamed to {level['name']}.")
    for code, level in old_levels.items():
        if code not in new_levels:
            levels["removed"].append(level)
            summary.append(f"Level {code} ({level['name']}) removed.")

    old_dims = {d["key"]: d for d in old["dimensions"]}
    new_dims = {d["key"]: d for d in new["dimensions"]}
    dimensions: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}
    criteria: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}
    for key, dim in new_dims.items():
        if key not in old_dims:
            dimensions["added"].append({"key": key, "name": dim["name"], "weight": dim["weight"]})
            summary.append(f"Dimension {dim['name']} added with weight {dim['weight']}.")
            continue
        before = old_dims[key]
        changes = [
            _change(field, before.get(field), dim.get(field))
            for field in DIMENSION_FIELDS
            if str(before.get(field) or "") != str(dim.get(field) or "")
        ]
        if changes:
            dimensions["changed"].append({"key": key, "name": dim["name"], "changes": changes})
            for change in changes:
                if change["field"] == "weight":
                    summary.append(
                        f"Weight of {dim['name']} changed from {change['from']} to {change['to']}."
                    )
                elif change["field"] == "gate":
                    summary.append(
                        f"Gate on {dim['name']} changed from {_gate_text(change['from'])} to "
                        f"{_gate_text(change['to'])}."
                    )
                else:
                    summary.append(f"{dim['name']}: {change['field'].replace('_', ' ')} changed.")
    for key, dim in old_dims.items():
        if key not in new_dims:
            dimensions["removed"].append({"key": key, "name": dim["name"], "weight": dim["weight"]})
            summary.append(f"Dimension {dim['name']} removed.")

    for key in [k for k in new_dims if k in old_dims]:
        old_criteria = old_dims[key].get("criteria") or {}
        new_criteria = new_dims[key].get("criteria") or {}
        name = new_dims[key]["name"]
        for code, text in new_criteria.items():
            if code not in old_criteria:
                criteria["added"].append({"dimension": key, "level": code, "text": text})
                summary.append(f"{name} × {code}: criterion added.")
            elif old_criteria[code] != text:
                criteria["changed"].append(
                    {"dimension": key, "level": code, "from": old_criteria[code], "to": text}
                )
                summary.append(f"{name} × {code}: criterion reworded.")
        for code, text in old_criteria.items():
            if code not in new_criteria:
                criteria["removed"].append({"dimension": key, "level": code, "text": text})
                summary.append(f"{name} × {code}: criterion removed.")
    for group in (criteria["added"], criteria["changed"], criteria["removed"]):
        group.sort(key=lambda c: (c["dimension"], c["level"]))

    return {
        "scale": scale_changes,
        "levels": levels,
        "dimensions": dimensions,
        "criteria": criteria,
        "summary": summary,
        "unchanged": not summary,
    }
