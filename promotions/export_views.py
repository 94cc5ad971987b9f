"""HR's batch packet exports: one ZIP of every packet of a cycle or of a calibration session,
rendered by the workers, with live progress on the page and the download once done."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from calibration.models import CalibrationSession
from core.actors import acting_user
from core.errors import DomainError
from core.forms import add_service_errors, posted
from core.paging import LookaheadPaginator
from core.roles import is_hr
from promotions import selectors
from promotions import services as promotions
from reviews.models import ReviewCycle

PER_PAGE = 20


class BatchExportForm(forms.Form):
    cycle = forms.ModelChoiceField(
        queryset=ReviewCycle.objects.all(),
        required=False,
        empty_label="—",
        help_text="Every promotion case of the cycle.",
    )
    session = forms.ModelChoiceField(
        queryset=CalibrationSession.objects.select_related("cycle"),
        required=False,
        empty_label="—",
        label="Or a calibration session",
        help_text="The cases of the engineers on its board.",
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if bool(data.get("cycle")) == bool(data.get("session")):
            raise forms.ValidationError("Choose a cycle or a session (one of the two).")
        return data


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    if not is_hr(request.user):
        raise Http404("No such page.")
    form = BatchExportForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            job = promotions.export_batch_request(
                actor=acting_user(request),
                cycle=form.cleaned_data.get("cycle"),
                session=form.cleaned_data.get("session"),
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Exporting {job.total} packet(s); this page shows progress.")
            return redirect("promotions:exports")
    number = request.GET.get("page")
    page = LookaheadPaginator(selectors.batch_jobs(request.user), PER_PAGE, number).get_page(number)
    return render(
        request,
        "promotions/exports.html",
        {"form": form, "page": page},
        status=400 if form.errors else 200,
    )


@login_required
def export_row(request: HttpRequest, job_id: str) -> HttpResponse:
    """One batch export's row, polled by the page while it runs (htmx)."""
    job = selectors.get_job_for_user(request.user, job_id)
    return render(request, "promotions/_batch_job.html", {"job": job})
