"""E-mail for notifications: one multipart message (plain text and HTML) per notification,
sent at most once.

A sender claims a notification (sets `emailed_at` where it is still empty) before sending it,
so a second run, a retried task or two workers given the same ids never send it twice. The
price is that a worker killed between the claim and the send loses that one e-mail; the
notification itself is still in the person's list.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notify import registry
from notify.models import Notification, OptOut

logger = logging.getLogger(__name__)

# Seconds an SMTP server may take to answer, unless EMAIL_TIMEOUT says otherwise: a stuck
# server must not hold a worker past its time limit.
DEFAULT_SMTP_TIMEOUT = 10
# How many unsent e-mails one sweep picks up (the next sweep takes the rest).
SWEEP_LIMIT = 5_000


def absolute(path: str) -> str:
    """A site path as a link that works from a mail client."""
    return settings.LEVELSET_BASE_URL.rstrip("/") + path


def message_for(notification: Notification) -> EmailMultiAlternatives:
    declared = registry.get(notification.kind)
    context = {
        "notification": notification,
        "name": notification.recipient.get_full_name() or notification.recipient.get_username(),
        "link": absolute(notification.url),
        "preferences_link": absolute(reverse("notify:preferences")),
        "essential": declared is not None and declared.essential,
        "kind_label": registry.label(notification.kind),
    }
    message = EmailMultiAlternatives(
        # A header holds one line.
        subject=" ".join(notification.title.split()),
        body=render_to_string("notify/email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("notify/email.html", context), "text/html")
    return message


@dataclass
class Outcome:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # no address, inactive, switched off
    unreached: list[int] = field(default_factory=list)  # left for the next run (time is up)


def _claim(pk: int) -> bool:
    """Take the notification for this sender; False when another run already has it."""
    return bool(
        Notification.objects.filter(pk=pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
    )


def _release(pk: int) -> None:
    Notification.objects.filter(pk=pk).update(emailed_at=None)


def send(notification_ids: Sequence[int], *, deadline: float | None = None) -> Outcome:
    """E-mail each notification not yet e-mailed, until `deadline` (time.monotonic()).

    A recipient without an e-mail address, no longer active, or who has since switched the
    kind off is skipped. An SMTP failure releases the notification being sent and is raised,
    so the caller can retry: what was sent stays sent.
    """
    outcome = Outcome()
    pending = list(
        Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
        .select_related("recipient")
        .order_by("pk")
    )
    if not pending:
        return outcome
    switched_off = set(
        OptOut.objects.filter(
            user_id__in={n.recipient_id for n in pending}, kind__in={n.kind for n in pending}
        ).values_list("user_id", "kind")
    )
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT or DEFAULT_SMTP_TIMEOUT)
    opened = False
    try:
        for index, notification in enumerate(pending):
            # At least one each run, so a run always makes progress however short its time.
            if index and deadline is not None and time.monotonic() > deadline:
                outcome.unreached = [n.pk for n in pending[index:]]
                break
            recipient = notification.recipient
            declared = registry.get(notification.kind)
            essential = declared is not None and declared.essential
            if (
                not recipient.email
                or not recipient.is_active
                or (not essential and (recipient.pk, notification.kind) in switched_off)
            ):
                outcome.skipped.append(notification.pk)
                continue
            message = message_for(notification)  # rendered before the claim: a bad template
            if not _claim(notification.pk):  # claims nothing
                continue
            try:
                if not opened:
                    connection.open()
                    opened = True
                connection.send_messages([message])
            except smtplib.SMTPRecipientsRefused:
                # This address is refused for good; the others still go out.
                logger.warning("The mail server refused %s", recipient.email)
                outcome.skipped.append(notification.pk)
                continue
            except BaseException:
                _release(notification.pk)
                raise
            outcome.sent.append(notification.pk)
    finally:
        if opened:
            connection.close()
    return outcome


def unsent_ids(*, since: datetime.datetime, before: datetime.datetime) -> list[int]:
    """Notifications created in [since, before) whose e-mail has not gone out (the broker or
    the mail server was down when they were made), to people it can still go to."""
    return list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__gte=since,
            created_at__lt=before,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
