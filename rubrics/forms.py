"""HTML forms for HR's rubric pages: import a YAML document, edit a draft field by field,
publish with a rationale, send back with a reason. They only shape input; the document's
schema and the linter (rubrics.document, rubrics.linter) decide what is valid, and each of
their problems is shown beside the field its path names."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

from core import limits
from core.errors import DomainError
from rubrics.linter import GOVERNANCE_FIELDS

GOVERNANCE_LABELS = {
    "owner": "Owner",
    "purpose": "Purpose",
    "limitations": "Known limitations",
    "anti_gaming": "Anti-gaming notes",
    "review_cadence": "Review cadence",
}
PATH = re.compile(r"^dimensions\[(\d+)\](?:\.(.+))?$")


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Rubric document (YAML)",
        required=False,
        help_text="The schema is in the README; an existing rubric gets a new draft version.",
    )
    text = forms.CharField(
        label="Or paste the YAML",
        required=False,
        max_length=limits.MAX_UPLOAD_BYTES,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, text = data.get("file"), (data.get("text") or "").strip()
        if bool(upload) == bool(text):
            raise forms.ValidationError("Upload a file or paste the YAML (one of the two).")
        if upload is not None:
            if upload.size > limits.MAX_UPLOAD_BYTES:
                self.add_error(
                    "file",
                    f"The file is {upload.size:,} bytes; at most {limits.MAX_UPLOAD_BYTES:,} "
                    "are accepted.",
                )
                return data
            try:
                text = upload.read(limits.MAX_UPLOAD_BYTES + 1).decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "The file must be UTF-8 text (YAML).")
                return data
        data["yaml"] = text
        return data


class DraftForm(forms.Form):
    """A draft's text, weights, gates, governance and criteria, one field each. Keys, levels
    and the scale stay as they are (change them by importing a document)."""

    description = forms.CharField(
        max_length=limits.LONG_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, document: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.document = document
        self.levels = [level["code"] for level in document["levels"]]
        self.groups: list[tuple[dict[str, Any], list[str]]] = []
        initial: dict[str, Any] = {"description": document.get("description", "")}
        for i, dimension in enumerate(document["dimensions"]):
            names = []
            for name, field in self._dimension_fields(i, dimension).items():
                self.fields[name] = field
                names.append(name)
            gate = dimension.get("gate") or {}
            initial |= {
                f"d{i}-name": dimension["name"],
                f"d{i}-weight": dimension["weight"],
                f"d{i}-gate_below": gate.get("below"),
                f"d{i}-gate_cap": gate.get("cap"),
                **{f"d{i}-{g}": dimension.get(g, "") for g in GOVERNANCE_FIELDS},
                **{
                    f"d{i}-criteria-{code}": (dimension.get("criteria") or {}).get(code, "")
                    for code in self.levels
                },
            }
            self.groups.append((dimension, names))
        self.initial = initial | dict(self.initial)

    def dimension_groups(self) -> list[tuple[dict[str, Any], list[forms.BoundField]]]:
        """Each dimension with its bound fields, for the page's fieldsets."""
        return [(dimension, [self[name] for name in names]) for dimension, names in self.groups]

    def _dimension_fields(self, i: int, dimension: dict[str, Any]) -> dict[str, forms.Field]:
        name = dimension["name"]
        fields: dict[str, forms.Field] = {
            f"d{i}-name": forms.CharField(label="Name", max_length=limits.SHORT_TEXT),
            f"d{i}-weight": forms.DecimalField(
                label="Weight", min_value=Decimal("0.01"), max_digits=6, decimal_places=2
            ),
            f"d{i}-gate_below": forms.IntegerField(
                label="Gate: a rating below", required=False, min_value=0, max_value=100
            ),
            f"d{i}-gate_cap": forms.DecimalField(
                label="caps the composite at",
                required=False,
                min_value=Decimal(0),
                max_digits=4,
                decimal_places=2,
            ),
        }
        for g in GOVERNANCE_FIELDS:
            fields[f"d{i}-{g}"] = forms.CharField(
                label=GOVERNANCE_LABELS[g],
                required=False,
                max_length=limits.TEXT,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        for code in self.levels:
            fields[f"d{i}-criteria-{code}"] = forms.CharField(
                label=f"Criterion at {code}",
                required=False,
                max_length=limits.TEXT,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        for field in fields.values():
            field.widget.attrs.setdefault("data-dimension", name)
        return fields

    def updated_document(self) -> dict[str, Any]:
        """The draft's document with this form's values in it."""
        data = self.cleaned_data
        document = dict(self.document, description=data["description"])
        dimensions = []
        for i, dimension in enumerate(self.document["dimensions"]):
            below, cap = data.get(f"d{i}-gate_below"), data.get(f"d{i}-gate_cap")
            changed = dict(
                dimension,
                name=data[f"d{i}-name"],
                weight=data[f"d{i}-weight"],
                criteria={
                    code: data[f"d{i}-criteria-{code}"]
                    for code in self.levels
                    if data[f"d{i}-criteria-{code}"].strip()
                },
                **{g: data[f"d{i}-{g}"] for g in GOVERNANCE_FIELDS},
            )
            changed.pop("gate", None)
            if below is not None or cap is not None:
                changed["gate"] = {"below": below, "cap": cap}
            dimensions.append(changed)
        document["dimensions"] = dimensions
        return document

    def field_for(self, path: str) -> str | None:
        """The form field a document path names (`dimensions[2].gate.cap` → `d2-gate_cap`)."""
        if path == "description":
            return "description"
        match = PATH.match(path)
        if not match:
            return None
        i, rest = int(match.group(1)), match.group(2) or "name"
        if rest == "criteria":  # criteria missing for some levels: the first empty one
            missing = [c for c in self.levels if not self.data.get(f"d{i}-criteria-{c}", "x")]
            rest = f"criteria.{missing[0] if missing else self.levels[0]}"
        name = f"d{i}-" + rest.replace("gate.", "gate_").replace("criteria.", "criteria-")
        return name if name in self.fields else None

    def add_problems(self, problems: dict[str, list[str]]) -> None:
        """Put each problem (by document path) beside its field; the rest on top."""
        for path, messages in problems.items():
            field = self.field_for(path)
            for message in messages:
                # The linter's sentence names the dimension; beside the field, its label does.
                self.add_error(field, message.split(": ", 1)[-1] if field else message)

    def add_service_errors(self, error: DomainError) -> None:
        self.add_problems(error.errors or {"": [error.message]})


class RationaleForm(forms.Form):
    rationale = forms.CharField(
        label="Why this version exists",
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown in the changelog and the audit log.",
        error_messages={"required": "Say why this version exists: publishing needs a rationale."},
    )


class SendBackForm(forms.Form):
    reason = forms.CharField(
        label="What should change before approval?",
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why it goes back."},
    )
