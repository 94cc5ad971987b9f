"""HTML forms for the calibration pages. They only shape input; every rule (rationale length,
evidence or counterexample, scale, session state, versions) stays in the services, whose errors
`reviews.forms.add_service_errors` puts beside the field they name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms

from calibration.models import Adjustment, Appeal
from core import limits
from core.forms import scale_choices
from core.roles import Role, people_with_roles
from core.widgets import HOW_TO_CHOOSE_SEVERAL, QuickCheckboxes, QuickSelect, QuickSelectMultiple
from people.models import Team
from reviews.models import Evidence, ReviewCycle
from rubrics.models import Dimension, Level, RatingScale


class AdjustmentForm(forms.Form):
    """One change to one review's rating on the board. Each board row has its own form, told
    apart by the prefix; the review's id travels un-prefixed, so the view knows which form
    to build before it binds it."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    dimension = forms.ChoiceField(label="Rating to change")
    rating = forms.TypedChoiceField(label="New rating", coerce=int)
    rationale = forms.CharField(
        label="Rationale",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why the rating changes"}),
    )
    evidence = forms.TypedMultipleChoiceField(
        label="Evidence", coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    counterexample = forms.CharField(
        label="Counterexample (when no evidence item applies)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 1}),
    )

    def __init__(
        self,
        *args: Any,
        review_id: int,
        dimensions: Sequence[Dimension],
        scale: RatingScale,
        evidence: Iterable[Evidence],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", f"adjust-{review_id}")
        super().__init__(*args, **kwargs)
        self.review_id = review_id
        names = {d.key: d.name for d in dimensions}
        self.fields["dimension"].choices = [  # type: ignore[attr-defined]
            ("", "Choose…"),
            *names.items(),
            (Adjustment.OVERALL, "Overall rating"),
        ]
        self.fields["rating"].choices = scale_choices(scale.points())  # type: ignore[attr-defined]
        self.fields["evidence"].choices = [  # type: ignore[attr-defined]
            (item.pk, f"{item.title} ({_supports(item, names)})") for item in evidence
        ]


def _supports(item: Evidence, names: dict[str, str]) -> str:
    return ", ".join(names.get(key, key) for key in item.dimensions) or "untagged"


class PreReadForm(forms.Form):
    review = forms.TypedChoiceField(label="Review", coerce=int)
    text = forms.CharField(
        label="Pre-read",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What should the room know?"}),
    )

    def __init__(self, *args: Any, reviews: Iterable[tuple[int, str]], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "preread")
        super().__init__(*args, **kwargs)
        self.fields["review"].choices = [  # type: ignore[attr-defined]
            ("", "Choose…"),
            *((str(pk), name) for pk, name in reviews),
        ]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class SessionForm(forms.Form):
    """Schedule a session: the cycle, who runs it and takes part, and its scope (by team, level
    or manager; nothing chosen covers the whole cycle). Seat rules stay in the service."""

    # The people and team lists hold the whole organisation (thousands of names at ten
    # thousand engineers): each is a select box several rows high, rendered in Python.
    cycle = forms.ModelChoiceField(
        queryset=ReviewCycle.objects.none(), empty_label=None, widget=QuickSelect
    )
    name = forms.CharField(max_length=120, help_text="For example: 2026 H2 — Payments.")
    facilitator = PersonChoiceField(
        queryset=people_with_roles(Role.FACILITATOR, Role.HR),
        empty_label="Choose…",
        widget=QuickSelect,
    )
    managers = PeopleChoiceField(
        queryset=people_with_roles(Role.MANAGER),
        required=False,
        widget=QuickSelectMultiple,
        label="Managers taking part",
        help_text=HOW_TO_CHOOSE_SEVERAL,
    )
    observers = PeopleChoiceField(
        queryset=people_with_roles(Role.HR, Role.MANAGER),
        required=False,
        widget=QuickSelectMultiple,
        label="Observers (read along)",
        help_text=HOW_TO_CHOOSE_SEVERAL,
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=QuickSelectMultiple,
        label="Scope: teams",
        help_text=HOW_TO_CHOOSE_SEVERAL,
    )
    levels = forms.MultipleChoiceField(
        required=False, widget=QuickCheckboxes, label="Scope: levels"
    )
    scope_managers = PeopleChoiceField(
        queryset=people_with_roles(Role.MANAGER),
        required=False,
        widget=QuickSelectMultiple,
        label="Scope: reports of these managers",
        help_text=HOW_TO_CHOOSE_SEVERAL,
    )

    def __init__(self, *args: Any, cycles: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = cycles  # type: ignore[attr-defined]
        codes = Level.objects.filter(version__cycles__in=cycles).values_list("code", flat=True)
        self.fields["levels"].choices = [  # type: ignore[attr-defined]
            (code, code) for code in sorted(set(codes))
        ]


class AppealResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(value, Appeal.Status(value).label) for value in Appeal.OUTCOMES],
        widget=forms.RadioSelect,
    )
    new_rating = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="New rating (when it changes)",
    )
    resolution = forms.CharField(
        label="Resolution, for the engineer",
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the rating stays or changes, in at least a sentence.",
    )

    def __init__(self, *args: Any, scale: RatingScale, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_rating"].choices = scale_choices(  # type: ignore[attr-defined]
            scale.points()
        )
