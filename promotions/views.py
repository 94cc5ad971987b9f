"""Promotion pages: build a case from existing evidence, submit, decide, export the packet
with visible progress. Thin: forms shape input, the services in promotions.services act."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core import workflow
from core.actors import acting_user
from core.errors import DomainError
from core.forms import add_service_errors, posted, scale_choices
from people.models import Engineer
from people.selectors import engineers_for_user
from promotions import selectors
from promotions import services as promotions
from promotions.models import PromotionCase, ReadinessAxis
from reviews.models import ReviewCycle


class NominateForm(forms.Form):
    engineer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=Engineer.objects.none(), label="Engineer"
    )
    cycle = forms.ModelChoiceField(queryset=ReviewCycle.objects.all(), label="Cycle")
    target_level = forms.CharField(max_length=20, label="Target level")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = engineers_for_user(user).reporting_to(user)  # type: ignore[attr-defined]


class AxisForm(forms.Form):
    """One readiness axis, rated on the cycle's rubric scale (anchors shown)."""

    rating = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    narrative = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="Markdown: **bold**, lists, links.",
    )
    evidence = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(
        self,
        *args: Any,
        choices: list[tuple[str, str]],
        scale: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evidence"].choices = choices  # type: ignore[attr-defined]
        self.fields["rating"].choices = scale_choices(scale)  # type: ignore[attr-defined]


def _evidence_choices(case: PromotionCase) -> list[tuple[str, str]]:
    return [
        (str(e.pk), f"{e.title} · {e.get_kind_display()} · {e.review.cycle.name}")
        for e in selectors.candidate_evidence(case)
    ]


def _case_page(
    request: HttpRequest, case: PromotionCase, status: int = 200, **forms_: Any
) -> HttpResponse:
    choices = _evidence_choices(case)
    axes = []
    for axis in case.axes.all():
        form = forms_.get(f"axis_{axis.axis}") or AxisForm(
            prefix=axis.axis,
            choices=choices,
            scale=case.cycle.rubric_version.scale.points(),
            initial={
                "rating": axis.rating,
                "narrative": axis.narrative,
                "evidence": [str(e.pk) for e in axis.evidence.all()],
            },
        )
        axes.append((axis, form))
    committee_choices = selectors.committee_candidates(case)
    actions = workflow.allowed_actions(case, request.user)
    return render(
        request,
        "promotions/case.html",
        {
            "case": case,
            "axes": axes,
            "problems": promotions.submission_problems(case),
            "is_nominator": case.is_nominator(request.user),
            "actions": actions,
            "can_decide": "decide" in actions,
            "can_export": "export" in actions,
            "packet": case.packets.order_by("-created_at").first(),
            "committee_choices": committee_choices,
            "error": forms_.get("error"),
        },
        status=status,
    )


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    form = NominateForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            case = promotions.case_nominate(
                actor=acting_user(request),
                engineer=form.cleaned_data["engineer"],
                cycle=form.cleaned_data["cycle"],
                target_level=form.cleaned_data["target_level"],
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Case opened for {case.engineer}.")
            return redirect("promotions:case", pk=case.pk)
    return render(
        request,
        "promotions/list.html",
        {
            "cases": selectors.cases_for_user(request.user),
            "form": form,
            "can_nominate": form.fields["engineer"].queryset.exists(),  # type: ignore[attr-defined]
        },
        status=400 if form.errors else 200,
    )


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.get_case_for_user(request.user, pk)
    if request.method == "POST":
        axis = request.POST.get("axis", "")
        if axis not in ReadinessAxis.Axis.values:
            raise Http404("No such axis.")
        form = AxisForm(
            request.POST,
            prefix=axis,
            choices=_evidence_choices(case),
            scale=case.cycle.rubric_version.scale.points(),
        )
        if form.is_valid():
            try:
                promotions.case_update(
                    actor=acting_user(request),
                    case=case,
                    axis=axis,
                    rating=form.cleaned_data["rating"],
                    narrative=form.cleaned_data["narrative"],
                    evidence_ids=[int(i) for i in form.cleaned_data["evidence"]],
                )
            except DomainError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{ReadinessAxis.Axis(axis).label} saved.")
                return redirect("promotions:case", pk=case.pk)
        return _case_page(request, case, status=400, **{f"axis_{axis}": form})
    return _case_page(request, case)


def _act(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    case = selectors.get_case_for_user(request.user, pk)
    try:
        action(case)
    except DomainError as exc:
        case = selectors.get_case_for_user(request.user, pk)
        return _case_page(request, case, status=exc.status_code, error=exc.message)
    messages.success(request, done)
    return redirect("promotions:case", pk=pk)


@login_required
@require_POST
def case_submit(request: HttpRequest, pk: int) -> HttpResponse:
    committee = get_user_model().objects.filter(pk__in=request.POST.getlist("committee"))
    return _act(
        request,
        pk,
        lambda case: promotions.case_submit(
            actor=acting_user(request), case=case, committee=committee
        ),
        "Submitted to the committee.",
    )


@login_required
@require_POST
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda case: promotions.case_decide(
            actor=acting_user(request),
            case=case,
            outcome=request.POST.get("outcome", ""),
            feedback=request.POST.get("feedback", ""),
        ),
        "Decision recorded.",
    )


@login_required
@require_POST
def case_share(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda case: promotions.case_share(actor=acting_user(request), case=case),
        "Shared with the engineer.",
    )


@login_required
@require_POST
def packet_export(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.get_case_for_user(request.user, pk)
    try:
        job = promotions.export_request(actor=acting_user(request), case=case)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status_code)
    job.refresh_from_db()
    return render(request, "promotions/_job.html", {"job": job, "case": case})


@login_required
def job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    job = selectors.get_job_for_user(request.user, job_id)
    return render(request, "promotions/_job.html", {"job": job, "case": job.case})
