"""HTML forms for the calibration pages. They only shape input; every rule (rationale length,
evidence or counterexample, scale, session state, versions) stays in the services, whose errors
`reviews.forms.add_service_errors` puts beside the field they name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms

from calibration.models import Adjustment
from core.forms import scale_choices
from reviews.models import Evidence
from rubrics.models import Dimension, RatingScale


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
