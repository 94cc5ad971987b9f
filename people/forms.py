"""The organisation import form (a CSV or JSON file from the HR system), and the fields that
name people and teams in a box for lists too long to offer whole."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from core import limits
from core.widgets import ListedNamesInput
from people.models import Team
from people.org_import import COLUMNS, MAX_PAGE_BYTES

USERNAME_SEPARATORS = re.compile(r"[\s,;]+")
TEAM_SEPARATORS = re.compile(r"\s*[,;\n]\s*")
MOST_NAMED = 500  # names in one field, at most


def _names(text: str, separators: re.Pattern[str]) -> list[str]:
    return list(dict.fromkeys(n.strip() for n in separators.split(text.strip()) if n.strip()))


def _listed(names: list[str]) -> str:
    quoted = [f"“{name}”" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


class UsernamesField(forms.CharField):
    """People named by their usernames, typed (this works without JavaScript) or ticked among
    a search's suggestions (`search`: what templates/people/_search_box.html needs; None for
    none): the picker for a list too long to offer whole. Anyone named who is not among
    `queryset` (unknown, or without the role) is named in the error."""

    def __init__(
        self,
        *,
        queryset: QuerySet[Any],
        who: str,
        search: dict[str, Any] | None = None,
        one: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_length", limits.TEXT)
        kwargs.setdefault(
            "widget", ListedNamesInput(attrs={"autocomplete": "off", "spellcheck": "false"})
        )
        super().__init__(**kwargs)
        self.queryset, self.who, self.search, self.one = queryset, who, search, one

    def clean(self, value: Any) -> Any:
        names = _names(super().clean(value) or "", USERNAME_SEPARATORS)
        if len(names) > MOST_NAMED or (self.one and len(names) > 1):
            raise forms.ValidationError(
                "Name one person." if self.one else f"Name at most {MOST_NAMED} people."
            )
        found = {p.get_username(): p for p in self.queryset.filter(username__in=names)}
        missing = [name for name in names if name not in found]
        if missing:
            raise forms.ValidationError(f"Not found among {self.who}: {', '.join(missing)}.")
        people = [found[name] for name in names]
        return (people[0] if people else None) if self.one else people


class TeamNamesField(forms.CharField):
    """Teams named by their names or slugs (a slug where two teams share a name), separated
    by commas or lines, typed or ticked among a search's suggestions (`search`, as for
    UsernamesField); a name that is no team's, or several teams', is named in the error."""

    def __init__(self, *, search: dict[str, Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", limits.LONG_TEXT)
        kwargs.setdefault("widget", ListedNamesInput(attrs={"autocomplete": "off"}))
        super().__init__(**kwargs)
        self.search = search

    def clean(self, value: Any) -> list[Team]:
        names = _names(super().clean(value) or "", TEAM_SEPARATORS)
        if len(names) > MOST_NAMED:
            raise forms.ValidationError(f"Name at most {MOST_NAMED} teams.")
        if not names:
            return []
        folded = {name.casefold() for name in names}
        teams = list(
            Team.objects.annotate(folded=Lower("name"))
            .filter(Q(slug__in=names) | Q(folded__in=folded))
            .order_by("name", "pk")
        )
        by_slug = {team.slug: team for team in teams}
        chosen: dict[int, Team] = {}
        missing, ambiguous = [], []
        for name in names:
            named = (
                [by_slug[name]]
                if name in by_slug
                else [team for team in teams if team.name.casefold() == name.casefold()]
            )
            if not named:
                missing.append(name)
            elif len(named) > 1:
                ambiguous.append(f"{name} ({', '.join(team.slug for team in named)})")
            else:
                chosen.setdefault(named[0].pk, named[0])
        problems = []
        if missing:
            problems.append(f"No team is named {_listed(missing)}.")
        if ambiguous:
            problems.append(
                f"Several teams share a name; write the slug of one: {'; '.join(ambiguous)}."
            )
        if problems:
            raise forms.ValidationError(" ".join(problems))
        return list(chosen.values())


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
