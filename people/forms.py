"""The organisation import form: a CSV or JSON file from the HR system."""

from __future__ import annotations

from typing import Any

from django import forms

from people.org_import import COLUMNS, MAX_PAGE_BYTES


class ImportForm(forms.Form):
    file = forms.FileField(
        label="People file (CSV or JSON)",
        required=False,
        help_text=f"Columns: {','.join(COLUMNS)}. Levels are codes of the rubric in use.",
    )
    # After a check, the page keeps what was checked here, so applying needs no second upload.
    content = forms.CharField(required=False, widget=forms.HiddenInput, max_length=MAX_PAGE_BYTES)
    format = forms.ChoiceField(
        choices=[("", "From the file name"), ("csv", "CSV"), ("json", "JSON")], required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is None and not data.get("content"):
            self.add_error("file", "Choose the file to import.")
            return data
        if upload is not None:
            if upload.size > MAX_PAGE_BYTES:
                self.add_error(
                    "file",
                    f"The file is {upload.size:,} bytes; this page takes at most "
                    f"{MAX_PAGE_BYTES:,} (use the import_people command or the API for more).",
                )
                return data
            raw = upload.read(MAX_PAGE_BYTES + 1)
            try:
                data["content"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "The file must be UTF-8 text.")
                return data
            if not data.get("format"):
                data["format"] = "json" if upload.name.lower().endswith(".json") else "csv"
        data["format"] = data.get("format") or "csv"
        return data
