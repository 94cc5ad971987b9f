"""The scorecard's period: first and last day, four weeks up to today unless chosen."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from core import limits
from core.widgets import DatePicker

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

    def period(self) -> tuple[datetime.date, datetime.date]:
        """The chosen period; the default one when nothing (or nothing valid) was chosen."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = timezone.localdate()
        return end - datetime.timedelta(days=DEFAULT_DAYS - 1), end
