"""HTML forms for the calibration pages. They only shape input; every rule (rationale length,
evidence or counterexample, scale, session state, versions) stays in the services, whose errors
`reviews.forms.add_service_errors` puts beside the field they name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.cache import cache
from django.db.models import QuerySet

from calibration.models import PULSE_QUESTIONS, Adjustment, Appeal
from core import limits, readcache
from core.forms import scale_choices
from core.roles import Role, people_with_roles
from core.widgets import HOW_TO_CHOOSE_SEVERAL, LONGEST_PICKER, TallSelectMultiple
from people.forms import TeamNamesField, UsernamesField
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


def _too_many(choices: QuerySet[Any]) -> bool:
    return len(choices.order_by().values_list("pk", flat=True)[: LONGEST_PICKER + 1]) > (
        LONGEST_PICKER
    )


def _measure_lists() -> dict[str, bool]:
    managers = _too_many(people_with_roles(Role.MANAGER))
    return {
        "managers": managers,
        # Observers are HR and managers: at least as many as the managers.
        "observers": managers or _too_many(people_with_roles(Role.HR, Role.MANAGER)),
        "facilitators": _too_many(people_with_roles(Role.FACILITATOR, Role.HR)),
        "teams": _too_many(Team.objects.all()),
    }


LONG_LISTS_SECONDS = 300


def long_lists() -> dict[str, bool]:
    """Which of the session form's lists of people and teams are too long to offer whole,
    measured once per generation of the organisation (core.readcache: any write to teams,
    people or roles moves it) and kept in the cache meanwhile."""
    key = f"session-form-long-lists:{LONGEST_PICKER}:{readcache.generation()}"
    found = cache.get_or_set(key, _measure_lists, LONG_LISTS_SECONDS)
    return found if found is not None else _measure_lists()


USERNAMES_HELP = "Usernames, separated by commas. Or find people by name below and tick them."


class SessionForm(forms.Form):
    """Schedule a session: the cycle, who runs it and takes part, and its scope (by team, level
    or manager; nothing chosen covers the whole cycle). Seat rules stay in the service."""

    # Each people or team list is a select box several rows high, rendered in Python, while
    # it fits on a screen; past that (an organisation's hundreds of managers and teams) a box
    # of usernames or team names with a search beside it (_searches_for_long_lists).
    cycle = forms.ModelChoiceField(queryset=ReviewCycle.objects.none(), empty_label=None)
    name = forms.CharField(max_length=120, help_text="For example: 2026 H2 — Payments.")
    facilitator = PersonChoiceField(
        queryset=people_with_roles(Role.FACILITATOR, Role.HR),
        empty_label="Choose…",
    )
    managers = PeopleChoiceField(
        queryset=people_with_roles(Role.MANAGER),
        required=False,
        widget=TallSelectMultiple,
        label="Managers taking part",
        help_text=HOW_TO_CHOOSE_SEVERAL,
    )
    observers = PeopleChoiceField(
        queryset=people_with_roles(Role.HR, Role.MANAGER),
        required=False,
        widget=TallSelectMultiple,
        label="Observers (read along)",
        help_text=HOW_TO_CHOOSE_SEVERAL,
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=TallSelectMultiple,
        label="Scope: teams",
        help_text=HOW_TO_CHOOSE_SEVERAL,
    )
    levels = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Scope: levels"
    )
    scope_managers = PeopleChoiceField(
        queryset=people_with_roles(Role.MANAGER),
        required=False,
        widget=TallSelectMultiple,
        label="Scope: reports of these managers",
        help_text=HOW_TO_CHOOSE_SEVERAL,
    )

    def __init__(self, *args: Any, cycles: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = cycles  # type: ignore[attr-defined]
        self._searches_for_long_lists()
        codes = Level.objects.filter(version__cycles__in=cycles).values_list("code", flat=True)
        self.fields["levels"].choices = [  # type: ignore[attr-defined]
            (code, code) for code in sorted(set(codes))
        ]

    def _searches_for_long_lists(self) -> None:
        """Each list of people or teams longer than a screenful becomes a box of usernames or
        team names with a search beside it; a small organisation keeps its pickers."""
        long = long_lists()
        managers = people_with_roles(Role.MANAGER)
        people: list[tuple[str, QuerySet[Any], list[Role], str, bool]] = [
            (
                "facilitator",
                people_with_roles(Role.FACILITATOR, Role.HR),
                [Role.FACILITATOR, Role.HR],
                "facilitators and HR",
                long["facilitators"],
            ),
            ("managers", managers, [Role.MANAGER], "managers", long["managers"]),
            (
                "observers",
                people_with_roles(Role.HR, Role.MANAGER),
                [Role.HR, Role.MANAGER],
                "HR and managers",
                long["observers"],
            ),
            ("scope_managers", managers, [Role.MANAGER], "managers", long["managers"]),
        ]
        for name, queryset, roles, who, too_long in people:
            if not too_long:
                continue
            one = name == "facilitator"
            old = self.fields[name]
            self.fields[name] = UsernamesField(
                queryset=queryset,
                who=who,
                one=one,
                required=old.required,
                label=old.label,
                help_text="A username. Or find the person by name below."
                if one
                else USERNAMES_HELP,
                search={"url": "person-search", "roles": [r.value for r in roles], "what": who},
            )
        if long["teams"]:
            self.fields["teams"] = TeamNamesField(
                required=False,
                label="Scope: teams",
                help_text=(
                    "Team names, separated by commas. Or find teams by name below and tick them."
                ),
                search={"url": "team-search", "roles": [], "what": "teams"},
            )


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


class PulseForm(forms.Form):
    """The process pulse: three statements, each 1 (disagree) to 5 (agree), any left out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agree = [
            ("", "Prefer not to say"),
            ("1", "1 · disagree"),
            ("2", "2"),
            ("3", "3"),
            ("4", "4"),
            ("5", "5 · agree"),
        ]
        for key, statement in PULSE_QUESTIONS:
            self.fields[key] = forms.TypedChoiceField(
                label=statement,
                choices=agree,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    def answers(self) -> dict[str, int | None]:
        return {key: self.cleaned_data.get(key) for key, _statement in PULSE_QUESTIONS}
