"""The scorecard's period: first and last day, four weeks up to today unless chosen."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from core import limits
from core.widgets import DatePicker
from metrics.models import HARM_ANSWERS, HARM_QUESTIONS, Cadence, Function, GovernanceReview
from metrics.selectors import TREND_PERIODS, periods_ending

MAX_PERIOD_DAYS = 366
DEFAULT_DAYS = 28


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", required=False, widget=DatePicker)
    end = forms.DateField(label="To", required=False, widget=DatePicker)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        first, last = limits.EARLIEST_DATE.year, limits.LATEST_DATE.year
        for name, day in (("start", start), ("end", end)):
            if not limits.EARLIEST_DATE <= day <= limits.LATEST_DATE:
                self.add_error(name, f"Choose a day between {first} and {last}.")
        if not 1 <= (end - start).days + 1 <= MAX_PERIOD_DAYS:
            self.add_error(
                "start",
                f"Choose a day on or before the last, at most {MAX_PERIOD_DAYS} days before it.",
            )
        data.update(start=start, end=end)
        return data

    def periods(self) -> list[tuple[datetime.date, datetime.date]]:
        """The chosen period and the TREND_PERIODS - 1 of the same length before it, oldest
        first."""
        start, end = self.period()
        return periods_ending(end, (end - start).days + 1, TREND_PERIODS)

    def period(self) -> tuple[datetime.date, datetime.date]:
        """The chosen period; the default one when nothing (or nothing valid) was chosen."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = timezone.localdate()
        return end - datetime.timedelta(days=DEFAULT_DAYS - 1), end


class GovernedMetricForm(forms.Form):
    subject = forms.ChoiceField(label="Metric")
    owner = forms.CharField(label="Owner (username)", max_length=150)
    functions = forms.MultipleChoiceField(
        label="Functions represented", choices=Function.choices, widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(max_length=limits.TEXT, widget=forms.Textarea(attrs={"rows": 2}))
    hypothesis = forms.CharField(
        label="Hypothesis: what it should predict",
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    limitations = forms.CharField(
        max_length=limits.TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    anti_gaming = forms.CharField(
        label="Anti-gaming notes",
        max_length=limits.TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    baseline = forms.DecimalField(max_digits=12, decimal_places=2, required=False)
    target_low = forms.DecimalField(label="Target range: low", max_digits=12, decimal_places=2)
    target_high = forms.DecimalField(label="Target range: high", max_digits=12, decimal_places=2)
    cadence = forms.ChoiceField(label="Review cadence", choices=Cadence.choices)

    def __init__(self, *args: Any, subjects: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = subjects  # type: ignore[attr-defined]

    def clean_owner(self) -> Any:
        username = self.cleaned_data["owner"].strip()
        owner = get_user_model().objects.filter(username=username, is_active=True).first()
        if owner is None:
            raise forms.ValidationError(f"Nobody active is called {username!r}.")
        return owner


class GovernanceReviewForm(forms.Form):
    kind = forms.ChoiceField(choices=GovernanceReview.Kind.choices, widget=forms.RadioSelect)
    findings = forms.CharField(max_length=limits.TEXT, widget=forms.Textarea(attrs={"rows": 3}))
    decision = forms.ChoiceField(
        choices=GovernanceReview.Decision.choices,
        widget=forms.RadioSelect,
        help_text="Change starts a dimension's next rubric draft; retire prunes the metric.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        answers = [("", "—"), *((a, a.capitalize()) for a in HARM_ANSWERS)]
        for key, question in HARM_QUESTIONS:
            self.fields[f"harm_{key}"] = forms.ChoiceField(
                label=question, choices=answers, required=False, help_text="For a harm review."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key, _question in HARM_QUESTIONS:
            answer = data.get(f"harm_{key}")
            if data.get("kind") == GovernanceReview.Kind.HARM and not answer:
                self.add_error(f"harm_{key}", "A harm review answers every question.")
            elif data.get("kind") == GovernanceReview.Kind.METRIC and answer:
                self.add_error(f"harm_{key}", "Only a harm review answers this.")
        return data

    def harm(self) -> dict[str, str]:
        if self.cleaned_data.get("kind") != GovernanceReview.Kind.HARM:
            return {}
        return {key: self.cleaned_data.get(f"harm_{key}", "") for key, _q in HARM_QUESTIONS}
