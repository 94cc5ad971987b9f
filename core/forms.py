"""Form helpers: business rules stay in the services; forms only shape input and show each
service error beside the field it names."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.http import HttpRequest, QueryDict

from core.errors import DomainError


def add_service_errors(form: forms.Form, error: DomainError) -> None:
    """Put each error a service reported beside the field it names; anything that names no
    field of this form goes on top, as the service's whole sentence."""
    unplaced = not error.errors
    for path, messages in error.errors.items():
        field = f"{path.removeprefix('ratings.')}-rating" if path.startswith("ratings.") else path
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
        else:
            unplaced = True
    if unplaced:
        form.add_error(None, error.message)


def scale_choices(points: Iterable[tuple[int, str]]) -> list[tuple[str, str]]:
    """A rating select's options: "not rated", then each point of the scale with its anchor."""
    return [
        ("", "—"),
        *(
            (str(point), f"{point} · {anchor}" if anchor else str(point))
            for point, anchor in points
        ),
    ]


def posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data of a POST (even an empty one, which must fail validation), or None
    for a GET, so one view shows a form unbound and binds it on submission."""
    return request.POST if request.method == "POST" else None


def sort_links(request: HttpRequest, param: str, names: list[str]) -> dict[str, dict[str, str]]:
    """For each sortable column: the address that sorts by it (again: the other way round),
    and its aria-sort value, keeping the page's other filters."""
    current = request.GET.get(param, "")
    links = {}
    for name in names:
        query = request.GET.copy()
        query.pop("page", None)
        query[param] = f"-{name}" if current == name else name
        state = {name: "ascending", f"-{name}": "descending"}.get(current, "none")
        links[name] = {"url": f"?{query.urlencode()}", "aria": state}
    return links
