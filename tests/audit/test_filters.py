"""The audit log's filters, on the page and in the API: what each finds, and that each is
read from an index that ends in the event number, in order (no sort, no scan of the log), so
a page of matches costs the same at a million events as at a hundred."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any
from unittest.mock import ANY

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.api import AuditEventSerializer
from audit.models import AuditEvent
from audit.selectors import people_matching
from audit.services import record
from bench.audit import append_events
from core.actors import system_actor
from people.services import team_create
from tests.audit.actions import TEST_EVENT
from tests.audit.test_pagination import REVIEWS_CODE, grow_log, page_client
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table

# Each filter, and the index that must serve it.
INDEXED = {
    "actor": ({"actor": "eng-otto"}, "audit_event_actor_seq"),
    "area": ({"area": "calibration"}, "audit_event_area_seq"),
    "action": ({"action": REVIEWS_CODE}, "audit_event_action_seq"),
    "target type": ({"target_type": "bench.note"}, "audit_event_type_seq"),
    "target": ({"target_type": "bench.note", "target_id": "3"}, "audit_event_target_seq"),
    "since": ({"since": "2020-01-01"}, "audit_event_created_seq"),
    "until": ({"until": "2099-12-31"}, "audit_event_created_seq"),
}


def _plan(sql: str, params: Any) -> str:
    """How the database would run a query: SQLite's plan as it stands; PostgreSQL's with
    scans of the whole table and sorts priced out, so the plan shows whether an index can
    serve the query in order at all (on a table this small it would otherwise just scan)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off; SET enable_sort = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan; RESET enable_sort")
            return plan
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[-1] for row in cursor.fetchall())


def _event_reads(get: Any, url: str) -> list[str]:
    """The queries a read ran that fetch events (their payloads), as run (values inlined)."""
    with CaptureQueriesContext(connection) as seen:
        assert get(url).status_code == 200
    return [
        q["sql"]
        for q in seen.captured_queries
        if f'FROM "{TABLE}"' in q["sql"] and '"payload"' in q["sql"]
    ]


@pytest.mark.parametrize("where", ["page", "api"])
@pytest.mark.parametrize("name", INDEXED)
def test_each_filter_reads_its_index_in_order(hr: Any, name: str, where: str) -> None:
    grow_log(hr, 200)
    query, index = INDEXED[name]
    if where == "page":
        get: Any = page_client(hr).get
        url = "/audit/?" + "&".join(f"{k}={v}" for k, v in query.items())
    else:
        get = client_for(hr).get
        query = {k: (f"{v}T00:00Z" if k in ("since", "until") else v) for k, v in query.items()}
        url = "/api/audit/events/?" + "&".join(f"{k}={v}" for k, v in query.items())
    reads = _event_reads(get, url)
    assert len(reads) == 1, reads
    plan = _plan(reads[0], None)
    assert index in plan, plan
    if connection.vendor == "postgresql":
        assert "Sort" not in plan and "Seq Scan" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan
        # Every read of the table goes through an index: none walks the table itself.
        assert not re.search(rf"SCAN {TABLE}(?! USING)", plan), plan


def _unique_index_on_seq() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # its name for an inline UNIQUE's index
            cursor.execute(
                "SELECT il.name FROM pragma_index_list(%s) il, pragma_index_info(il.name) ii "
                "WHERE il.[unique] AND ii.name = 'seq'",
                [TABLE],
            )
            return str(cursor.fetchone()[0])
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    (name,) = [n for n, c in constraints.items() if c["columns"] == ["seq"] and c["unique"]]
    return name


def test_the_newest_page_and_older_pages_read_the_number_index(hr: Any) -> None:
    grow_log(hr, 200)
    for url in ("/audit/", "/audit/?before=90", "/audit/?after=90", "/api/audit/events/"):
        get = client_for(hr).get if url.startswith("/api/") else page_client(hr).get
        sql, *_ = _event_reads(get, url)
        plan = _plan(sql, None)
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
        assert _unique_index_on_seq() in plan, plan


def test_an_area_holds_every_action_of_it_even_one_retired_since(hr: Any) -> None:
    append_events(actor=hr, count=3, codes=["calibration.session.opened", "calibration.old.gone"])
    append_events(actor=hr, count=1, codes=["reviews.review.self_submitted"])
    found = client_for(hr).get("/api/audit/events/", {"area": "calibration"}).json()["results"]
    assert [e["action"] for e in found] == [
        "calibration.old.gone",
        "calibration.session.opened",
        "calibration.old.gone",
    ]
    # A retired code reads as itself; an area nobody declared is refused.
    assert found[0]["sentence"] == "calibration old gone"
    refused = client_for(hr).get("/api/audit/events/", {"area": "calibrat"})
    assert refused.status_code == 400 and "area" in refused.json()["errors"]


def test_days_on_the_page_and_moments_in_the_api_bound_when_events_were_written(
    hr: Any,
) -> None:
    first = record(actor=hr, action=TEST_EVENT, target_type="test", target_id=1)
    second = record(actor=hr, action=TEST_EVENT, target_type="test", target_id=2)
    api = client_for(hr)

    def seqs(**query: str) -> list[int]:
        return [e["seq"] for e in api.get("/api/audit/events/", query).json()["results"]]

    moment = second.created_at.isoformat()
    assert seqs(since=moment) == [second.seq]  # at or after
    assert seqs(until=moment) == [first.seq]  # before
    assert seqs(since=first.created_at.isoformat(), until=moment) == [first.seq]
    later = (second.created_at + datetime.timedelta(seconds=1)).isoformat()
    assert seqs(since=later) == []
    assert seqs(until=later) == [second.seq, first.seq]

    page = page_client(hr)
    today = timezone.localdate()
    yesterday, tomorrow = today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)

    def rows(**query: Any) -> list[int]:
        html = page.get("/audit/", query).content.decode()
        return [int(n) for n in re.findall(r'<tr id="event-(\d+)"', html)]

    assert rows(since=today, until=today) == [second.seq, first.seq]
    assert rows(until=yesterday) == [] and rows(since=tomorrow) == []


def test_a_target_id_needs_its_type(hr: Any) -> None:
    refused = client_for(hr).get("/api/audit/events/", {"target_id": "7"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "target_id": ["needs target_type: an id names a target of one type"]
    }
    page = page_client(hr).get("/audit/", {"target_id": "7"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "needs target_type: an id names a target of one type" in html
    assert "Correct the filter above to see the events it matches." in html


def test_the_person_search_finds_people_not_the_log(
    hr: Any, engineer: Any, django_assert_num_queries: Any
) -> None:
    # Named here: the fixtures' random names (an HR "Adam", say) would match the searches.
    for person, first, last in ((hr, "Harriet", "Hughes"), (engineer, "Eng", "Okafor")):
        person.first_name, person.last_name = first, last
        person.save(update_fields=["first_name", "last_name"])
    UserFactory(username="ada-lovelace", first_name="Ada", last_name="Lovelace")
    UserFactory(username="alan", first_name="Alan", last_name="Turing")
    system_actor()
    assert people_matching("lovelace") == [("ada-lovelace", "Ada Lovelace")]
    assert people_matching("ada") == [("ada-lovelace", "Ada Lovelace"), ("eng-ada", ANY)]
    assert people_matching("ALAN tur") == [("alan", "Alan Turing")]
    assert people_matching("levelset") == [("system", "Levelset (system)")]
    assert people_matching("  ") == []
    for i in range(12):
        UserFactory(username=f"zed{i:02d}", first_name="Zed", last_name=f"{i}")
    assert len(people_matching("zed")) == 10
    client = page_client(hr)
    client.get("/audit/people/", {"actor": "lovelace"})
    # User, roles (the session from the cache), the people: however long the log.
    with django_assert_num_queries(3):
        html = client.get("/audit/people/", {"actor": "lovelace"}).content.decode()
    assert html == '<option value="ada-lovelace">Ada Lovelace</option>\n'
    assert page_client(engineer).get("/audit/people/", {"actor": "ada"}).status_code == 404


def test_the_page_offers_the_kinds_of_target_from_the_code(hr: Any) -> None:
    team_create(actor=hr, slug="payments", name="Payments")
    html = page_client(hr).get("/audit/").content.decode()
    types = re.search(r'<datalist id="target-types">(.*?)</datalist>', html, re.S)
    assert types is not None
    offered = re.findall(r'<option value="([^"]+)">', types.group(1))
    assert {"people.team", "reviews.review", "calibration.adjustment", "auth.user"} <= set(offered)
    assert not any(t.startswith(("admin.", "sessions.", "knox.")) for t in offered)
    # A kind of target no model names is typed in, and filters all the same.
    record(actor=hr, action=TEST_EVENT, target_type="organisation", target_id="acme")
    found = page_client(hr).get("/audit/", {"target_type": "organisation"}).content.decode()
    assert "<code>organisation:acme</code>" in found


def test_the_api_gives_what_its_fields_describe(hr: Any) -> None:
    record(
        actor=hr,
        action=TEST_EVENT,
        target_type="test",
        target_id=3,
        payload={"before": {"n": 1}, "note": "ü"},
    )
    event = AuditEvent.objects.get()
    serializer = AuditEventSerializer()
    by_fields = {
        name: field.to_representation(field.get_attribute(event))
        for name, field in serializer.fields.items()
        if name != "sentence"
    }
    by_fields["sentence"] = serializer.get_sentence(event)
    given = serializer.to_representation(event)
    assert given == by_fields
    assert list(given) == list(serializer.fields)
    assert json.loads(json.dumps(given))["payload"] == {"before": {"n": 1}, "note": "ü"}


def test_the_admin_filters_by_area_from_the_registry(hr: Any) -> None:
    grow_log(hr, 30)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = page_client(admin)
    with CaptureQueriesContext(connection) as seen:
        response = client.get("/admin/audit/auditevent/", {"area": "calibration"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "?area=reviews" in html  # the registry's areas
    shown = set(re.findall(r'<td class="field-action">([^<]+)</td>', html))
    assert shown == {"calibration.adjustment.made"}
    assert not any("DISTINCT" in q["sql"] for q in seen.captured_queries)
