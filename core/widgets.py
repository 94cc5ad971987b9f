"""Form widgets written in Python. Django renders each widget, each <option> and each checkbox
through templates of its own (three includes per checkbox), which made a list page's filter
pickers a third of its time and a form offering the whole organisation (thousands of
checkboxes) nearly all of its. `PythonRenderer` (settings.FORM_RENDERER) keeps Django's widget
context — the same `optgroups`, ids, attributes, checked and selected state, required and aria
attributes from the bound field — and writes the HTML Django's templates would write, character
for character, with `format_html`, for every widget in Django's standard set; anything else
(a file input with its clear box, a template of our own) still goes through its template."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

HOW_TO_CHOOSE_SEVERAL = "Hold Ctrl (⌘ on a Mac) or Shift to choose several."
_WIDGETS = "django/forms/widgets/"


def attributes(attrs: dict[str, Any]) -> SafeString:
    """An element's attributes, as django/forms/widgets/attrs.html writes them: False left
    out, True as a bare name, anything else as its string."""
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', value))
            for name, value in attrs.items()
            if value is not False
        ),
    )


def _input(widget: dict[str, Any]) -> SafeString:
    """An <input>, as django/forms/widgets/input.html."""
    shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        widget["type"],
        widget["name"],
        shown,
        attributes(widget["attrs"]),
    )


def _textarea(widget: dict[str, Any]) -> SafeString:
    """A <textarea>, as django/forms/widgets/textarea.html."""
    return format_html(
        '<textarea name="{}"{}>\n{}</textarea>',
        widget["name"],
        attributes(widget["attrs"]),
        widget["value"] or "",
    )


def _option(option: dict[str, Any]) -> SafeString:
    """One <option>, as django/forms/widgets/select_option.html."""
    return format_html(
        '<option value="{}"{}>{}</option>',
        option["value"],
        attributes(option["attrs"]),
        option["label"],
    )


def _input_option(option: dict[str, Any]) -> SafeString:
    """One checkbox or radio button in its label, as django/forms/widgets/input_option.html."""
    field = _input(option)
    if not option["wrap_label"]:
        return field
    attrs = option["attrs"]
    target = format_html(' for="{}"', attrs["id"]) if attrs.get("id") else ""
    return format_html("<label{}>{} {}</label>", target, field, option["label"])


def _select(widget: dict[str, Any]) -> SafeString:
    """A <select>, as django/forms/widgets/select.html."""
    parts = []
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(format_html('\n  <optgroup label="{}">', group))
        parts.extend(mark_safe("\n  ") + _option(option) for option in options)
        if group:
            parts.append(mark_safe("\n  </optgroup>"))
    return format_html(
        '<select name="{}"{}>{}\n</select>',
        widget["name"],
        attributes(widget["attrs"]),
        mark_safe("".join(parts)),  # each part is escaped above
    )


def _multiple_input(widget: dict[str, Any]) -> SafeString:
    """Checkboxes or radio buttons, as django/forms/widgets/multiple_input.html."""
    parts = []
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(format_html("\n  <div><label>{}</label>", group))
        parts.extend(format_html("<div>\n    {}</div>", _input_option(o)) for o in options)
        if group:
            parts.append(mark_safe("\n  </div>"))
    attrs = widget["attrs"]
    own = {"id": attrs.get("id"), "class": attrs.get("class")}
    return format_html(
        "<div{}>{}\n</div>",
        attributes({k: v for k, v in own.items() if v}),
        mark_safe("".join(parts)),  # each part is escaped above
    )


_INPUTS = "input text search email url tel number password hidden date datetime time color"
WRITERS: dict[str, Callable[[dict[str, Any]], SafeString]] = {
    **{f"{_WIDGETS}{name}.html": _input for name in [*_INPUTS.split(), "checkbox"]},
    f"{_WIDGETS}textarea.html": _textarea,
    f"{_WIDGETS}select.html": _select,
    f"{_WIDGETS}checkbox_select.html": _multiple_input,
    f"{_WIDGETS}radio.html": _multiple_input,
}
# The option template each choice widget's writer stands for: a widget whose options have
# templates of their own is left to its templates.
_OPTIONS = {
    f"{_WIDGETS}select.html": f"{_WIDGETS}select_option.html",
    f"{_WIDGETS}checkbox_select.html": f"{_WIDGETS}checkbox_option.html",
    f"{_WIDGETS}radio.html": f"{_WIDGETS}radio_option.html",
}


class PythonRenderer(DjangoTemplates):
    """Django's default form renderer, with the standard widgets written in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        writer = WRITERS.get(template_name)
        widget = context.get("widget")
        if writer is None or not isinstance(widget, dict) or not _standard(template_name, widget):
            return super().render(template_name, context, request)
        return writer(widget)


def _standard(template_name: str, widget: dict[str, Any]) -> bool:
    option = _OPTIONS.get(template_name)
    return option is None or all(
        each["template_name"] == option
        for _group, options, _index in widget["optgroups"]
        for each in options
    )


class TallSelectMultiple(forms.SelectMultiple):
    """A <select multiple>: the picker for a long list (people or teams across the company),
    a few rows high; keyboard, phone and no-script browsers all have a way to choose several."""

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__({"size": 8, **(attrs or {})}, choices)


class DatePicker(forms.DateInput):
    """A date, picked with the browser's calendar."""

    input_type = "date"


# A picker with more options than fit on a screen becomes a search box: scrolling through
# hundreds of names is slower than typing a few letters of one, and sending them all made
# an organisation-wide page grow with the organisation.
LONGEST_PICKER = 50


class SearchInput(forms.TextInput):
    input_type = "search"


class ChosenCheckbox(forms.RadioSelect):
    """The one value already chosen from a list too long to offer (a search box stands in
    for the list), as a ticked checkbox labelled with its name: untick it to drop it. Its
    choices are that value alone, so nothing is rendered when nothing valid is chosen."""

    input_type = "checkbox"


class ListedNamesInput(forms.TextInput):
    """Names typed into a box (usernames, team names), together with any ticked among a
    search's suggestions: every value posted under the field's name, read as one list."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist"):
            return ", ".join(value for value in data.getlist(name) if value.strip())
        return data.get(name)
