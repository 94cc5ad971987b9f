"""Notifications: what Levelset told a person, in the app and by e-mail, and the kinds each
person switched off."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from notify.registry import MAX_CODE_LENGTH, label

MAX_KEY_LENGTH = 200
MAX_TITLE_LENGTH = 200
MAX_URL_LENGTH = 500
MAX_ACTION_LENGTH = 100


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_recipient(self, user: Any) -> NotificationQuerySet:
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def newest_first(self) -> NotificationQuerySet:
        return self.order_by("-created_at", "-pk")


class Notification(models.Model):
    """One thing Levelset told one person. `key` names the event, so a person is told about
    an event once however often its service runs (a retried request, a reminder task run
    twice)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=MAX_CODE_LENGTH)
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    title = models.CharField(max_length=MAX_TITLE_LENGTH)
    body = models.TextField()
    url = models.CharField(max_length=MAX_URL_LENGTH, help_text="A path on this site.")
    action = models.CharField(max_length=MAX_ACTION_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when a sender claims the e-mail, before it goes out: nobody sends it a second time.
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notify_once_per_event"),
            # A path on this site, never another site's address (the open view redirects there).
            models.CheckConstraint(
                condition=Q(url__startswith="/") & ~Q(url__startswith="//"),
                name="notify_url_is_a_local_path",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notify_recipient_newest"),
            # A person's unread list and the count in every page's navigation.
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notify_recipient_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (to {self.recipient_id})"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def kind_label(self) -> str:
        return label(self.kind)


class OptOut(models.Model):
    """A non-essential kind one person switched off: neither shown nor e-mailed to them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_opt_outs"
    )
    kind = models.CharField(max_length=MAX_CODE_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notify_opt_out_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} switched off {self.kind}"
