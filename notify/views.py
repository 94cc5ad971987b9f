"""A person's notifications and which kinds they receive."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.actors import acting_user
from core.errors import DomainError
from core.forms import posted
from core.paging import LookaheadPaginator
from notify import registry, selectors, services
from notify.models import Notification
from notify.permissions import get_notification_for_user

PER_PAGE = 25


def notification_row(notification: Notification) -> SafeString:
    """One notification's row. Written in Python: the row a template loop would write, for a
    fraction of the cost of its tags and filters (a page holds up to PER_PAGE of them)."""
    title = notification.title
    unread = notification.is_unread
    return format_html(
        '\n      <tr id="notification-{}"{}>\n        <td>{}</td>\n'
        "        <td>{}\n          <br>{}\n"
        '          <br><a href="{}">{}<span class="visually-hidden"> ({})</span></a>\n'
        '          <br><span class="muted">{}</span></td>\n'
        '        <td class="nowrap">{}</td>\n      </tr>\n    ',
        notification.pk,
        SafeString(' class="unread"') if unread else "",
        SafeString(
            '<span class="badge status-draft">Unread</span>'
            if unread
            else '<span class="badge">Read</span>'
        ),
        format_html("<strong>{}</strong>", title) if unread else title,
        linebreaksbr(notification.body, autoescape=True),
        reverse("notify:open", args=[notification.pk]),
        notification.action,
        title,
        notification.kind_label,
        formats.date_format(timezone.localtime(notification.created_at), "j M Y H:i"),
    )


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    # Counted only a few pages ahead: someone with years of notifications pays for one page.
    number = request.GET.get("page")
    page = LookaheadPaginator(selectors.notifications_for(request.user), PER_PAGE, number)
    shown = page.get_page(number)
    return render(
        request,
        "notify/list.html",
        {"page": shown, "rows": [notification_row(n) for n in shown]},
    )


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of your notifications read and go where it points. Someone else's is a 404."""
    notification = get_notification_for_user(request.user, pk)
    if notification.read_at is None:
        services.notification_mark_read(actor=acting_user(request), ids=[notification.pk])
    # Only to a path on this site (the database refuses anything else too).
    if not services.is_local_path(notification.url):
        return redirect("notify:list")
    return redirect(notification.url)


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    marked = services.notification_mark_read(actor=acting_user(request), all=True)
    messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked as read.")
    return redirect("notify:list")


class PreferencesForm(forms.Form):
    on = forms.MultipleChoiceField(
        label="Send me these notifications",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["on"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (str(kind), kind.label) for kind in registry.all_kinds() if not kind.essential
        ]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    rows = selectors.preferences(request.user)
    optional = [row["code"] for row in rows if not row["essential"]]
    form = PreferencesForm(
        posted(request), initial={"on": [row["code"] for row in rows if row["on"]]}
    )
    if request.method == "POST" and form.is_valid():
        off = set(optional) - set(form.cleaned_data["on"])
        try:
            services.preferences_set(actor=acting_user(request), off=off)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Your notification preferences are saved.")
            return redirect("notify:preferences")
    return render(
        request,
        "notify/preferences.html",
        {"form": form, "essential": [row for row in rows if row["essential"]]},
    )
