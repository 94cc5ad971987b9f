"""The choice widgets rendered in Python write the HTML Django's templates write for the same
bound field: labels, ids, checked and selected state, required and aria attributes, groups and
escaping; and the forms that use them render and read values exactly as Django's would."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.forms.boundfield import BoundField
from django.test.html import parse_html

from calibration.forms import SessionForm
from core.widgets import QuickCheckboxes, QuickRadios, QuickSelect, QuickSelectMultiple
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


def twin(widget: forms.Widget) -> forms.Widget:
    """The Django widget a quick one stands for, with the same attributes and choices."""
    django_class = next(c for c in type(widget).__mro__ if c.__module__.startswith("django.forms"))
    return django_class(attrs=dict(widget.attrs), choices=widget.choices)  # type: ignore[call-arg]


def assert_same_as_django(bound: BoundField) -> str:
    ours = bound.as_widget()
    theirs = bound.as_widget(widget=twin(bound.field.widget))
    assert parse_html(ours) == parse_html(theirs), f"{ours}\n!=\n{theirs}"
    return ours


class Sample(forms.Form):
    several = forms.MultipleChoiceField(
        choices=CHOICES, widget=QuickCheckboxes(attrs={"class": "boxes"}), help_text="Pick."
    )
    one = forms.ChoiceField(choices=CHOICES, widget=QuickRadios)
    pick = forms.ChoiceField(choices=[("", "Choose…"), *CHOICES], widget=QuickSelect)
    picks = forms.MultipleChoiceField(
        choices=CHOICES, widget=QuickSelectMultiple, help_text="Pick several."
    )
    fixed = forms.ChoiceField(choices=CHOICES, widget=QuickSelect, disabled=True, required=False)


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
    quick = (QuickSelect, QuickCheckboxes)
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
    pick = forms.ChoiceField(choices=CHOICES, widget=QuickRadios, help_text="One.")


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
