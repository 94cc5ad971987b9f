"""HR's organisation page: import people from the HR system, check the changes, apply them."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.actors import acting_user
from core.forms import posted
from core.roles import is_hr
from core.spreadsheets import safe_row
from people import selectors, services
from people.forms import ImportForm
from people.models import Transfer
from people.org_import import COLUMNS


@login_required
def org_export(request: HttpRequest) -> HttpResponse:
    """The organisation as an import file: edit it and import it again."""
    if not is_hr(request.user):
        raise Http404("No such page.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="organisation.csv"'
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    writer.writerows(safe_row(row) for row in selectors.organisation_rows())
    return response


@login_required
def org_import(request: HttpRequest) -> HttpResponse:
    """Upload and check (a dry run); then apply exactly what was checked, or fix the file."""
    if not is_hr(request.user):
        raise Http404("No such page.")
    form = ImportForm(posted(request), request.FILES or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        apply = "apply" in request.POST
        data = form.cleaned_data
        plan = services.org_import(
            actor=acting_user(request), data=data["content"], fmt=data["format"], dry_run=not apply
        )
        if not plan.ok:
            form.add_error("file", f"The file has {len(plan.problems)} problem(s); see the list.")
        elif apply:
            counts = plan.counts()
            done = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "no changes"
            messages.success(request, f"Organisation imported: {done}.")
            return redirect("people:import")
        else:
            form = ImportForm(initial={"content": data["content"], "format": data["format"]})
    recent = Transfer.objects.select_related(
        "engineer__user", "from_team", "to_team", "from_manager", "to_manager"
    )[:10]
    return render(
        request,
        "people/import.html",
        {"form": form, "plan": plan, "recent": recent},
        status=400 if form.errors else 200,
    )
