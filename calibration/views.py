"""Calibration pages: the sessions a user may see, a session's board with its analytics and
inline adjustments, the facilitator's buttons, and HR's process-health page. Thin: a form
shapes input, one service acts, errors go back beside their fields."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import django_filters
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from calibration import analytics, selectors, services
from calibration.charts import (
    PHASE_LABELS,
    completion_chart,
    distribution_chart,
    skew_chart,
    understanding_chart,
)
from calibration.forms import AdjustmentForm, PreReadForm, SessionForm
from calibration.health import cycle_health, understanding
from calibration.models import PULSE_QUESTIONS, Appeal, CalibrationSession, Participant
from calibration.permissions import can_create_sessions
from core import workflow
from core.actors import acting_user
from core.errors import DomainError, StaleVersion
from core.forms import add_service_errors, posted
from core.roles import is_hr
from metrics.selectors import recent_keys
from reviews.models import Review, ReviewCycle
from reviews.selectors import cycles_for_user, get_cycle_for_user
from rubrics.models import Dimension

Status = CalibrationSession.Status


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails  # set by django-htmx's middleware


class SessionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=CalibrationSession.Status.choices, empty_label="Any status"
    )
    cycle = django_filters.ModelChoiceFilter(
        queryset=ReviewCycle.objects.none(), empty_label="Every cycle"
    )

    class Meta:
        model = CalibrationSession
        fields = ["status", "cycle"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cycles = cycles_for_user(user).select_related(None).only("pk", "name")
        self.filters["cycle"].queryset = cycles  # type: ignore[attr-defined]


SESSIONS_PER_PAGE = 25


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    sessions = selectors.with_counts(selectors.sessions_for_user(request.user)).order_by(
        "-created_at", "-pk"
    )
    found = SessionFilter(request.GET or None, queryset=sessions, user=request.user)
    page = Paginator(found.qs, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    hr = is_hr(request.user)
    return render(
        request,
        "calibration/list.html",
        {
            "page": page,
            "filter": found,
            "query": query.urlencode(),
            "is_hr": hr,
            "can_schedule": can_create_sessions(request.user),
            "cycles": cycles_for_user(request.user) if hr else [],
        },
    )


@login_required
def session_new(request: HttpRequest) -> HttpResponse:
    """HR or a facilitator schedules a session: cycle, scope, facilitator, participants."""
    if not can_create_sessions(request.user):
        raise Http404("No such page.")
    cycles = cycles_for_user(request.user).exclude(phase=ReviewCycle.Phase.CLOSED)
    form = SessionForm(posted(request), cycles=cycles)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_create(actor=acting_user(request), **data)
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Scheduled “{session.name}”. Open it when the room is ready."
            )
            return redirect("calibration:detail", pk=session.pk)
    return render(
        request, "calibration/new.html", {"form": form}, status=400 if form.errors else 200
    )


BOARD_PER_PAGE = 50


def _board_page(request: HttpRequest, order: list[Any], form: Any) -> Any:
    """The page of the board to show: the one holding the review named by `?review=` (where an
    adjustment or pre-read sends the person back to) or by a form being shown again, else
    `?page=`. `order` is the board's [review id, engineer] pairs; the analytics above the
    table always cover the whole board."""
    paginator = Paginator(order, BOARD_PER_PAGE)
    focus = getattr(form, "review_id", None) if form is not None else None
    if form is not None and focus is None and form.is_bound:
        focus = form.data.get(form.add_prefix("review"))
    focus = str(focus or request.GET.get("review") or "")
    for index, (review_id, _engineer) in enumerate(order):
        if str(review_id) == focus:
            return paginator.get_page(index // BOARD_PER_PAGE + 1)
    return paginator.get_page(request.GET.get("page"))


def _on_board(session: CalibrationSession, review: Review) -> str:
    """The board's address, on the page that shows `review`'s row."""
    url = reverse("calibration:detail", args=[session.pk])
    return f"{url}?review={review.pk}#review-{review.pk}"


# A board scoped to more teams than this shows the first ones' delivery context.
MAX_DELIVERY_TEAMS = 12


def _session_page(
    request: HttpRequest,
    session: CalibrationSession,
    *,
    status: int = 200,
    adjust_form: AdjustmentForm | None = None,
    preread_form: PreReadForm | None = None,
) -> HttpResponse:
    user = request.user
    summary = selectors.board_summary(session, viewer=user)
    order = summary["order"]
    figures = summary["analytics"]
    page = _board_page(request, order, adjust_form or preread_form)
    # Only the page's rows are read in detail (self ratings, pre-reads, evidence): the
    # whole board's figures come with the summary.
    rows, version = selectors.board_rows(
        session,
        viewer=user,
        hr_attribute=is_hr(user),
        previous=False,  # a page shows no previous composite; the flags come with the summary
        reviews=[review_id for review_id, _engineer in page],
    )
    page.object_list = rows
    # The last two cycles' composites beside the current ratings (the page's rows only).
    earlier = selectors.earlier_composites(session, [row["engineer_id"] for row in rows])
    for row in rows:
        row["earlier"] = earlier.get(row["engineer_id"], [])
    dimensions = list(version.dimensions.all())
    scale = version.scale
    facilitator = session.is_facilitator(user)
    role = session.participant_role(user)
    actions = workflow.allowed_actions(session, user)
    editable = "adjust" in actions
    on_board = session.has_board
    distribution = figures["distribution"]
    _add_guidance_bands(distribution)
    skew = figures["skew"]
    flags = {o["review"]: o["reasons"] for o in figures["outliers"]}
    columns = len(dimensions) + 9 + (1 if on_board else 0)
    for row in rows:
        # As text: localising a Decimal in a template costs more than the rest of its cell.
        for key in ("composite", "pre_composite"):
            if row[key] is not None:
                row[key] = str(row[key])
        if editable:
            row["adjust_url"] = reverse("calibration:adjust-form", args=[session.pk, row["review"]])
        row["flags"] = flags.get(row["review"], [])
    # The rows' markup is a function of what they show: rendered once per content (a form
    # being shown again carries its own state and is always rendered).
    rows_key = (
        None
        if adjust_form is not None
        else _digest(
            [
                session.pk,
                rows,
                [d.key for d in dimensions],
                editable,
                on_board,
                columns,
                timezone.get_current_timezone_name(),
            ]
        )
    )
    for row in rows:
        # Formatted only when the rows are rendered (a template calls it).
        row["cells_html"] = functools.partial(_row_cells_html, row, dimensions)
        # Only a submitted form is rendered with the board; the others are fetched when
        # opened (adjustment_form), so the board's cost does not grow with its rows.
        if adjust_form is not None and adjust_form.review_id == row["review"]:
            row["form"] = adjust_form
    if adjust_form is not None and all(
        review_id != adjust_form.review_id for review_id, _engineer in order
    ):
        # The review is not (or no longer) on the board: there is no row to show the form
        # in, so the service's sentence goes to the top of the page.
        for error in adjust_form.non_field_errors() or ["This review is not on the board."]:
            messages.error(request, str(error))
    can_preread = "add_preread" in actions
    if can_preread and preread_form is None:
        preread_form = PreReadForm(reviews=[(r["review"], r["engineer"]) for r in rows])
    query = request.GET.copy()
    for name in ("page", "review"):
        query.pop(name, None)
    context = {
        "session": session,
        "rows": rows,
        "page": page,
        "query": query.urlencode(),
        "board_size": len(order),
        "dimensions": dimensions,
        "scale": scale,
        "is_facilitator": facilitator,
        "your_role": _your_role(session, user, facilitator, role, editable),
        "actions": actions,
        "allowed_now": workflow.now_sentence(session),
        "status_notice": _status_notice(session, editable),
        "waiting": summary["waiting"],
        "not_calibrated": [
            {**entry, "state_label": Review.State(entry["state"]).label}
            for entry in session.summary.get("not_calibrated", [])
        ],
        "editable": editable,
        "on_board": on_board,
        # Engineer, team and level, manager, the dimensions, overall, composite, the last two
        # cycles, [before], evidence, pre-reads, flags: the detail rows span them all.
        "columns": columns,
        "rows_key": rows_key,
        "participants": list(session.participants.all()),
        "scope_teams": summary["scope_teams"],
        # The scope's teams' delivery over the last four weeks: context, never a score input.
        "delivery": _delivery(summary),
        "scope_managers": summary["scope_managers"],
        "distribution": distribution,
        # Drawn only when the summary's fragment is not in the cache (a template calls them).
        "distribution_svg": lambda: mark_safe(distribution_chart(distribution)),
        "has_guidance": any(b["guidance"] is not None for b in distribution["buckets"]),
        "skew": skew,
        "skew_svg": (lambda: mark_safe(skew_chart(skew))) if skew else "",
        "summary_key": summary["key"],
        "nine_box": _nine_box_grid(figures["nine_box"]),
        "groups": [(_group_label(key), entries) for key, entries in figures["groups"].items()],
        "adjustments": selectors.adjustments_for(session, viewer=user),
        "preread_form": preread_form if can_preread else None,
    }
    return render(request, "calibration/session.html", context, status=status)


STATUS_NOTICES = {
    Status.SCHEDULED: (
        "Scheduled: this is a read-only preview of the reviews in scope with their current "
        "ratings. When the facilitator opens the session, the reviews with a submitted manager "
        "review go on the board and ratings can change there."
    ),
    Status.LOCKED: "Locked: no rating can change until the facilitator unlocks the session.",
}


def _delivery(summary: dict[str, Any]) -> list[tuple[int, str, Any]]:
    """Each scope team (the first MAX_DELIVERY_TEAMS, by name) with its last four weeks'
    four keys."""
    teams = list(zip(summary["scope_team_ids"], summary["scope_teams"], strict=True))
    teams = teams[:MAX_DELIVERY_TEAMS]
    keys = recent_keys([team_id for team_id, _name in teams])
    return [(team_id, name, keys[team_id]) for team_id, name in teams]


def _status_notice(session: CalibrationSession, editable: bool) -> str:
    if session.status == Status.CLOSED:
        summary = session.summary
        text = (
            "Closed: the calibrated ratings were written back to the reviews. "
            f"{summary.get('changed', 0)} of {summary.get('reviews', 0)} reviews changed."
        )
        if summary.get("mean_before"):
            text += (
                f" Mean composite {summary['mean_before']} before, "
                f"{summary['mean_after']} after (advisory)."
            )
        return text
    if session.status == Status.OPEN and not editable:
        return "Open: you see the board read-only."
    return STATUS_NOTICES.get(session.status, "")


def _your_role(
    session: CalibrationSession, user: Any, facilitator: bool, role: str | None, editable: bool
) -> str:
    if facilitator:
        return "facilitator: you open, lock and close the session and can change ratings"
    if role == Participant.Role.MANAGER:
        if session.can_adjust(user):
            return "participating manager: you can change ratings while the session is open"
        return "participating manager: no report of yours is in scope, so you read along"
    if role == Participant.Role.OBSERVER:
        return "observer: read-only"
    return "HR: read-only"


def _cells(row: dict[str, Any], dimensions: list[Dimension]) -> list[dict[str, Any]]:
    """Per dimension: self rating, board rating, and the snapshot's rating if it changed."""
    pre = row["pre_ratings"] or {}
    cells = []
    for d in dimensions:
        board, was = row["ratings"].get(d.key), pre.get(d.key)
        cells.append(
            {
                "dimension": d,
                "self": row["self_ratings"].get(d.key),
                "board": board,
                "was": was,
                "changed": bool(pre) and was != board,
            }
        )
    return cells


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _row_cells_html(row: dict[str, Any], dimensions: list[Dimension]) -> str:
    return _cells_html(_cells(row, dimensions))


def _cells_html(cells: list[dict[str, Any]]) -> str:
    """A row's dimension cells as markup: fifty rows of six cells are most of the board's
    template nodes, and formatting them here costs a fraction of rendering each one."""
    return format_html_join(
        "",
        '<td class="pair{}" data-dimension="{}">{} / <strong>{}</strong>{}</td>',
        (
            (
                " changed" if cell["changed"] else "",
                cell["dimension"].key,
                _or_dash(cell["self"]),
                _or_dash(cell["board"]),
                format_html('<br><span class="muted">was {}</span>', _or_dash(cell["was"]))
                if cell["changed"]
                else "",
            )
            for cell in cells
        ),
    )


def _add_guidance_bands(distribution: dict[str, Any]) -> None:
    # The analytics flag a share more than 10 points off its guidance: show that band.
    for bucket in distribution["buckets"]:
        if bucket["guidance"] is not None:
            share = float(bucket["guidance"]) * 100
            bucket["band_low"] = f"{max(share - 10, 0):.0f}"
            bucket["band_high"] = f"{min(share + 10, 100):.0f}"


GROUP_LABELS = {"team": "Team", "level": "Level", "tenure_band": "Tenure"}


def _group_label(key: str) -> str:
    if key == analytics.HR_GROUP_KEY:
        return f"{settings.LEVELSET_HR_ATTRIBUTE_LABEL} (HR only)"
    return GROUP_LABELS.get(key, key)


def _nine_box_grid(nine_box: dict[str, Any]) -> dict[str, Any]:
    """The 9-box as rows for a 3×3 grid: growth high at the top, performance low at left."""
    boxes = {(b["performance"], b["growth"]): b for b in nine_box["boxes"]}
    order = ("low", "moderate", "high")
    return {
        "rows": [
            {"growth": growth, "boxes": [boxes[(perf, growth)] for perf in order]}
            for growth in reversed(order)
        ],
        "performance": order,
        "unplaced": nine_box["unplaced"],
    }


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _session_page(request, selectors.get_session_for_user(request.user, pk))


def _board_review(session: CalibrationSession, review_id: str | None) -> Review:
    review = (
        Review.objects.filter(pk=review_id, cycle_id=session.cycle_id).first()
        if review_id and review_id.isdigit()
        else None
    )
    if review is None:
        raise Http404("No such review on this board.")
    return review


def _bound_adjustment_form(
    data: Any, session: CalibrationSession, review: Review
) -> AdjustmentForm:
    version = session.cycle.rubric_version
    return AdjustmentForm(
        data,
        review_id=review.pk,
        dimensions=list(version.dimensions.order_by("order")),
        scale=version.scale,
        evidence=selectors.review_evidence(review),
    )


@login_required
def adjustment_form(request: HtmxHttpRequest, pk: int, review_pk: int) -> HttpResponse:
    """One board row's adjustment form: the fragment the board fetches when the row's form is
    opened, or (without JavaScript) a page of its own."""
    session = selectors.get_session_for_user(request.user, pk)
    if not session.can_adjust(request.user):
        raise Http404("No such form.")
    entry = (
        session.board.filter(review_id=review_pk, active=True)
        .select_related("review__engineer__user")
        .first()
    )
    if entry is None:
        raise Http404("No such review on this board.")
    version = session.cycle.rubric_version
    form = AdjustmentForm(
        review_id=entry.review_id,
        dimensions=list(version.dimensions.order_by("order")),
        scale=version.scale,
        evidence=selectors.review_evidence(entry.review),
        initial={"version": entry.version},
    )
    context = {"session": session, "form": form, "review_id": entry.review_id, "entry": entry}
    if request.htmx:
        return render(request, "calibration/_adjust_form.html", context)
    return render(request, "calibration/adjust.html", context)


@login_required
@require_POST
def adjustment_make(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, pk)
    review = _board_review(session, request.POST.get("review"))
    form = _bound_adjustment_form(request.POST, session, review)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            adjustment = services.adjustment_make(
                actor=acting_user(request),
                session=session,
                review=review,
                dimension_key=data["dimension"],
                rating=data["rating"],
                rationale=data["rationale"],
                evidence_ids=data["evidence"],
                counterexample=data["counterexample"],
                expected_version=data["version"],
            )
        except DomainError as exc:
            status = exc.status_code
            if isinstance(exc, StaleVersion):
                # Show the board as it is now and let the person re-apply their change to it:
                # the form keeps what they typed but carries the current version.
                current = exc.extra.get("current", {}).get("version")
                rebound = request.POST.copy()
                rebound[form.add_prefix("version")] = str(current)
                form = _bound_adjustment_form(rebound, session, review)
                form.is_valid()
            add_service_errors(form, exc)
        else:
            name = dict(form.fields["dimension"].choices).get(  # type: ignore[attr-defined]
                adjustment.dimension_key, adjustment.dimension_key
            )
            messages.success(
                request,
                f"{review.engineer}: {name} {_or_dash(adjustment.before)} → {adjustment.after}.",
            )
            return redirect(_on_board(session, review))
    session = selectors.get_session_for_user(request.user, pk)
    return _session_page(request, session, status=status, adjust_form=form)


@login_required
@require_POST
def preread_add(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, pk)
    order = selectors.board_summary(session, viewer=request.user)["order"]
    form = PreReadForm(request.POST, reviews=[tuple(pair) for pair in order])
    status = 400
    if form.is_valid():
        review = _board_review(session, str(form.cleaned_data["review"]))
        try:
            services.preread_add(
                actor=acting_user(request),
                session=session,
                review=review,
                text=form.cleaned_data["text"],
            )
        except DomainError as exc:
            status = exc.status_code
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Pre-read added on {review.engineer}.")
            return redirect(_on_board(session, review))
    return _session_page(request, session, status=status, preread_form=form)


def _or_dash(value: int | None) -> str:
    return "—" if value is None else str(value)


@login_required
@require_POST
def reviews_add(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, pk)
    try:
        entries = services.session_add_reviews(actor=acting_user(request), session=session)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{len(entries)} review(s) joined the board.")
    return redirect("calibration:detail", pk=session.pk)


TRANSITIONS: dict[str, tuple[Any, str]] = {
    "open": (services.session_open, "Session opened: the board holds a snapshot of every review."),
    "lock": (services.session_lock, "Session locked: no rating can change until it is unlocked."),
    "unlock": (services.session_unlock, "Session unlocked: ratings can change again."),
    "close": (
        services.session_close,
        "Session closed: the calibrated ratings were written back to the reviews.",
    ),
}


@login_required
@require_POST
def session_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, pk)
    service, done = TRANSITIONS[action]
    try:
        service(actor=acting_user(request), session=session)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("calibration:detail", pk=session.pk)


def _understood(figures: dict[str, Any]) -> list[float]:
    """A cycle's shown means (groups large enough)."""
    means = [*figures["pulse"]["means"].values(), figures["manager_confidence"]["mean"]]
    return [m for m in means if m is not None]


@login_required
def health(request: HttpRequest, pk: int) -> HttpResponse:
    """HR: is the review process itself working for this cycle?"""
    if not is_hr(request.user):
        raise Http404("No such page.")
    cycle = get_cycle_for_user(request.user, pk)
    figures = cycle_health(cycle)
    completion = figures["completion"]
    cycles = list(ReviewCycle.objects.order_by("self_review_ends", "pk").only("pk", "name"))
    trend = understanding([c.pk for c in cycles])
    rows = [(c, trend[c.pk]) for c in cycles]
    shown = [(c, t) for c, t in rows if any(_understood(t))]
    series: list[tuple[str, list[float | None]]] = [
        (question, [t["pulse"]["means"][key] for _c, t in shown])
        for key, question in PULSE_QUESTIONS
    ]
    series.append(("Managers' confidence", [t["manager_confidence"]["mean"] for _c, t in shown]))
    return render(
        request,
        "calibration/health.html",
        {
            "cycle": cycle,
            "health": figures,
            "completion": [
                (PHASE_LABELS.get(phase, phase), share) for phase, share in completion.items()
            ],
            "completion_svg": mark_safe(completion_chart(completion)),
            "questions": PULSE_QUESTIONS,
            "understanding": rows,
            "understanding_svg": mark_safe(understanding_chart([c.name for c, _t in shown], series))
            if len(shown) > 1
            else "",
            "states": [
                (label, figures["states"][value])
                for value, label in Review.State.choices
                if value in figures["states"]
            ],
            "appeal_outcomes": [
                (label, figures["appeal_outcomes"].get(value, 0))
                for value, label in Appeal.Status.choices
            ],
        },
    )
