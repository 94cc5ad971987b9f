"""The engineer's view of their review's calibration history, and appeals against a rating."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from calibration import services
from calibration.selectors import calibration_history
from core.actors import acting_user
from core.errors import DomainError
from reviews.models import Review
from reviews.permissions import is_review_owner
from reviews.selectors import get_review_for_user


@login_required
def review_history(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_review_for_user(request.user, pk)
    owner = is_review_owner(request.user, review)
    finalised = review.state in (Review.State.FINALIZED, Review.State.ACKNOWLEDGED)
    error = None
    if request.method == "POST" and owner:
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
    visible = finalised or not owner
    return render(
        request,
        "calibration/review_history.html",
        {
            "review": review,
            "events": [(event, _why(event.payload)) for event in calibration_history(review)]
            if visible
            else [],
            "visible": visible,
            "can_appeal": owner and finalised,
            "appeals": review.appeals.all(),
            "dimensions": review.cycle.rubric_version.dimensions.all(),
            "error": error,
        },
        status=400 if error else 200,
    )


def _why(payload: dict[str, object]) -> str:
    for key in ("rationale", "reason", "resolution"):
        if payload.get(key):
            return str(payload[key])
    return ""
