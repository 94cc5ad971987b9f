"""HTML forms for the review pages. Business rules stay in the services; these only shape
input and put each service error beside the field it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from core import limits
from core.forms import scale_choices
from core.widgets import HOW_TO_CHOOSE_SEVERAL, LONGEST_PICKER, DatePicker, TallSelectMultiple
from people.forms import TeamNamesField
from people.models import Engineer, Team
from reviews.evidence import EvidenceKind
from reviews.models import GROWTH_SCALE, Review
from rubrics.models import RubricVersion


class EvidenceForm(forms.Form):
    url = forms.CharField(
        label="Link",
        max_length=4000,
        widget=forms.URLInput(attrs={"placeholder": "https://github.com/org/repo/pull/123"}),
    )
    title = forms.CharField(
        max_length=200,
        required=False,
        help_text="Leave empty to use the link.",
    )
    kind = forms.ChoiceField(
        choices=[("", "Guess from the link"), *EvidenceKind.choices],
        required=False,
    )
    occurred_on = forms.DateField(
        label="Date", required=False, widget=DatePicker(attrs={"type": "date"})
    )
    contribution = forms.CharField(
        label="Your contribution", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    dimensions = forms.MultipleChoiceField(
        label="Supports", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dimensions"].choices = [  # type: ignore[attr-defined]
            (d.key, d.name) for d in review.cycle.rubric_version.dimensions.all()
        ]


class EvidenceEditForm(EvidenceForm):
    """An evidence item's details, tags included; its link stays as it was added."""

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, review=review, **kwargs)
        del self.fields["url"]
        self.fields["kind"].choices = EvidenceKind.choices  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    """A reason in a sentence: why a self-review goes back, why a phase reopens."""

    reason = forms.CharField(
        max_length=limits.TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why, in a sentence."},
    )

    def __init__(self, *args: Any, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label


# Teams for a cycle, named in a box when there are too many to list.
CYCLE_TEAMS_HELP = (
    "Team names (or slugs), one per line or separated by commas. Leave empty to cover the "
    "whole organisation."
)


class CycleForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="For example: 2027 H1.")
    rubric_version = forms.ModelChoiceField(
        queryset=RubricVersion.objects.none(),
        label="Rubric version",
        empty_label=None,
        help_text="Reviews are rated against this published version.",
    )
    # A select box several rows high, rendered in Python; named in a box instead when the
    # organisation has more teams than anyone could pick from a list.
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=TallSelectMultiple,
        help_text=f"Choose none to cover the whole organisation. {HOW_TO_CHOOSE_SEVERAL}",
    )
    self_review_ends = forms.DateField(widget=DatePicker)
    manager_review_ends = forms.DateField(widget=DatePicker)
    calibration_ends = forms.DateField(widget=DatePicker)
    finalisation_ends = forms.DateField(widget=DatePicker)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rubric_version"].queryset = (  # type: ignore[attr-defined]
            RubricVersion.objects.filter(status=RubricVersion.Status.PUBLISHED)
            .select_related("rubric")
            .order_by("rubric__name")
        )
        if Team.objects.count() > LONGEST_PICKER:
            self.fields["teams"] = TeamNamesField(
                required=False,
                label="Teams",
                help_text=CYCLE_TEAMS_HELP,
                widget=forms.Textarea(attrs={"rows": 3}),
            )


class EngineerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} — {obj.team.name}, {obj.level_code}"


class EngineerUsernameField(forms.CharField):
    """A late joiner named by username, for a cycle with too many to list."""

    def __init__(self, candidates: QuerySet[Engineer], **kwargs: Any) -> None:
        super().__init__(
            label="Engineer's username",
            max_length=150,
            help_text=(
                "Someone the cycle covers who has no review in it yet. Find them by name below."
            ),
            error_messages={"required": "Type the username of the engineer to add."},
            **kwargs,
        )
        self.candidates = candidates

    def clean(self, value: Any) -> Engineer:
        username = super().clean(value).strip()
        engineer = self.candidates.filter(user__username__iexact=username).first()
        if engineer is None:
            raise forms.ValidationError(
                f"No one this cycle covers without a review has the username “{username}”."
            )
        return engineer


class LateJoinerForm(forms.Form):
    engineer = EngineerChoiceField(
        queryset=Engineer.objects.none(),
        label="Engineer",
        help_text="People the cycle covers who have no review in it yet.",
    )

    def __init__(
        self, *args: Any, candidates: QuerySet[Engineer], count: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.candidate_count = count
        # Listed when there are few; typed by username when there are more than one reads.
        self.typed = count > LONGEST_PICKER
        if self.typed:
            self.fields["engineer"] = EngineerUsernameField(candidates)
        else:
            self.fields["engineer"].queryset = candidates  # type: ignore[attr-defined]


class PasteForm(forms.Form):
    text = forms.CharField(
        label="Paste links, one per line",
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "placeholder": "https://github.com/org/repo/pull/1\nhttps://wiki/postmortems/...",
            }
        ),
        strip=False,
    )


class RatingsForm(forms.Form):
    """One rating (and justification) per dimension of the review's rubric version."""

    def __init__(self, *args: Any, review: Review, who: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.who = who
        version = review.cycle.rubric_version
        scale = version.scale
        choices = scale_choices(scale.points())
        self.dimension_keys = [d.key for d in version.dimensions.all()]
        for d in version.dimensions.all():
            self.fields[f"{d.key}-rating"] = forms.TypedChoiceField(
                label=d.name,
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
            )
            self.fields[f"{d.key}-justification"] = forms.CharField(
                label="Justification", required=False, widget=forms.Textarea(attrs={"rows": 2})
            )
            if who == "manager":
                self.fields[f"{d.key}-counterexample"] = forms.CharField(
                    label="Counterexample (for a low rating without evidence)",
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 1}),
                )
        if who == "manager":
            self.fields["overall_rating"] = forms.TypedChoiceField(
                label="Overall rating",
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
            )
            growth = scale_choices(
                (p, "") for p in range(GROWTH_SCALE.minimum, GROWTH_SCALE.maximum + 1)
            )
            self.fields["growth_rating"] = forms.TypedChoiceField(
                label="Growth and scope trajectory (1 low – 5 high)",
                choices=growth,
                coerce=int,
                empty_value=None,
                required=False,
            )
            self.fields["manager_confidence"] = forms.TypedChoiceField(
                label="Your confidence in the overall rating (1 not sure – 5 sure)",
                choices=growth,
                coerce=int,
                empty_value=None,
                required=False,
                help_text="Reported only in aggregate, for groups of five or more.",
            )

    def ratings(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for key in self.dimension_keys:
            entry = {
                "rating": self.cleaned_data.get(f"{key}-rating"),
                "justification": self.cleaned_data.get(f"{key}-justification", ""),
            }
            if self.who == "manager":
                entry["counterexample"] = self.cleaned_data.get(f"{key}-counterexample", "")
            out[key] = entry
        return out


class TeamMetricsUploadForm(forms.Form):
    file = forms.FileField(
        label="DORA metrics (CSV)", help_text="One row per team; see the README."
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > limits.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; at most {limits.MAX_UPLOAD_BYTES:,} are "
                "accepted. Import it in parts."
            )
        return upload

    def text(self) -> str:
        data = self.cleaned_data["file"].read(limits.MAX_UPLOAD_BYTES + 1)
        try:
            return str(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError("The file must be UTF-8 text (CSV).") from None
