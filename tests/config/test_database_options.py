"""The options of Levelset's PostgreSQL connections that change what a request sends: a
form's choices are read in one statement, not through a server-side cursor (DECLARE, FETCH and
CLOSE, held open past the transaction, and refused behind a transaction-pooling PgBouncer)."""

from __future__ import annotations

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Team
from tests.factories import TeamFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


class TeamPicker(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"))


def test_a_pickers_choices_are_one_plain_select() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for name in ("Payments", "Search", "Growth"):
        TeamFactory(name=name)
    with CaptureQueriesContext(connection) as queries:
        html = str(TeamPicker()["team"])
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"]
    assert html.index(">Growth<") < html.index(">Payments<") < html.index(">Search<")
