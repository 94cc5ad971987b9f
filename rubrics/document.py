"""Rubric-as-code: the document schema shared by YAML files, the API and the export.

The schema is written as DRF serializers (nested, with per-field messages) rather than by hand;
their nested errors are flattened into paths such as `dimensions[2].weight`.
"""

from __future__ import annotations

import difflib
from decimal import Decimal
from typing import Any

import yaml
from rest_framework import serializers

from core import limits
from core.errors import ValidationFailed, flatten_errors, validation_message
from rubrics.models import KEY_VALIDATOR, RubricVersion

POSITIVE_NUMBER: dict[str, Any] = {
    "invalid": "must be a positive number",
    "min_value": "must be a positive number",
    "required": "is required",
    "null": "must be a positive number",
    "max_digits": "must be a number with at most 5 digits before the decimal point",
    "max_decimal_places": "must have at most 2 decimal places",
}
REQUIRED_TEXT: dict[str, Any] = {
    "required": "is required",
    "blank": "must not be empty",
    "null": "is required",
}


class StrictSchema(serializers.Serializer):
    """A part of the document that refuses keys it does not know (`gates:` for `gate:` is a
    mistake to name, not a line to drop)."""

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, Any] = {}
        if isinstance(data, dict):
            unknown = {
                str(key): [_unknown_key(str(key), list(self.fields))]
                for key in sorted(data, key=str)
                if key not in self.fields
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Every problem at once: the unknown keys beside the known fields' own errors.
            if isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def _unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
    return f"is not a known key{hint}"


class ScaleSchema(StrictSchema):
    min = serializers.IntegerField(min_value=0, max_value=100, error_messages=REQUIRED_TEXT)
    max = serializers.IntegerField(min_value=1, max_value=100, error_messages=REQUIRED_TEXT)
    anchors = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=500), required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["min"] >= attrs["max"]:
            raise serializers.ValidationError({"max": "must be greater than min"})
        if attrs["max"] - attrs["min"] > 10:
            raise serializers.ValidationError({"max": "a scale has at most 11 points"})
        anchors: dict[str, str] = {}
        for key, text in (attrs.get("anchors") or {}).items():
            try:
                point = int(key)
            except (TypeError, ValueError):
                raise serializers.ValidationError(
                    {"anchors": f"{key!r} is not a point on the scale"}
                ) from None
            if not attrs["min"] <= point <= attrs["max"]:
                raise serializers.ValidationError(
                    {"anchors": f"{point} is outside the scale {attrs['min']}–{attrs['max']}"}
                )
            anchors[str(point)] = text
        attrs["anchors"] = anchors
        return attrs


class LevelSchema(StrictSchema):
    code = serializers.CharField(max_length=20, error_messages=REQUIRED_TEXT)
    name = serializers.CharField(max_length=100, error_messages=REQUIRED_TEXT)


class GateSchema(StrictSchema):
    below = serializers.IntegerField(error_messages=REQUIRED_TEXT)
    cap = serializers.DecimalField(max_digits=5, decimal_places=2, error_messages=REQUIRED_TEXT)


class DimensionSchema(StrictSchema):
    key = serializers.CharField(
        max_length=60, validators=[KEY_VALIDATOR], error_messages=REQUIRED_TEXT
    )
    name = serializers.CharField(max_length=120, error_messages=REQUIRED_TEXT)
    weight = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages=POSITIVE_NUMBER,
    )
    gate = GateSchema(required=False, allow_null=True)
    owner = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    purpose = serializers.CharField(
        max_length=limits.TEXT, required=False, allow_blank=True, default=""
    )
    limitations = serializers.CharField(
        max_length=limits.TEXT, required=False, allow_blank=True, default=""
    )
    anti_gaming = serializers.CharField(
        max_length=limits.TEXT, required=False, allow_blank=True, default=""
    )
    review_cadence = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )
    criteria = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=limits.TEXT),
        required=False,
        default=dict,
    )


class RubricDocumentSchema(StrictSchema):
    rubric = serializers.SlugField(max_length=80, error_messages=REQUIRED_TEXT)
    name = serializers.CharField(max_length=200, error_messages=REQUIRED_TEXT)
    description = serializers.CharField(
        max_length=limits.LONG_TEXT, required=False, allow_blank=True, default=""
    )
    rationale = serializers.CharField(
        max_length=limits.TEXT, required=False, allow_blank=True, default=""
    )
    requires_second_approval = serializers.BooleanField(required=False, default=False)
    scale = ScaleSchema(error_messages=REQUIRED_TEXT)
    levels = LevelSchema(many=True, allow_empty=False, max_length=30)  # type: ignore[call-arg]
    dimensions = DimensionSchema(many=True, allow_empty=False, max_length=30)  # type: ignore[call-arg]


def parse_document(data: Any) -> dict[str, Any]:
    """Validate a rubric document (already loaded from YAML or JSON); raise with every problem."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            "A rubric document must be a mapping with rubric, name, scale, levels, dimensions.",
            errors={"document": ["must be a mapping"]},
        )
    schema = RubricDocumentSchema(data=data)
    valid = schema.is_valid()
    errors = flatten_errors(schema.errors) if not valid else {}
    # Cross-field rules run even when some fields are invalid, so every problem shows at once.
    for path, message in _cross_field_problems(data).items():
        errors.setdefault(path, []).append(message)
    if errors:
        raise ValidationFailed(validation_message(errors), errors=errors)
    return dict(schema.validated_data)


def _cross_field_problems(data: dict[str, Any]) -> dict[str, str]:
    """Rules that relate fields: unique codes and keys, criteria for known levels, gates within
    the scale. Written defensively: the input may be malformed in other ways too."""
    problems: dict[str, str] = {}
    raw_levels, raw_scale, raw_dimensions = (
        data.get("levels"),
        data.get("scale"),
        data.get("dimensions"),
    )
    levels = raw_levels if isinstance(raw_levels, list) else []
    codes = [lv.get("code") for lv in levels if isinstance(lv, dict)]
    for index, code in enumerate(codes):
        if code is not None and codes.index(code) != index:
            problems[f"levels[{index}].code"] = f"level {code!r} appears twice"
    scale = raw_scale if isinstance(raw_scale, dict) else {}
    lo, hi = scale.get("min"), scale.get("max")
    dimensions = raw_dimensions if isinstance(raw_dimensions, list) else []
    keys = [d.get("key") if isinstance(d, dict) else None for d in dimensions]
    for index, dimension in enumerate(dimensions):
        if not isinstance(dimension, dict):
            continue
        path = f"dimensions[{index}]"
        key = dimension.get("key")
        if key is not None and keys.index(key) != index:
            problems[f"{path}.key"] = f"dimension {key!r} appears twice"
        criteria = dimension.get("criteria")
        if isinstance(criteria, dict):
            for code in criteria:
                if code not in codes:
                    problems[f"{path}.criteria.{code}"] = (
                        f"{code!r} is not one of the levels ({', '.join(map(str, codes))})"
                    )
        gate = dimension.get("gate")
        if isinstance(gate, dict) and isinstance(lo, int) and isinstance(hi, int):
            below, cap = gate.get("below"), gate.get("cap")
            if isinstance(below, int) and not lo < below <= hi:
                problems[f"{path}.gate.below"] = (
                    f"must be above the scale minimum {lo} and at most {hi}"
                )
            if isinstance(cap, int | float) and not lo <= cap <= hi:
                problems[f"{path}.gate.cap"] = f"must be within the scale {lo}–{hi}"
    return problems


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without aliases (a "billion laughs" document grows without bound) and without
    repeated keys (the second would silently win)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a rubric", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    if len(text) > limits.MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            f"The document is larger than {limits.MAX_UPLOAD_BYTES:,} characters.",
            errors={"document": ["is too large"]},
        )
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationFailed(
            f"Not valid YAML at {where}: {problem}", errors={"document": [f"{where}: {problem}"]}
        ) from None


def _number(value: Decimal) -> int | float | str:
    """Write weights and caps as plain YAML numbers (25, 2.5) rather than strings."""
    normalised = value.normalize()
    if normalised == normalised.to_integral_value():
        return int(normalised)
    return float(normalised)


def version_to_document(version: RubricVersion) -> dict[str, Any]:
    """The canonical document of a version (what export writes and diff compares)."""
    scale = version.scale
    levels = list(version.levels.all())
    level_codes = {level.pk: level.code for level in levels}
    dimensions = []
    for d in version.dimensions.all():
        criteria = {level_codes[c.level_id]: c.text for c in d.criteria.all()}
        entry: dict[str, Any] = {
            "key": d.key,
            "name": d.name,
            "weight": _number(d.weight),
        }
        if d.has_gate:
            assert d.gate_cap is not None
            entry["gate"] = {"below": d.gate_below, "cap": _number(d.gate_cap)}
        entry.update(
            owner=d.owner,
            purpose=d.purpose,
            limitations=d.limitations,
            anti_gaming=d.anti_gaming,
            review_cadence=d.review_cadence,
            criteria={
                code: criteria[code] for code in (lv.code for lv in levels) if code in criteria
            },
        )
        dimensions.append(entry)
    return {
        "rubric": version.rubric.slug,
        "name": version.rubric.name,
        "description": version.description,
        "rationale": version.rationale,
        "requires_second_approval": version.rubric.requires_second_approval,
        "scale": {
            "min": scale.min_rating,
            "max": scale.max_rating,
            "anchors": {
                int(k): v for k, v in sorted(scale.anchors.items(), key=lambda i: int(i[0]))
            },
        },
        "levels": [{"code": level.code, "name": level.name} for level in levels],
        "dimensions": dimensions,
    }


def dump_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
