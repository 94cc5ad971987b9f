"""The audit log page's filters are pickers from small sources: actions named by what they do,
grouped by area (the registry), the kinds of target there are (the code), a search of people as
you type, calendar days; a day out of range is refused beside its field."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from people.services import team_create

pytestmark = pytest.mark.django_db


def test_hr_filters_the_log_with_pickers(hr: Any) -> None:
    team_create(actor=hr, slug="payments", name="Payments")
    client = Client()
    client.force_login(hr)
    page = client.get("/audit/").content.decode()
    assert '<optgroup label="People">' in page
    assert '<option value="people.team.created">Created a team</option>' in page
    assert '<option value="people.team">' in page  # the target type picker's list
    assert 'list="people"' in page and 'hx-get="/audit/people/"' in page  # the person search
    assert 'type="date"' in page
    found = client.get("/audit/people/", {"actor": "harr"}).content.decode()
    assert found == f'<option value="hr-harriet">{hr.get_full_name()}</option>\n'

    today = timezone.localdate()
    found = client.get("/audit/", {"since": today.isoformat(), "until": today.isoformat()})
    assert "Created a team" in found.content.decode()
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert "No event matches." in client.get("/audit/", {"since": tomorrow}).content.decode()
    refused = client.get("/audit/", {"since": "0001-01-01"})
    assert refused.status_code == 400
    assert "must be between 1970-01-01 and 2100-12-31" in refused.content.decode()
