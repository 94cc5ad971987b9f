"""The notifications page writes its rows in Python: each must be the row the page's template
loop wrote, character for character (read or unread, markup and line breaks in the text). A
long list is counted only a few pages ahead, and says so."""

# ruff: noqa: E501 (the template is quoted as it was written, one row a line)
from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client

from notify import views
from notify.models import Notification
from tests.notify.conftest import tell_news
from tests.notify.kinds import NEWS

pytestmark = pytest.mark.django_db

# The rows as the page's template wrote them before.
TEMPLATE = Template(
    """{% for n in page %}
      <tr id="notification-{{ n.pk }}"{% if n.is_unread %} class="unread"{% endif %}>
        <td>{% if n.is_unread %}<span class="badge status-draft">Unread</span>{% else %}<span class="badge">Read</span>{% endif %}</td>
        <td>{% if n.is_unread %}<strong>{{ n.title }}</strong>{% else %}{{ n.title }}{% endif %}
          <br>{{ n.body|linebreaksbr }}
          <br><a href="{% url 'notify:open' n.pk %}">{{ n.action }}<span class="visually-hidden"> ({{ n.title }})</span></a>
          <br><span class="muted">{{ n.kind_label }}</span></td>
        <td class="nowrap">{{ n.created_at|date:"j M Y H:i" }}</td>
      </tr>
    {% endfor %}"""
)


def test_rows_are_the_rows_the_template_wrote(engineer: Any) -> None:
    tell_news([engineer], key="plain", title="Plain news")
    tell_news([engineer], key="odd", title="<b>Bold</b> & 'quoted'")
    odd = Notification.objects.get(key="odd")
    odd.body = "First line\nsecond <i>line</i> & more\r\nthird"
    odd.read_at = odd.created_at
    odd.save()
    notifications = list(Notification.objects.filter(recipient=engineer).order_by("pk"))
    expected = TEMPLATE.render(Context({"page": notifications}))
    assert "".join(views.notification_row(n) for n in notifications) == expected
    assert "&lt;b&gt;Bold&lt;/b&gt;" in views.notification_row(notifications[1])


def test_a_long_list_is_counted_a_few_pages_ahead(
    engineer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PER_PAGE", 1)
    Notification.objects.bulk_create(
        Notification(
            recipient=engineer,
            kind=NEWS,
            key=f"k{i}",
            title=f"t{i}",
            body="b",
            url="/",
            action="Open",
        )
        for i in range(13)
    )
    client = Client()
    client.force_login(engineer)
    first = client.get("/notifications/").content.decode()
    assert "More than 11 notifications, 13 unread." in first  # one page and ten more counted
    assert "Page 1 of more than 11" in first
    last = client.get("/notifications/?page=13").content.decode()
    assert "13 notifications, 13 unread." in last
    assert "Page 13 of 13" in last
