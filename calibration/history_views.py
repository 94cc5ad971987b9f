"""The engineer's view of their review's calibration history, and appeals against a rating."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from calibration import services
from calibration.forms import PulseForm
from calibration.models import MIN_PULSE_GROUP, PulseReceipt
from calibration.selectors import calibration_history, history_entry
from core import workflow
from core.actors import acting_user
from core.errors import DomainError
from core.forms import add_service_errors, posted
from reviews.models import Review
from reviews.selectors import get_review_for_score
from rubrics.selectors import version_data


@login_required
def review_history(request: HttpRequest, pk: int) -> HttpResponse:
    # The lean access helper: the page shows no criteria, and the dimensions' names come
    # from the rubric version's content, read once per process.
    review = get_review_for_score(request.user, pk)
    dimensions = version_data(review.cycle.rubric_version).dimensions
    owner = review.is_owned_by(request.user)
    can_appeal = workflow.can(review, "appeal", request.user)
    error = None
    if request.method == "POST" and can_appeal:
        try:
            services.appeal_create(
                actor=acting_user(request),
                review=review,
                dimension_key=request.POST.get("dimension", ""),
                reason=request.POST.get("reason", ""),
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Appeal sent to HR.")
            return redirect("calibration:review-history", pk=review.pk)
    # The engineer reads their history once the review is final; the others always.
    visible = review.is_final or not owner
    names = {d.key: d.name for d in dimensions}
    entries = [(e, history_entry(e, names)) for e in calibration_history(review)]
    return render(
        request,
        "calibration/review_history.html",
        {
            "review": review,
            "events": [(e, entry["what"], entry["why"]) for e, entry in entries] if visible else [],
            "visible": visible,
            "can_appeal": can_appeal,
            "appeals": review.appeals.all(),
            "dimensions": dimensions,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def pulse(request: HttpRequest, pk: int) -> HttpResponse:
    """The process pulse of the engineer's own acknowledged review: three questions, answered
    once, kept apart from who answered."""
    review = get_review_for_score(request.user, pk)
    if not review.is_owned_by(request.user):
        raise Http404("No such review.")
    answered = PulseReceipt.objects.filter(review=review).exists()
    form = PulseForm(posted(request))
    if request.method == "POST" and not answered and form.is_valid():
        try:
            services.pulse_answer(actor=acting_user(request), review=review, answers=form.answers())
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Thank you: your answers were saved, apart from your name.")
            return redirect("reviews:detail", pk=review.pk)
    return render(
        request,
        "calibration/pulse.html",
        {
            "review": review,
            "form": form,
            "answered": answered,
            "open": review.state == Review.State.ACKNOWLEDGED,
            "min_group": MIN_PULSE_GROUP,
        },
    )
