"""Choice widgets rendered in Python. Django renders each <option> and each checkbox through
templates of its own (three includes per checkbox), which made a list page's filter pickers a
third of its time and a form offering the whole organisation (thousands of checkboxes) nearly
all of its. These widgets keep Django's context — the same `optgroups`, ids, attributes,
checked and selected state, required and aria attributes from the bound field — and write the
HTML Django's templates would write, character for character, with `format_html`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

HOW_TO_CHOOSE_SEVERAL = "Hold Ctrl (⌘ on a Mac) or Shift to choose several."


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


def _option(option: dict[str, Any]) -> SafeString:
    """One <option>, as django/forms/widgets/select_option.html."""
    return format_html(
        '<option value="{}"{}>{}</option>',
        option["value"],
        attributes(option["attrs"]),
        option["label"],
    )


def _input(option: dict[str, Any]) -> SafeString:
    """One checkbox or radio button in its label, as django/forms/widgets/input_option.html."""
    attrs = option["attrs"]
    value = "" if option["value"] is None else format_html(' value="{}"', option["value"])
    field = format_html(
        '<input type="{}" name="{}"{}{}>', option["type"], option["name"], value, attributes(attrs)
    )
    if not option["wrap_label"]:
        return field
    target = format_html(' for="{}"', attrs["id"]) if attrs.get("id") else ""
    return format_html("<label{}>{} {}</label>", target, field, option["label"])


class _RenderedInPython(forms.widgets.ChoiceWidget):
    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        return self.html(self.get_context(name, value, attrs)["widget"])

    def html(self, widget: dict[str, Any]) -> SafeString:
        raise NotImplementedError


class QuickSelect(_RenderedInPython, forms.Select):
    """A <select>, as django/forms/widgets/select.html."""

    def html(self, widget: dict[str, Any]) -> SafeString:
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


class QuickSelectMultiple(QuickSelect, forms.SelectMultiple):
    """A <select multiple>: the picker for a long list (people or teams across the company),
    a few rows high; keyboard, phone and no-script browsers all have a way to choose several."""

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__({"size": 8, **(attrs or {})}, choices)


class _Inputs(_RenderedInPython):
    """Checkboxes or radio buttons, as django/forms/widgets/multiple_input.html."""

    def html(self, widget: dict[str, Any]) -> SafeString:
        parts = []
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(format_html("\n  <div><label>{}</label>", group))
            parts.extend(format_html("<div>\n    {}</div>", _input(option)) for option in options)
            if group:
                parts.append(mark_safe("\n  </div>"))
        attrs = widget["attrs"]
        own = {"id": attrs.get("id"), "class": attrs.get("class")}
        return format_html(
            "<div{}>{}\n</div>",
            attributes({k: v for k, v in own.items() if v}),
            mark_safe("".join(parts)),  # each part is escaped above
        )


class QuickCheckboxes(_Inputs, forms.CheckboxSelectMultiple):
    pass


class QuickRadios(_Inputs, forms.RadioSelect):
    pass


# A picker with more options than fit on a screen becomes a search box: scrolling through
# hundreds of names is slower than typing a few letters of one, and sending them all made
# an organisation-wide page grow with the organisation.
LONGEST_PICKER = 50


class _QuickInput(forms.widgets.Input):
    """A text box written in Python, as Django's input.html writes it: a page may hold a few
    dozen text boxes (a review has a form per evidence item), and a template render each
    was a large share of such a page."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            shown,
            attributes(widget["attrs"]),
        )


class QuickText(_QuickInput, forms.TextInput):
    pass


class QuickURL(_QuickInput, forms.URLInput):
    pass


class QuickDate(_QuickInput, forms.DateInput):
    input_type = "date"


class QuickTextarea(forms.Textarea):
    """A <textarea> written in Python, as Django's textarea.html writes it."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            widget["name"],
            attributes(widget["attrs"]),
            widget["value"] or "",
        )


class SearchInput(_QuickInput, forms.TextInput):
    input_type = "search"


class ChosenCheckbox(QuickRadios):
    """The one value already chosen from a list too long to offer (a search box stands in
    for the list), as a ticked checkbox labelled with its name: untick it to drop it. Its
    choices are that value alone, so nothing is rendered when nothing valid is chosen."""

    input_type = "checkbox"


class ListedNamesInput(_QuickInput, forms.TextInput):
    """Names typed into a box (usernames, team names), together with any ticked among a
    search's suggestions: every value posted under the field's name, read as one list."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist"):
            return ", ".join(value for value in data.getlist(name) if value.strip())
        return data.get(name)
