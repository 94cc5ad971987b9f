"""The widgets written in Python (core.widgets.PythonRenderer) write the HTML Django's templates
write for the same bound field: labels, ids, checked and selected state, required and aria
attributes, groups and escaping; and the forms that use them render and read values exactly as
Django's would."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test.html import parse_html

from calibration.forms import SessionForm
from core.widgets import (
    DatePicker,
    ListedNamesInput,
    PythonRenderer,
    SearchInput,
    TallSelectMultiple,
)
from reviews.filters import ReviewPageFilter
from reviews.forms import CycleForm
from reviews.models import ReviewCycle
from tests.factories import TeamFactory, UserFactory

CHOICES = [
    ("1", "Tom & Jerry"),
    ("2", 'The "quoted" one'),
    ("3", "<b>not bold</b>"),
    ("Group <g>", [("4", "In a group"), ("5", "Also grouped")]),
]


def assert_same_as_django(bound: BoundField) -> str:
    assert isinstance(bound.form.renderer or get_default_renderer(), PythonRenderer)
    ours = bound.as_widget()
    bound.form.renderer = DjangoTemplates()
    theirs = bound.as_widget()
    bound.form.renderer = None
    assert parse_html(ours) == parse_html(theirs), f"{ours}\n!=\n{theirs}"
    return ours


class Sample(forms.Form):
    several = forms.MultipleChoiceField(
        choices=CHOICES,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "boxes"}),
        help_text="Pick.",
    )
    one = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect)
    pick = forms.ChoiceField(choices=[("", "Choose…"), *CHOICES], widget=forms.Select)
    picks = forms.MultipleChoiceField(
        choices=CHOICES, widget=TallSelectMultiple, help_text="Pick several."
    )
    fixed = forms.ChoiceField(choices=CHOICES, widget=forms.Select, disabled=True, required=False)


@pytest.mark.parametrize(
    "data",
    [
        None,  # unbound: nothing chosen
        {"several": ["1", "4"], "one": "2", "pick": "5", "picks": ["3", "5"]},
        {"several": ["9"], "one": "9", "pick": "", "picks": []},  # errors everywhere
    ],
    ids=["unbound", "chosen", "errors"],
)
def test_each_widget_writes_what_django_writes(data: dict[str, Any] | None) -> None:
    form = Sample(data)
    form.is_valid()
    for name in form.fields:
        assert_same_as_django(form[name])


def test_the_state_is_in_the_html() -> None:
    form = Sample({"several": ["1", "4"], "one": "2", "pick": "5", "picks": ["3"]})
    several = assert_same_as_django(form["several"])
    assert '<div id="id_several" class="boxes">' in several
    assert (
        '<label for="id_several_0"><input type="checkbox" name="several" value="1" '
        'class="boxes" id="id_several_0" checked> Tom &amp; Jerry</label>'
    ) in several
    assert "<div><label>Group &lt;g&gt;</label><div>" in several
    assert 'id="id_several_3_0" checked> In a group' in several
    assert 'value="2" required id="id_one_1" checked> The &quot;quoted&quot; one' in str(
        form["one"]
    )
    assert '<option value="5" selected>Also grouped</option>' in str(form["pick"])
    picks = str(form["picks"])
    assert picks.startswith(
        '<select name="picks" size="8" required aria-describedby="id_picks_helptext" '
        'id="id_picks" multiple>'
    )
    assert '<option value="3" selected>&lt;b&gt;not bold&lt;/b&gt;</option>' in picks


def test_errors_mark_every_control_invalid() -> None:
    form = Sample({"several": ["9"], "one": "9", "pick": "", "picks": ["9"]})
    assert not form.is_valid()
    assert str(form["several"]).count('aria-invalid="true"') == 5  # each checkbox
    assert 'aria-invalid="true"' in str(form["picks"])
    assert 'aria-invalid="true"' not in str(form["fixed"])
    assert " disabled" in str(form["fixed"])


def test_the_values_read_back_as_django_reads_them() -> None:
    form = Sample({"several": ["1", "4"], "one": "2", "pick": "5", "picks": ["3", "5"]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["several"] == ["1", "4"]
    assert form.cleaned_data["picks"] == ["3", "5"]
    assert not Sample({"one": "2", "pick": "5"}).is_valid()  # nothing posted: required


@pytest.mark.django_db
def test_the_organisation_wide_forms_write_what_django_writes(published: Any) -> None:
    TeamFactory(name="Payments & Co")
    search = TeamFactory(name="Search")
    manager = UserFactory(username="mo", first_name="Mo", last_name="Ali", roles=["manager"])
    UserFactory(username="hana", roles=["hr", "facilitator"])
    cycles = ReviewCycle.objects.all()
    session = SessionForm(
        {"name": "", "managers": [manager.pk], "teams": [search.pk, 999], "levels": ["X"]},
        cycles=cycles,
    )
    assert not session.is_valid()
    cycle = CycleForm({"name": "2027 H1", "teams": [search.pk]})
    cycle.is_valid()
    quick = (forms.Select, forms.CheckboxSelectMultiple)
    for form in (session, cycle, SessionForm(cycles=cycles), CycleForm()):
        fields = [b for b in form if isinstance(b.field.widget, quick)]
        assert len(fields) >= 2
        for bound in fields:
            assert_same_as_django(bound)
    assert f'<option value="{search.pk}" selected>Search</option>' in str(cycle["teams"])
    assert f'<option value="{manager.pk}" selected>Mo Ali</option>' in str(session["managers"])
    assert 'aria-invalid="true"' in str(session["teams"])


@pytest.mark.django_db
def test_the_review_pickers_write_what_django_writes(hr: Any) -> None:
    TeamFactory(name="Payments")
    filters = ReviewPageFilter({"state": "calibrated"}, queryset=None, user=hr)
    for name in ("cycle", "team", "manager", "state"):
        assert_same_as_django(filters.form[name])
    assert '<option value="calibrated" selected>' in str(filters.form["state"])


# How a field was laid out by `{% include %}` before `as_field` wrote it in Python.
FIELD_TEMPLATE = (
    """<p class="field{% if field.errors %} has-error{% endif %}">
  <label for="{{ field.id_for_label }}">{{ field.label }}</label>
  {{ field }}
  {% if field.help_text %}<span class="muted" id="{{ field.auto_id }}_helptext">"""
    """{{ field.help_text }}</span>{% endif %}
  {% for error in field.errors %}<span class="error" role="alert">{{ error }}</span>{% endfor %}
</p>"""
)


class Labelled(forms.Form):
    name = forms.CharField(label="Name <& co>", help_text='Say "who" & <why>', max_length=3)
    plain = forms.CharField(required=False)
    pick = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect, help_text="One.")


@pytest.mark.parametrize("data", [None, {"name": "far too long", "pick": "9"}])
def test_as_field_writes_what_the_field_template_wrote(data: dict[str, str] | None) -> None:
    from django.template import Context, Template

    from core.templatetags.fields import as_field

    form = Labelled(data)
    for bound in form:
        expected = Template(FIELD_TEMPLATE).render(Context({"field": bound}))
        assert as_field(bound) == expected
    if data:  # the failed form's fields say so, beside the field
        assert [b.name for b in form if "has-error" in as_field(b)] == ["name", "pick"]


ODD_TEXT = 'He said "<b>5 & 6</b>"'


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        (forms.TextInput(attrs={"maxlength": 200}), ODD_TEXT),
        (forms.TextInput(), None),
        (forms.TextInput(), ""),
        (forms.URLInput(attrs={"placeholder": "https://x/?a=1&b=2"}), "https://e/"),
        (DatePicker(attrs={"type": "date"}), datetime.date(2026, 3, 9)),
        (DatePicker(), datetime.date(2026, 12, 1)),
        (SearchInput(attrs={"placeholder": "a & b"}), "x & y"),
        (ListedNamesInput(attrs={"autocomplete": "off"}), "ada, bo"),
        (forms.EmailInput(), "a&b@example.com"),
        (forms.NumberInput(attrs={"min": 1, "max": 5}), 3),
        (forms.HiddenInput(), '"7"'),
        (forms.PasswordInput(render_value=True), "s3<cr>et"),
        (forms.CheckboxInput(), True),
        (forms.CheckboxInput(), False),
        (forms.Textarea(attrs={"rows": 2}), ODD_TEXT),
        (forms.Textarea(), None),
        (forms.Select(choices=CHOICES), "4"),
        (forms.SelectMultiple(choices=CHOICES), ["1", "5"]),
        (forms.RadioSelect(choices=CHOICES), "2"),
        (forms.CheckboxSelectMultiple(choices=CHOICES, attrs={"class": "c"}), ["3", "4"]),
    ],
)
def test_every_standard_widget_writes_what_djangos_templates_write(
    widget: forms.Widget, value: Any
) -> None:
    attrs = {"id": "id_f", "required": True, "disabled": False, "aria-describedby": "h"}
    ours = widget.render("f", value, attrs, renderer=PythonRenderer())
    theirs = widget.render("f", value, attrs, renderer=DjangoTemplates())
    assert parse_html(ours) == parse_html(theirs), f"{ours}\n!=\n{theirs}"
    if not isinstance(widget, forms.widgets.ChoiceWidget):  # options differ in blank lines only
        assert ours == theirs
    assert ours.startswith(("<input", "<textarea", "<select", '<div id="id_f"'))


class OwnOptions(forms.RadioSelect):
    option_template_name = "django/forms/widgets/select_option.html"


def test_a_widget_with_templates_of_its_own_is_left_to_them() -> None:
    widget = OwnOptions(choices=CHOICES[:2])
    ours = widget.render("f", "1", renderer=PythonRenderer())
    assert ours == widget.render("f", "1", renderer=DjangoTemplates())
    assert "<option" in ours  # its own option template, not a radio button
    clearable = forms.ClearableFileInput().render("f", None, renderer=PythonRenderer())
    assert clearable == forms.ClearableFileInput().render("f", None, renderer=DjangoTemplates())
