"""HR's cycle pages: create a cycle for chosen teams, open it, move it through its phases
(seeing first who is not done), reopen a phase with a reason, add a late joiner, finalise
reviews one by one or every ready one at once, and import team DORA metrics. Thin: a form
shapes input, one service acts, errors go back beside their fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core import workflow
from core.actors import acting_user
from core.errors import DomainError
from core.forms import add_service_errors, posted
from reviews import selectors, services
from reviews.forms import CycleForm, LateJoinerForm, ReasonForm, TeamMetricsUploadForm
from reviews.models import Review, ReviewCycle
from reviews.permissions import can_manage_cycles
from reviews.team_metrics import team_metrics_import

REOPEN_LABEL = "Why reopen the previous phase?"


def _require_hr(request: HttpRequest) -> None:
    """The cycles pages are HR's: anyone else gets the same 404 as for a missing page."""
    if not can_manage_cycles(request.user):
        raise Http404("No such page.")


def _hr_cycle(request: HttpRequest, pk: int) -> ReviewCycle:
    _require_hr(request)
    return selectors.get_cycle_for_user(request.user, pk)


@login_required
def cycle_list(request: HttpRequest) -> HttpResponse:
    """Every cycle with its phase and how many teams it covers, and the form for a new one."""
    _require_hr(request)
    form = CycleForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            cycle = services.cycle_create(actor=acting_user(request), **form.cleaned_data)
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{cycle} is planned. Open it when its teams are ready.")
            return redirect("reviews:cycle", pk=cycle.pk)
    cycles = selectors.cycles_for_user(request.user).annotate(team_count=Count("teams"))
    return render(
        request,
        "reviews/cycles.html",
        {"cycles": cycles, "form": form},
        status=400 if form.errors else 200,
    )


# Reviews listed on a cycle's page (not done, ready to finalise) and, before moving on, on the
# advance page; the counts beside them say how many there are in all.
LISTED = 25
LISTED_BEFORE_ADVANCE = 50
LISTED_TEAMS = 20  # teams named on a cycle's page; the count says how many it covers
JOINERS_FOUND = 10  # late joiners a search lists


def _finalisable(
    request: HttpRequest, cycle: ReviewCycle, counts: dict[str, int]
) -> tuple[list[Review], int]:
    """The first ready reviews the user may finalise now, and how many there are. Whether a
    review may be finalised depends on its state, its cycle's phase and who asks, so the
    state machine is asked once per state, not once per review."""
    states = [
        state
        for state in selectors.READY_STATES
        if counts.get(state)
        and workflow.can(Review(cycle=cycle, state=state), "finalize", request.user)
    ]
    if not states:
        return [], 0
    ready = selectors.reviews_ready_to_finalise(cycle).filter(state__in=states)
    listed = selectors.first_of_cycle(
        ready, cycle=cycle, name=f"ready:{','.join(states)}", limit=LISTED
    )
    return listed, selectors.count_in_states(counts, states)


def _not_done(cycle: ReviewCycle, counts: dict[str, int], limit: int) -> dict[str, Any]:
    unfinished = cycle.unfinished_states()
    listed = selectors.first_of_cycle(
        selectors.reviews_not_done(cycle),
        cycle=cycle,
        name=f"not-done:{','.join(unfinished)}",
        limit=limit,
    )
    return {"not_done": listed, "not_done_count": selectors.count_in_states(counts, unfinished)}


def _joiner_form(cycle: ReviewCycle, data: Any = None) -> LateJoinerForm:
    return LateJoinerForm(
        data,
        candidates=selectors.late_joiner_candidates(cycle),
        count=selectors.late_joiner_count(cycle),
    )


def _cycle_page(
    request: HttpRequest,
    cycle: ReviewCycle,
    *,
    reopen_form: ReasonForm | None = None,
    joiner_form: LateJoinerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actions = workflow.allowed_actions(cycle, request.user)
    counts = selectors.cycle_state_counts(cycle)
    ready, ready_count = _finalisable(request, cycle, counts) if "advance" in actions else ([], 0)
    teams = list(cycle.teams.order_by("name")[: LISTED_TEAMS + 1])
    team_count = cycle.teams.count() if len(teams) > LISTED_TEAMS else len(teams)
    if joiner_form is None and "add_engineer" in actions:
        joiner_form = _joiner_form(cycle)
    # Too many late joiners to list: the page finds them by name instead.
    typed = joiner_form is not None and joiner_form.typed
    searched = request.GET.get("joiner", "").strip()[:100] if typed else ""
    return render(
        request,
        "reviews/cycle.html",
        {
            "cycle": cycle,
            "actions": actions,
            "phases": [(value, label) for value, label in ReviewCycle.Phase.choices],
            "progress": selectors.cycle_progress(counts),
            "teams": teams[:LISTED_TEAMS],
            "team_count": team_count,
            "teams_more": team_count - len(teams[:LISTED_TEAMS]),
            **_not_done(cycle, counts, LISTED),
            "ready": ready,
            "ready_count": ready_count,
            "reopen_form": reopen_form or ReasonForm(label=REOPEN_LABEL),
            "joiner_form": joiner_form,
            "joiner_searched": searched,
            "joiner_found": selectors.late_joiner_search(cycle, searched, JOINERS_FOUND)
            if searched
            else [],
            "joiner_limit": JOINERS_FOUND,
        },
        status=status,
    )


@login_required
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    return _cycle_page(request, cycle)


def _acted(
    request: HttpRequest,
    cycle: ReviewCycle,
    act: Callable[[], Any],
    done: Callable[[Any], str],
) -> HttpResponse:
    """Run one service; its refusal goes to the top of the cycle page, in its own words."""
    try:
        result = act()
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done(result))
    return redirect("reviews:cycle", pk=cycle.pk)


@login_required
@require_POST
def cycle_open(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    return _acted(
        request,
        cycle,
        lambda: services.cycle_open(actor=acting_user(request), cycle=cycle),
        lambda opened: f"{opened} is open: its self-review phase has started.",
    )


@login_required
def cycle_advance(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: who is not done for this phase, before moving on. POST: move on."""
    cycle = _hr_cycle(request, pk)
    if request.method != "POST":
        return render(
            request,
            "reviews/cycle_advance.html",
            {
                "cycle": cycle,
                "next": ReviewCycle.Phase(cycle.next_phase).label if cycle.next_phase else "",
                **_not_done(cycle, selectors.cycle_state_counts(cycle), LISTED_BEFORE_ADVANCE),
                "can_advance": workflow.can(cycle, "advance", request.user),
            },
        )
    return _acted(
        request,
        cycle,
        lambda: services.cycle_advance(actor=acting_user(request), cycle=cycle),
        lambda moved: f"{moved} is now in {moved.get_phase_display()}.",
    )


@login_required
@require_POST
def cycle_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    form = ReasonForm(request.POST, label=REOPEN_LABEL)
    if form.is_valid():
        try:
            cycle = services.cycle_reopen(
                actor=acting_user(request), cycle=cycle, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{cycle} is back in {cycle.get_phase_display()}.")
            return redirect("reviews:cycle", pk=cycle.pk)
    return _cycle_page(request, cycle, reopen_form=form, status=400)


@login_required
@require_POST
def cycle_add_engineer(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    form = _joiner_form(cycle, request.POST)
    if form.is_valid():
        try:
            review = services.cycle_add_engineer(
                actor=acting_user(request), cycle=cycle, engineer=form.cleaned_data["engineer"]
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{review.engineer} now has a review in {cycle}.")
            return redirect("reviews:cycle", pk=cycle.pk)
    return _cycle_page(request, cycle, joiner_form=form, status=400)


@login_required
@require_POST
def cycle_finalize_ready(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    return _acted(
        request,
        cycle,
        lambda: services.cycle_finalize_ready(actor=acting_user(request), cycle=cycle),
        lambda done: f"Finalised {len(done)} review(s) of {cycle}.",
    )


@login_required
@require_POST
def review_finalize(request: HttpRequest, pk: int) -> HttpResponse:
    _require_hr(request)
    review: Review = selectors.get_review_for_user(request.user, pk)
    return _acted(
        request,
        review.cycle,
        lambda: services.review_finalize(actor=acting_user(request), review=review),
        lambda done: f"Finalised the review of {done.engineer}.",
    )


@login_required
def team_metrics_upload(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _hr_cycle(request, pk)
    form = TeamMetricsUploadForm(posted(request), request.FILES or None)
    problems: dict[str, list[str]] = {}
    if request.method == "POST" and form.is_valid():
        try:
            rows = team_metrics_import(actor=acting_user(request), cycle=cycle, text=form.text())
        except forms.ValidationError as exc:
            form.add_error("file", exc)
        except DomainError as exc:
            form.add_error("file", exc.message)
            problems = exc.errors
        else:
            messages.success(request, f"Imported metrics for {len(rows)} teams into {cycle}.")
            return redirect("reviews:cycle", pk=cycle.pk)
    return render(
        request,
        "reviews/metrics_upload.html",
        {"cycle": cycle, "form": form, "problems": problems},
        status=400 if form.errors else 200,
    )
