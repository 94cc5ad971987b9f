"""Promotion pages: build a case from existing evidence, submit, decide, export the packet
with visible progress. Thin: forms shape input, the services in promotions.services act."""

from __future__ import annotations

import functools
import re
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core import limits, workflow
from core.actors import acting_user
from core.errors import DomainError
from core.filters import PersonSearchFilter, ThoroughOrderingFilter
from core.forms import add_service_errors, posted, scale_choices, sort_links
from core.paging import LookaheadPaginator
from core.widgets import ListedNamesInput
from people.models import Engineer
from promotions import selectors
from promotions import services as promotions
from promotions.models import PromotionCase
from reviews.models import ReviewCycle
from rubrics.models import Level


def _target_levels() -> list[tuple[str, str]]:
    levels = (
        Level.objects.filter(version__cycles__isnull=False)
        .order_by("order")
        .values_list("code", "name")
    )
    return [("", "Choose…"), *dict.fromkeys((code, f"{code} · {name}") for code, name in levels)]


class NominateForm(forms.Form):
    engineer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=Engineer.objects.none(), label="Engineer"
    )
    cycle = forms.ModelChoiceField(queryset=ReviewCycle.objects.all(), label="Cycle")
    target_level = forms.ChoiceField(
        label="Target level",
        help_text="A level above the engineer's, from the cycle's rubric.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engineer = self.fields["engineer"]
        engineer.queryset = selectors.nominees_for(user)  # type: ignore[attr-defined]
        # Read once: whether the page offers the form at all, and its options.
        self.nominees = list(engineer.queryset)  # type: ignore[attr-defined]
        engineer.choices = [("", engineer.empty_label), *((e.pk, str(e)) for e in self.nominees)]  # type: ignore[attr-defined]
        # Read when the form is shown or posted (most visitors nominate nobody), and only once.
        self.fields["target_level"].choices = functools.cache(_target_levels)  # type: ignore[attr-defined]


class CaseFilter(django_filters.FilterSet):
    q = PersonSearchFilter(user_path="engineer__user", label="Engineer")
    status = django_filters.ChoiceFilter(
        choices=PromotionCase.Status.choices, empty_label="Any status"
    )
    cycle = django_filters.ModelChoiceFilter(
        queryset=ReviewCycle.objects.none(), empty_label="Every cycle"
    )
    o = ThoroughOrderingFilter(
        fields=(("engineer__user__last_name", "name"), ("status", "status"), ("cycle", "cycle")),
    )

    class Meta:
        model = PromotionCase
        fields = ["q", "status", "cycle"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["cycle"].queryset = selectors.case_cycles_for_user(user)  # type: ignore[attr-defined]


PER_PAGE = 25
USERNAME_SEPARATORS = re.compile(r"[\s,;]+")


class CaseForm(forms.Form):
    summary = forms.CharField(
        label="Summary for the committee",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=limits.LONG_TEXT,
        help_text="Why now, in a paragraph. Markdown: **bold**, lists, links.",
    )


class SubmitForm(forms.Form):
    """The committee, named by usernames: typed (this works without JavaScript) or ticked
    among the search's suggestions. Each is checked against who may sit on the case's
    committee, and anyone who may not is named beside the field."""

    committee = forms.CharField(
        label="Committee members",
        required=False,
        max_length=limits.TEXT,
        widget=ListedNamesInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "Usernames, separated by commas: HR, appointed committee members, or managers "
            "above the engineer's level. Or find people by name below and tick them."
        ),
    )

    def __init__(self, *args: Any, case: PromotionCase, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case

    def clean_committee(self) -> list[Any]:
        names = list(
            dict.fromkeys(n for n in USERNAME_SEPARATORS.split(self.cleaned_data["committee"]) if n)
        )
        members, refused = selectors.committee_members(self.case, names)
        if refused:
            raise forms.ValidationError(
                f"{', '.join(refused)} may not sit on this committee: it is made of HR, "
                "appointed committee members and managers above "
                f"{self.case.current_level}, never the engineer or the nominating manager."
            )
        return members


class CommitteeSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=limits.SHORT_TEXT)


def _committee_found(request: HttpRequest, case: PromotionCase) -> dict[str, Any]:
    """The committee search's suggestions: the people already ticked (still eligible) first,
    then up to ten more whom the search names. Reads nothing when nothing is asked."""
    search = CommitteeSearchForm(request.GET)
    text = search.cleaned_data["q"] if search.is_valid() else ""
    ticked, _ = selectors.committee_members(case, request.GET.getlist("committee"))
    kept = {person.pk for person in ticked}
    found = [p for p in selectors.committee_suggestions(case, text) if p.pk not in kept]
    return {
        "people": [*ticked, *found],
        "ticked": {person.pk for person in ticked},
        "searched": text.strip(),
    }


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=PromotionCase.Outcome.choices, widget=forms.RadioSelect)
    feedback = forms.CharField(
        label="Feedback to the engineer",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=limits.TEXT,
        required=False,
    )


class AxisForm(forms.Form):
    """One readiness axis, rated on the cycle's rubric scale (anchors shown)."""

    rating = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    narrative = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=limits.LONG_TEXT,
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


def _axis_forms(case: PromotionCase, data: Any = None) -> dict[str, AxisForm]:
    choices = _evidence_choices(case)
    scale = case.cycle.rubric_version.scale.points()
    return {
        axis.axis: AxisForm(
            data,
            prefix=axis.axis,
            choices=choices,
            scale=scale,
            initial={
                "rating": axis.rating,
                "narrative": axis.narrative,
                "evidence": [str(e.pk) for e in axis.evidence.all()],
            },
        )
        for axis in case.axes.all()
    }


def _case_page(
    request: HttpRequest,
    case: PromotionCase,
    status: int = 200,
    *,
    case_form: CaseForm | None = None,
    axis_forms: dict[str, AxisForm] | None = None,
    submit_form: SubmitForm | None = None,
    decide_form: DecideForm | None = None,
) -> HttpResponse:
    actions = workflow.allowed_actions(case, request.user)
    # The axes' forms (and the evidence they offer) only for whoever may edit the case.
    if axis_forms is None:
        axis_forms = _axis_forms(case) if "edit" in actions else {}
    can_submit = "submit" in actions
    can_export = "export" in actions
    anchors = dict(case.cycle.rubric_version.scale.points())
    return render(
        request,
        "promotions/case.html",
        {
            "case": case,
            "axes": [
                (axis, axis_forms.get(axis.axis), anchors.get(axis.rating or 0, ""))
                for axis in case.axes.all()
            ],
            "case_form": case_form or CaseForm(initial={"summary": case.summary}),
            "problems": promotions.submission_problems(case),
            "is_nominator": case.is_nominator(request.user),
            "actions": actions,
            "can_decide": "decide" in actions,
            "can_export": can_export,
            "packet": case.packets.order_by("-created_at").first() if can_export else None,
            # The committee picker only for whoever may submit the case now: nobody else
            # pays for reading who may sit on its committee.
            "submit_form": (submit_form or SubmitForm(case=case)) if can_submit else None,
            "found": _committee_found(request, case) if can_submit else None,
            "decide_form": decide_form or DecideForm(),
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
    found = CaseFilter(
        request.GET or None, queryset=selectors.case_rows_for_user(request.user), user=request.user
    )
    number = request.GET.get("page")
    page = LookaheadPaginator(found.qs, PER_PAGE, number).get_page(number)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "promotions/list.html",
        {
            "page": page,
            "filter": found,
            "query": query.urlencode(),
            "sorts": sort_links(request, "o", ["name", "status", "cycle"]),
            "form": form,
            "can_nominate": bool(form.nominees),
        },
        status=400 if form.errors else 200,
    )


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the case. POST: save the whole draft (summary and every axis) at once, so no
    unsaved text of one part is lost by saving another."""
    case = selectors.get_case_for_user(request.user, pk)
    if request.method != "POST":
        return _case_page(request, case)
    case_form = CaseForm(request.POST)
    axis_forms = _axis_forms(case, request.POST)
    valid = case_form.is_valid() & all([f.is_valid() for f in axis_forms.values()])
    if valid:
        try:
            promotions.case_save(
                actor=acting_user(request),
                case=case,
                summary=case_form.cleaned_data["summary"],
                axes={
                    axis: {
                        "rating": form.cleaned_data["rating"],
                        "narrative": form.cleaned_data["narrative"],
                        "evidence_ids": [int(i) for i in form.cleaned_data["evidence"]],
                    }
                    for axis, form in axis_forms.items()
                },
            )
        except DomainError as exc:
            _place_errors(exc, case_form, axis_forms)
        else:
            messages.success(request, "Case saved.")
            return redirect("promotions:case", pk=case.pk)
    case = selectors.get_case_for_user(request.user, pk)
    return _case_page(request, case, 400, case_form=case_form, axis_forms=axis_forms)


def _place_errors(exc: DomainError, case_form: CaseForm, axis_forms: dict[str, AxisForm]) -> None:
    """Each problem beside its field: "scope.rating" on the scope axis's rating."""
    placed = False
    for path, messages_ in exc.errors.items():
        axis, _, field = path.partition(".")
        form: forms.Form | None = axis_forms.get(axis)
        if form is None and path in case_form.fields:
            form, field = case_form, path
        if form is not None and field in form.fields:
            for message in messages_:
                form.add_error(field, message)
            placed = True
    if not placed:
        case_form.add_error(None, exc.message)


def _act(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    case = selectors.get_case_for_user(request.user, pk)
    try:
        action(case)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("promotions:case", pk=pk)


@login_required
@require_POST
def case_submit(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.get_case_for_user(request.user, pk)
    form = SubmitForm(request.POST, case=case)
    if form.is_valid():
        try:
            promotions.case_submit(
                actor=acting_user(request), case=case, committee=form.cleaned_data["committee"]
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Submitted to the committee.")
            return redirect("promotions:case", pk=pk)
    return _case_page(request, case, 400, submit_form=form)


@login_required
@require_POST
def case_decide(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.get_case_for_user(request.user, pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            promotions.case_decide(
                actor=acting_user(request),
                case=case,
                outcome=form.cleaned_data["outcome"],
                feedback=form.cleaned_data["feedback"],
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Decision recorded.")
            return redirect("promotions:case", pk=pk)
    return _case_page(request, case, 400, decide_form=form)


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
@require_GET
def committee_search(request: HttpRequest, pk: int) -> HttpResponse:
    """The committee search's suggestions as you type (htmx fills them in), for whoever may
    submit the case; 404 for anyone else."""
    case = selectors.get_case_for_user(request.user, pk)
    if not workflow.can(case, "submit", request.user):
        raise Http404("No such page.")
    return render(request, "promotions/_committee_found.html", _committee_found(request, case))


@login_required
def job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    job = selectors.get_job_for_user(request.user, job_id)
    return render(request, "promotions/_job.html", {"job": job, "case": job.case})
