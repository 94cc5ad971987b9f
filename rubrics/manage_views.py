"""HR's rubric pages: import a YAML document, start the next version as a draft, edit a draft
field by field with every linter problem beside its field, see what changes against the live
version, publish with a rationale, approve or send back as a second HR user, retire. Thin: a
form shapes input, one service acts, errors go back beside their fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core import workflow
from core.actors import acting_user
from core.errors import DomainError
from core.forms import add_service_errors, posted
from rubrics import selectors, services
from rubrics.diff import diff_documents
from rubrics.document import load_yaml, version_to_document
from rubrics.forms import DraftForm, ImportForm, RationaleForm, SendBackForm
from rubrics.models import RubricVersion
from rubrics.permissions import can_manage_rubrics


def _require_manager(request: HttpRequest) -> None:
    if not can_manage_rubrics(request.user):
        raise Http404("No such page.")


def _version_url(version: RubricVersion) -> str:
    return f"/rubrics/{version.rubric.slug}/versions/{version.number}/"


@login_required
def rubric_import(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = ImportForm(posted(request), request.FILES or None)
    problems: dict[str, list[str]] = {}
    if request.method == "POST" and form.is_valid():
        try:
            version = services.rubric_import(
                actor=acting_user(request), data=load_yaml(form.cleaned_data["yaml"])
            )
        except DomainError as exc:
            problems = exc.errors
            form.add_error("text" if form.cleaned_data["text"] else "file", exc.message)
        else:
            messages.success(request, f"Imported as the draft {version}. Check it, then publish.")
            return redirect(_version_url(version))
    return render(
        request,
        "rubrics/import.html",
        {"form": form, "problems": problems},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def draft_start(request: HttpRequest, slug: str) -> HttpResponse:
    _require_manager(request)
    rubric = selectors.get_rubric_for_user(request.user, slug)
    try:
        draft = services.version_create_draft(actor=acting_user(request), rubric=rubric)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("rubrics:detail", slug=slug)
    messages.success(request, f"Started {draft} as a copy of the latest version.")
    return redirect(_version_url(draft))


def _workspace(
    request: HttpRequest, version: RubricVersion, status: int = 200, **forms: Any
) -> HttpResponse:
    """A version's page for HR: the draft's form with the linter's problems beside each
    field, the changes against the live version, and the steps the workflow allows now."""
    document = version_to_document(version)
    actions = workflow.allowed_actions(version, request.user)
    draft_form = forms.get("draft_form")
    if draft_form is None and "edit" in actions:
        # Bound to its own values, so the linter's problems show beside their fields.
        own_values = DraftForm(document=document).initial
        draft_form = DraftForm(own_values, document=document)
        draft_form.is_valid()
        problems: dict[str, list[str]] = {}
        for problem in services.version_lint(version=version):
            problems.setdefault(problem["path"], []).append(problem["message"])
        draft_form.add_problems(problems)
    live = selectors.live_version(version.rubric)
    diff = None
    if live is not None and live.pk != version.pk:
        diff = diff_documents(version_to_document(live), document)
    return render(
        request,
        "rubrics/version.html",
        {
            "rubric": version.rubric,
            "version": version,
            "actions": actions,
            "live": live,
            "diff": diff,
            "draft_form": draft_form,
            "publish_form": forms.get("publish_form") or RationaleForm(),
            "send_back_form": forms.get("send_back_form") or SendBackForm(),
            "allowed_now": workflow.now_sentence(version),
            "warnings": services.version_lint_warnings(version=version)
            if "edit" in actions
            else [],
        },
        status=status,
    )


@login_required
def version_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """GET: the workspace. POST: save the draft's fields."""
    _require_manager(request)
    version = selectors.get_version_for_user(request.user, slug, number)
    if request.method != "POST":
        return _workspace(request, version)
    form = DraftForm(request.POST, document=version_to_document(version))
    if form.is_valid():
        try:
            services.version_update(
                actor=acting_user(request), version=version, data=form.updated_document()
            )
        except DomainError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Draft saved.")
            return redirect(_version_url(version))
    return _workspace(request, version, status=400, draft_form=form)


def _step(
    request: HttpRequest,
    slug: str,
    number: int,
    form_class: type[Any] | None,
    name: str,
    act: Callable[[RubricVersion, Any], RubricVersion],
    done: Callable[[RubricVersion], str],
) -> HttpResponse:
    _require_manager(request)
    version = selectors.get_version_for_user(request.user, slug, number)
    form = form_class(request.POST) if form_class else None
    if form is None or form.is_valid():
        try:
            version = act(version, form.cleaned_data if form else {})
        except DomainError as exc:
            if form is None:
                messages.error(request, exc.message)
                return redirect(_version_url(version))
            add_service_errors(form, exc)
        else:
            messages.success(request, done(version))
            return redirect(_version_url(version))
    return _workspace(request, version, status=400, **{name: form})


@login_required
@require_POST
def version_publish(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    actor = acting_user(request)
    return _step(
        request,
        slug,
        number,
        RationaleForm,
        "publish_form",
        lambda v, data: services.version_publish(
            actor=actor, version=v, rationale=data["rationale"]
        ),
        lambda v: f"{v} is {v.get_status_display().lower()}.",
    )


@login_required
@require_POST
def version_approve(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    actor = acting_user(request)
    return _step(
        request,
        slug,
        number,
        None,
        "",
        lambda v, data: services.version_approve(actor=actor, version=v),
        lambda v: f"{v} is approved and live.",
    )


@login_required
@require_POST
def version_send_back(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    actor = acting_user(request)
    return _step(
        request,
        slug,
        number,
        SendBackForm,
        "send_back_form",
        lambda v, data: services.version_send_back(actor=actor, version=v, reason=data["reason"]),
        lambda v: f"{v} went back to draft, with your reason.",
    )


@login_required
@require_POST
def version_retire(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    actor = acting_user(request)
    return _step(
        request,
        slug,
        number,
        None,
        "",
        lambda v, data: services.version_retire(actor=actor, version=v),
        lambda v: f"{v} is retired: it stays on record, and no new cycle can use it.",
    )
