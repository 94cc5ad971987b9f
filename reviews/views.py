"""Review pages: the engineer's self-review, the manager's team and rating pages, the score
page. Thin: a form shapes input, one service acts, errors go back beside their fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core import workflow
from core.actors import acting_user
from core.errors import DomainError
from core.forms import add_service_errors, sort_links
from core.paging import LookaheadPaginator
from core.roles import Role, has_role, role_names
from reviews import selectors, services
from reviews.charts import contributions_chart, history_chart, self_vs_manager_chart
from reviews.filters import SORTS, ReviewPageFilter
from reviews.forms import (
    EvidenceEditForm,
    EvidenceForm,
    PasteForm,
    RatingsForm,
    ReasonForm,
)
from reviews.history import engineer_history
from reviews.models import Review, TeamMetrics
from reviews.permissions import can_see_manager_ratings
from reviews.scores import score_payload
from rubrics.scoring import ScoringError
from rubrics.selectors import version_data


def _rows(review: Review, viewer: Any) -> list[dict[str, Any]]:
    """One row per dimension: criteria for the engineer's level, ratings, tagged evidence."""
    version = review.cycle.rubric_version
    level = next((lv for lv in version.levels.all() if lv.code == review.level_code), None)
    stored = selectors.ratings_by_key(review)
    show_manager = can_see_manager_ratings(viewer, review)
    evidence = [e for e in review.evidence.all() if not e.is_withdrawn]
    rows = []
    for d in version.dimensions.all():
        rating = stored.get(d.key)
        rows.append(
            {
                "key": d.key,
                "name": d.name,
                "weight": d.weight,
                "gate": d,
                "criteria": next(
                    (c.text for c in d.criteria.all() if level and c.level_id == level.pk), ""
                ),
                "self_rating": rating.self_rating if rating else None,
                "self_justification": rating.self_justification if rating else "",
                "manager_rating": rating.manager_rating if rating and show_manager else None,
                "manager_justification": rating.manager_justification
                if rating and show_manager
                else "",
                "counterexample": rating.counterexample if rating and show_manager else "",
                "evidence": [e for e in evidence if d.key in e.dimensions],
            }
        )
    return rows


def _initial_ratings(rows: list[dict[str, Any]], who: str) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for row in rows:
        initial[f"{row['key']}-rating"] = row[f"{who}_rating"]
        initial[f"{row['key']}-justification"] = row[f"{who}_justification"]
        if who == "manager":
            initial[f"{row['key']}-counterexample"] = row["counterexample"]
    return initial


def _with_fields(rows: list[dict[str, Any]], form: RatingsForm, *suffixes: str) -> None:
    """Each row's own fields of the ratings form, looked up once here rather than by
    scanning every field of the form for each row in the template."""
    for row in rows:
        row["fields"] = [form[f"{row['key']}-{suffix}"] for suffix in suffixes]


def _supports(evidence: list[Any], rows: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    """Each evidence item with the names of the dimensions it is tagged to."""
    names = {row["key"]: row["name"] for row in rows}
    return [
        (item, ", ".join(names[key] for key in item.dimensions if key in names))
        for item in evidence
    ]


def _review_page(
    request: HttpRequest, review: Review, status: int = 200, **forms: Any
) -> HttpResponse:
    rows = _rows(review, request.user)
    owner = review.is_owned_by(request.user)
    actions = workflow.allowed_actions(review, request.user)
    editable = "edit_self_review" in actions
    context: dict[str, Any] = {
        "review": review,
        "rows": rows,
        "owner": owner,
        "actions": actions,
        "editable": editable,
        "is_manager": review.is_managed_by(request.user),
        "evidence": _supports(list(review.evidence.all()), rows),
        "allowed_now": services.allowed_now(review),
        "paste_results": forms.get("paste_results"),
        "edit_forms": _edit_forms(review, forms.get("edit_form")) if editable else [],
    }
    if editable:  # the forms are shown only while the self-review is open
        ratings_form = forms.get("ratings_form") or RatingsForm(
            review=review, who="self", initial=_initial_ratings(rows, "self")
        )
        _with_fields(rows, ratings_form, "rating", "justification")
        context.update(
            evidence_form=forms.get("evidence_form") or EvidenceForm(review=review),
            paste_form=forms.get("paste_form") or PasteForm(),
            ratings_form=ratings_form,
        )
    return render(request, "reviews/review.html", context, status=status)


PER_PAGE = 25
STATE_LABELS = dict(Review.State.choices)


def _edit_forms(review: Review, failed: EvidenceEditForm | None) -> list[tuple[Any, Any]]:
    """One form per active evidence item, to tag and edit it while the self-review is open;
    a form that failed comes back as it was sent."""
    forms_ = []
    for item in review.evidence.all():
        if item.is_withdrawn:
            continue
        prefix = f"ev{item.pk}"
        if failed is not None and failed.prefix == prefix:
            forms_.append((item, failed))
            continue
        initial = {
            "title": item.title,
            "kind": item.kind,
            "occurred_on": item.occurred_on,
            "contribution": item.contribution,
            "dimensions": item.dimensions,
        }
        forms_.append((item, EvidenceEditForm(review=review, prefix=prefix, initial=initial)))
    return forms_


@login_required
@require_POST
def evidence_edit(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    item = next((e for e in review.evidence.all() if e.pk == evidence_pk), None)
    if item is None:
        raise Http404("No such evidence.")
    form = EvidenceEditForm(request.POST, review=review, prefix=f"ev{item.pk}")
    if form.is_valid():
        try:
            services.evidence_update(actor=acting_user(request), evidence=item, **form.cleaned_data)
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Saved “{form.cleaned_data['title'] or item.title}”.")
            return redirect("reviews:detail", pk=review.pk)
    return _review_page(request, review, status=400, edit_form=form)


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    """Your own reviews, then the others you may see: paginated, searchable, filterable by
    cycle, team, state and manager, and sortable."""
    mine = list(selectors.own_reviews(request.user))
    found = ReviewPageFilter(
        request.GET or None,
        queryset=selectors.review_page_candidates(request.user),
        user=request.user,
    )
    # Page through ids alone (the sort reads few columns; the count stops a few pages past
    # this one), then read the page's rows: at ten thousand reviews the page costs what it
    # costs at a thousand.
    number = request.GET.get("page")
    ids = found.qs.values_list("pk", flat=True)
    page = LookaheadPaginator(ids, PER_PAGE, number).get_page(number)
    if (
        not mine
        and not page.paginator.count
        and not request.GET
        and has_role(request.user, Role.FACILITATOR)
    ):
        return redirect("calibration:list")  # a facilitator's work is in the sessions
    base = reverse("reviews:list")  # each row's links: /reviews/<id>/, reversed once
    rows = [
        dict(
            row,
            state_label=STATE_LABELS[row["state"]],
            url=f"{base}{row['id']}/",
            rate_url=f"{base}{row['id']}/rate/" if row["manager_id"] == request.user.pk else "",
        )
        for row in selectors.review_page_rows(list(page))
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reviews/list.html",
        {
            "mine": mine,
            "manages": "manager" in role_names(request.user),
            "filter": found,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "sorts": sort_links(request, "o", [label for _, label in SORTS]),
            "filtered": any(v for k, v in request.GET.items() if k not in ("page", "o")),
        },
    )


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_page(request, selectors.get_review_for_user(request.user, pk))


@login_required
@require_POST
def evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    form = EvidenceForm(request.POST, review=review)
    if form.is_valid():
        try:
            services.evidence_add(
                actor=acting_user(request),
                review=review,
                url=form.cleaned_data["url"],
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"] or None,
                occurred_on=form.cleaned_data["occurred_on"],
                contribution=form.cleaned_data["contribution"],
                dimensions=form.cleaned_data["dimensions"],
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Evidence added.")
            return redirect("reviews:detail", pk=review.pk)
    return _review_page(request, review, status=400, evidence_form=form)


@login_required
@require_POST
def evidence_paste(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    form = PasteForm(request.POST)
    if form.is_valid():
        try:
            results = services.evidence_paste(
                actor=acting_user(request), review=review, text=form.cleaned_data["text"]
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            review = selectors.get_review_for_user(request.user, pk)
            accepted = sum(1 for r in results if r["accepted"])
            messages.success(request, f"{accepted} of {len(results)} links added.")
            refused = "\n".join(r["input"] for r in results if not r["accepted"])
            return _review_page(
                request,
                review,
                status=200 if accepted or not refused else 400,
                paste_form=PasteForm(initial={"text": refused}),
                paste_results=results,
            )
    return _review_page(request, review, status=400, paste_form=form)


@login_required
@require_POST
def evidence_withdraw(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    item = next((e for e in review.evidence.all() if e.pk == evidence_pk), None)
    if item is None:
        raise Http404("No such evidence.")
    try:
        services.evidence_withdraw(
            actor=acting_user(request), evidence=item, reason=request.POST.get("reason", "")
        )
        messages.success(request, f"Withdrew “{item.title}”.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("reviews:detail", pk=review.pk)


@login_required
@require_POST
def self_ratings(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    form = RatingsForm(request.POST, review=review, who="self")
    if form.is_valid():
        try:
            with transaction.atomic():  # save and submit together, or neither
                services.rating_set_self(
                    actor=acting_user(request), review=review, ratings=form.ratings()
                )
                if "submit" in request.POST:
                    services.review_submit_self(actor=acting_user(request), review=review)
            messages.success(
                request,
                "Self-review submitted to your manager."
                if "submit" in request.POST
                else "Ratings saved.",
            )
            return redirect("reviews:detail", pk=review.pk)
        except DomainError as exc:
            add_service_errors(form, exc)
    review = selectors.get_review_for_user(request.user, pk)
    return _review_page(request, review, status=400, ratings_form=form)


RETURN_LABEL = "What should change?"


def _rate_page(
    request: HttpRequest,
    review: Review,
    form: RatingsForm | None = None,
    status: int = 200,
    return_form: ReasonForm | None = None,
) -> HttpResponse:
    rows = _rows(review, request.user)
    is_manager = review.is_managed_by(request.user)
    overall: list[Any] = []
    if is_manager:  # the form is shown to the review's manager only
        if form is None:
            initial = _initial_ratings(rows, "manager")
            initial.update(
                overall_rating=review.overall_rating,
                growth_rating=review.growth_rating,
                manager_confidence=review.manager_confidence,
            )
            form = RatingsForm(review=review, who="manager", initial=initial)
        _with_fields(rows, form, "rating", "justification", "counterexample")
        overall = [form["overall_rating"], form["growth_rating"], form["manager_confidence"]]
    actions = workflow.allowed_actions(review, request.user)
    metrics = selectors.team_metrics(review.team, review.cycle).first()
    return render(
        request,
        "reviews/rate.html",
        {
            "review": review,
            "rows": rows,
            "form": form,
            "overall": overall,
            "return_form": (return_form or ReasonForm(label=RETURN_LABEL))
            if "return_to_engineer" in actions
            else None,
            "metrics": metrics,
            "is_manager": is_manager,
            "actions": actions,
            "allowed_now": services.allowed_now(review),
        },
        status=status,
    )


@login_required
def review_rate(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    if request.method != "POST":
        return _rate_page(request, review)
    form = RatingsForm(request.POST, review=review, who="manager")
    if form.is_valid():
        try:
            with transaction.atomic():  # save and submit together, or neither
                services.rating_set_manager(
                    actor=acting_user(request), review=review, ratings=form.ratings()
                )
                services.rating_set_overall(
                    actor=acting_user(request),
                    review=review,
                    overall=form.cleaned_data.get("overall_rating"),
                    growth=form.cleaned_data.get("growth_rating"),
                    confidence=form.cleaned_data.get("manager_confidence"),
                )
                if "submit" in request.POST:
                    services.review_submit_manager(actor=acting_user(request), review=review)
            messages.success(
                request,
                "Manager review submitted." if "submit" in request.POST else "Ratings saved.",
            )
            return redirect("reviews:rate", pk=review.pk)
        except DomainError as exc:
            add_service_errors(form, exc)
    review = selectors.get_review_for_user(request.user, pk)
    return _rate_page(request, review, form, status=400)


@login_required
@require_POST
def review_return(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    form = ReasonForm(request.POST, label=RETURN_LABEL)
    if form.is_valid():
        try:
            services.review_return(
                actor=acting_user(request), review=review, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Returned to the engineer.")
            return redirect("reviews:rate", pk=review.pk)
    return _rate_page(request, review, status=400, return_form=form)


@login_required
@require_POST
def review_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.get_review_for_user(request.user, pk)
    try:
        services.review_acknowledge(actor=acting_user(request), review=review)
        messages.success(request, "Review acknowledged.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("reviews:detail", pk=review.pk)


@login_required
def team_page(request: HttpRequest) -> HttpResponse:
    cycles = list(selectors.cycles_for_user(request.user))
    cycle_id = request.GET.get("cycle")
    cycle = next((c for c in cycles if str(c.pk) == cycle_id), cycles[0] if cycles else None)
    reviews = (
        selectors.reviews_for_user(request.user).filter(cycle=cycle, manager_id=request.user.pk)
        if cycle
        else []
    )
    # The rubric's dimensions from its per-process cache (released content never changes).
    dimensions = list(version_data(cycle.rubric_version).dimensions) if cycle else []
    table = []
    for review in reviews:
        stored = {r.dimension_key: r for r in review.ratings.all()}
        cells = [(stored.get(d.key), d) for d in dimensions]
        table.append((review, cells, workflow.can(review, "rate", request.user)))
    team_ids = {r.team_id for r in reviews}
    # Each team's delivery scorecard sits beside its reviews, as context.
    teams = sorted({r.team for r in reviews if r.team_id}, key=lambda t: t.name)
    metrics = (
        list(TeamMetrics.objects.filter(cycle=cycle, team_id__in=team_ids).select_related("team"))
        if team_ids
        else []
    )
    return render(
        request,
        "reviews/team.html",
        {
            "cycles": cycles,
            "cycle": cycle,
            "table": table,
            "dimensions": dimensions,
            "metrics": metrics,
            "teams": teams,
        },
    )


def _score_context(
    request: HttpRequest, review: Review, what_if: dict[str, Any] | None
) -> dict[str, Any]:
    breakdown = score_payload(review, viewer=request.user, what_if=what_if)
    rows = [t for t in breakdown["terms"]]
    return {
        "review": review,
        "breakdown": breakdown,
        "terms": rows,
        "chart": mark_safe(contributions_chart(breakdown)),
        "comparison": mark_safe(
            self_vs_manager_chart(
                [
                    {
                        "name": t["name"],
                        "self_rating": t["self_rating"],
                        "manager_rating": t["manager_rating"],
                    }
                    for t in rows
                ],
                breakdown["scale"]["maximum"],
            )
        ),
    }


def _number(value: int | Decimal | None) -> float | None:
    return None if value is None else float(value)


@login_required
def review_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The review's engineer across cycles: ratings per dimension and composite."""
    review = selectors.get_review_for_user(request.user, pk)
    history = engineer_history(request.user, review)
    # Drawn once two cycles have ratings to show: a line needs two points.
    shared = [
        c
        for c in history.cycles
        if c.shared and (c.composite is not None or any(v is not None for v in c.ratings.values()))
    ]
    scale_max = version_data(review.cycle.rubric_version).scale.maximum
    series: list[tuple[str, list[float | None]]] = [
        (name, [_number(c.ratings.get(key)) for c in shared]) for key, name in history.dimensions
    ]
    series.append(("Composite (advisory)", [_number(c.composite) for c in shared]))
    chart = (
        mark_safe(history_chart([c.review.cycle.name for c in shared], series, scale_max))
        if len(shared) > 1
        else ""
    )
    rows = [
        (cycle, [cycle.ratings.get(key) for key, _name in history.dimensions])
        for cycle in history.cycles
    ]
    return render(
        request,
        "reviews/history.html",
        {"review": review, "history": history, "rows": rows, "chart": chart},
    )


@login_required
def review_score(request: HttpRequest, pk: int) -> HttpResponse:
    # Only what the breakdown reads: the rubric's content comes from its per-process cache.
    review = selectors.get_review_for_score(request.user, pk)
    context = _score_context(request, review, None)
    context["scale_points"] = review.cycle.rubric_version.scale.points()
    return render(request, "reviews/score.html", context)


@login_required
def review_what_if(request: HttpRequest, pk: int) -> HttpResponse:
    """The breakdown for the slider values, as a page fragment (htmx). Saves nothing."""
    review = selectors.get_review_for_score(request.user, pk)
    ratings: dict[str, Any] = {}
    for key in request.GET:
        if not key.startswith("r_"):
            continue
        value = request.GET.get(key, "").strip()
        try:
            # Empty means "not rated"; anything else not a number is named by the scorer.
            ratings[key.removeprefix("r_")] = int(value) if value else None
        except ValueError:
            ratings[key.removeprefix("r_")] = value
    try:
        context = _score_context(request, review, ratings)
    except ScoringError as exc:
        return HttpResponse("; ".join(f"{k}: {m}" for k, m in exc.errors.items()), status=400)
    return render(request, "reviews/_breakdown.html", context)
