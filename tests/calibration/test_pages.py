"""The calibration, process-health and audit pages, through Django's test client: what each
person sees, errors beside the fields of the row's form, versions, locks, and the audit log's
filters and tamper warning."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.tasks import verify_audit_chain
from calibration.models import Adjustment, CalibrationSession, PreRead
from calibration.services import adjustment_make, session_create, session_open
from reviews.models import Review
from reviews.services import (
    cycle_add_engineer,
    rating_set_manager,
    rating_set_overall,
    review_submit_manager,
)
from tests.audit.test_chain import tampering
from tests.calibration.conftest import Calibration, submit_for_calibration
from tests.factories import EngineerFactory, UserFactory
from tests.reviews.conftest import ALL_MIDPOINT, build_org


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_of(cal: Calibration, tail: str = "") -> str:
    return f"/calibration/{cal.session.pk}/{tail}"


def adjust_form_html(html: str, review: Review) -> str:
    """The one row's adjustment form, so assertions see what is beside *its* fields."""
    match = re.search(rf'<form[^>]*id="adjust-{review.pk}".*?</form>', html, re.S)
    assert match, f"no adjustment form for review {review.pk}"
    return match.group(0)


def field_html(form_html: str, name: str) -> str:
    """The `p.field` holding the control called `name` (with the row's prefix)."""
    for block in re.findall(r'<p class="field[^"]*">.*?</p>', form_html, re.S):
        if re.search(rf'name="adjust-\d+-{name}"', block):
            return str(block)
    raise AssertionError(f"no field {name}")


def open_board(cal: Calibration) -> None:
    response = signed_in(cal.facilitator).post(page_of(cal, "open/"))
    assert response.status_code == 302
    cal.session.refresh_from_db()
    assert cal.session.status == CalibrationSession.Status.OPEN


def post_adjustment(client: Client, cal: Calibration, review: Review, **data: Any) -> Any:
    prefix = f"adjust-{review.pk}"
    body = {"review": review.pk}
    defaults = {
        "dimension": "delivery",
        "rating": "5",
        "rationale": "Led the ledger rewrite across two teams",
    }
    for key, value in {**defaults, **data}.items():
        body[f"{prefix}-{key}"] = value
    return client.post(page_of(cal, "adjust/"), body)


def test_list_and_scheduled_session_page(cal: Calibration) -> None:
    facilitator = signed_in(cal.facilitator)
    listing = facilitator.get("/calibration/").content.decode()
    assert "Payments H2" in listing and "Scheduled" in listing
    assert "Process health" not in listing  # HR only
    html = facilitator.get(page_of(cal)).content.decode()
    assert 'id="session-status">Scheduled<' in html
    assert "teams: Payments" in html
    assert "(manager)" in html and "(observer (read-only))" in html
    assert "read-only preview of the reviews in scope" in html
    # The board: Ada's row shows self / board per dimension and her advisory composite.
    assert "Ada Okafor" in html
    ada = re.search(r'<tr id="review-\d+" class="board-row[^"]*".*?</tr>', html, re.S)
    assert ada is not None
    assert 'Composite <span class="badge">advisory</span>' in html
    assert "3 / <strong>4</strong>" in html  # delivery: self 3, manager 4
    assert ">3.25<" in html
    assert 'id="distribution-chart"><svg' in html and 'id="nine-box"' in html
    assert 'id="groups-table"' in html and 'id="skew-table"' in html
    # The facilitator can open it; there is nothing to adjust before it opens.
    assert f'action="/calibration/{cal.session.pk}/open/"' in html
    assert 'class="adjust-form"' not in html
    assert 'id="preread-form"' in html


def test_people_outside_the_session_get_404s(cal: Calibration) -> None:
    review = cal.review(cal.org.engineer)
    for user in (cal.outsider_manager, cal.org.engineer, cal.org.stranger):
        client = signed_in(user)
        assert client.get(page_of(cal)).status_code == 404
        assert client.post(page_of(cal, "open/")).status_code == 404
        preread = {"preread-review": review.pk, "preread-text": "Ledger work was big"}
        assert client.post(page_of(cal, "prereads/"), preread).status_code == 404
        assert post_adjustment(client, cal, review).status_code == 404
        assert "Payments H2" not in client.get("/calibration/").content.decode()
    assert signed_in(cal.facilitator).get("/calibration/999999/").status_code == 404
    cal.session.refresh_from_db()
    assert cal.session.status == CalibrationSession.Status.SCHEDULED
    assert not PreRead.objects.exists() and not Adjustment.objects.exists()


def test_participants_and_observers_see_a_read_only_board(cal: Calibration) -> None:
    open_board(cal)
    manager_html = signed_in(cal.org.manager).get(page_of(cal)).content.decode()
    # The participating manager may change ratings but not run the session: each row offers
    # its form, fetched when opened.
    review = cal.review(cal.org.engineer)
    assert f'hx-get="/calibration/{cal.session.pk}/adjust/{review.pk}/"' in manager_html
    assert 'class="adjust-form"' not in manager_html
    assert "/lock/" not in manager_html and "/close/" not in manager_html
    hr_html = signed_in(cal.org.hr).get(page_of(cal)).content.decode()
    assert 'class="adjust-form"' not in hr_html and 'class="adjust"' not in hr_html
    assert "Open: you see the board read-only." in hr_html
    assert "/lock/" not in hr_html
    # An observer's POST is refused by the service all the same.
    review = cal.review(cal.org.engineer)
    refused = signed_in(cal.org.hr).post(page_of(cal, "lock/"))
    assert refused.status_code == 302
    cal.session.refresh_from_db()
    assert cal.session.status == CalibrationSession.Status.OPEN
    observer = post_adjustment(
        signed_in(cal.org.hr), cal, review, evidence=[review.evidence.get().pk]
    )
    assert observer.status_code == 403
    assert "Only the facilitator and the managers in scope can change ratings" in (
        observer.content.decode()
    )
    assert not Adjustment.objects.exists()


def test_adjustment_errors_are_shown_beside_the_fields_of_that_row(cal: Calibration) -> None:
    open_board(cal)
    review, peer = cal.review(cal.org.engineer), cal.review(cal.org.peer)
    client = signed_in(cal.facilitator)
    response = post_adjustment(client, cal, review, rationale="ok")
    assert response.status_code == 400
    html = response.content.decode()
    form = adjust_form_html(html, review)
    assert "has-error" in field_html(form, "rationale")
    assert "give at least a sentence saying why" in field_html(form, "rationale")
    assert "raising a rating needs evidence of this review tagged to Delivery" in field_html(
        form, "evidence"
    )
    assert "has-error" not in field_html(form, "dimension")
    # What was typed stays; the other row's form is not rendered until it is opened.
    assert re.search(r">\s*ok</textarea>", field_html(form, "rationale"))
    assert f'id="adjust-{peer.pk}"' not in html
    assert re.search(r'<details class="adjust" open>\s*<summary>Adjust a rating for Ada', html)
    # Evidence from another review is not offered, and a forged id is refused beside the field.
    foreign = peer.evidence.get().pk
    forged = post_adjustment(client, cal, review, evidence=[foreign])
    assert forged.status_code == 400
    assert "has-error" in field_html(adjust_form_html(forged.content.decode(), review), "evidence")
    # A review of the cycle that is not on this board: the sentence goes to the top.
    absent = Review.objects.get(cycle=cal.org.cycle, engineer__user=cal.org.manager)
    off_board = post_adjustment(client, cal, absent, counterexample="Not on the board at all")
    assert off_board.status_code == 400
    assert '<li class="error">This review is not on the session&#x27;s board.</li>' in (
        off_board.content.decode()
    )
    assert not Adjustment.objects.exists()


def test_adjustment_with_evidence_changes_the_board(cal: Calibration) -> None:
    open_board(cal)
    review = cal.review(cal.org.engineer)
    evidence = review.evidence.get()
    client = signed_in(cal.org.manager)
    before = client.get(page_of(cal, f"adjust/{review.pk}/")).content.decode()
    assert f'value="{evidence.pk}"' in adjust_form_html(before, review)
    assert evidence.title in adjust_form_html(before, review)
    response = post_adjustment(client, cal, review, evidence=[evidence.pk], version="1")
    assert response.status_code == 302
    assert response["Location"].endswith(
        f"/calibration/{cal.session.pk}/?review={review.pk}#review-{review.pk}"
    )
    adjustment = Adjustment.objects.get()
    assert (adjustment.before, adjustment.after, adjustment.actor) == (4, 5, cal.org.manager)
    assert list(adjustment.evidence.all()) == [evidence]
    html = client.get(page_of(cal)).content.decode()
    assert "Ada Okafor: Delivery 4 → 5." in html
    row = re.search(rf'<tr id="review-{review.pk}" .*?</tr>', html, re.S)
    assert row is not None
    assert '<td class="num composite">3.50</td>' in row.group(0)
    assert '<td class="num pre-composite">3.25</td>' in row.group(0)
    assert "was 4" in row.group(0)
    # The change is listed with who, why and the evidence link.
    changes = re.search(r'id="changes-table".*?</table>', html, re.S)
    assert changes is not None
    assert "Led the ledger rewrite across two teams" in changes.group(0)
    assert evidence.url in changes.group(0)


def test_a_stale_version_is_refused_at_the_top_of_the_form(cal: Calibration) -> None:
    open_board(cal)
    review = cal.review(cal.org.engineer)
    evidence = review.evidence.get().pk
    # The manager changes the rating first; the facilitator's page still holds version 1.
    adjustment_make(
        actor=cal.org.manager,
        session=cal.session,
        review=review,
        dimension_key="delivery",
        rating=5,
        rationale="Led the ledger rewrite across two teams",
        evidence_ids=[evidence],
    )
    client = signed_in(cal.facilitator)
    stale = post_adjustment(client, cal, review, rating="3", evidence=[evidence], version="1")
    assert stale.status_code == 409
    form = adjust_form_html(stale.content.decode(), review)
    top = re.search(r'<div class="error form-error" role="alert">(.*?)</div>', form, re.S)
    assert top is not None
    assert "This review changed since you loaded it (you had version 1, it is now 2)" in top.group(
        1
    )
    # The re-rendered form carries the current version, so the change can be re-applied.
    assert f'name="adjust-{review.pk}-version" value="2"' in form
    assert [a.after for a in Adjustment.objects.all()] == [5]
    again = post_adjustment(client, cal, review, rating="3", evidence=[evidence], version="2")
    assert again.status_code == 302
    assert [a.after for a in Adjustment.objects.order_by("pk")] == [5, 3]


def test_lock_blocks_changes_until_unlocked_and_close_writes_back(cal: Calibration) -> None:
    open_board(cal)
    review = cal.review(cal.org.engineer)
    evidence = review.evidence.get().pk
    client = signed_in(cal.facilitator)
    assert client.post(page_of(cal, "lock/")).status_code == 302
    html = client.get(page_of(cal)).content.decode()
    assert "Session locked" in html and 'id="session-status">Locked<' in html
    assert 'class="adjust-form"' not in html
    assert f'action="/calibration/{cal.session.pk}/unlock/"' in html
    locked = post_adjustment(client, cal, review, evidence=[evidence])
    assert locked.status_code == 409
    form = adjust_form_html(locked.content.decode(), review)
    assert "Cannot change ratings: Payments H2 is locked. Now the facilitator can" in form
    assert not Adjustment.objects.exists()
    # Opening twice is refused with the service's sentence.
    again = client.post(page_of(cal, "open/"), follow=True).content.decode()
    assert "Cannot open the session: Payments H2 is locked" in again
    assert client.post(page_of(cal, "unlock/")).status_code == 302
    assert post_adjustment(client, cal, review, evidence=[evidence]).status_code == 302
    closed = client.post(page_of(cal, "close/"), follow=True).content.decode()
    assert "Session closed" in closed and 'id="session-status">Closed<' in closed
    assert "1 of 2 reviews changed" in closed
    assert 'class="adjust-form"' not in closed and 'id="preread-form"' not in closed
    review.refresh_from_db()
    assert review.state == Review.State.CALIBRATED


def test_prereads_are_added_and_errors_shown_beside_the_text(cal: Calibration) -> None:
    review = cal.review(cal.org.engineer)
    client = signed_in(cal.org.manager)
    empty = client.post(page_of(cal, "prereads/"), {"preread-review": review.pk})
    assert empty.status_code == 400
    block = re.search(r'id="preread-form".*?</form>', empty.content.decode(), re.S)
    assert block is not None and "is required" in block.group(0)
    ok = client.post(
        page_of(cal, "prereads/"),
        {"preread-review": review.pk, "preread-text": "The ledger rewrite unblocked Search"},
        follow=True,
    )
    html = ok.content.decode()
    assert "Pre-read added on Ada Okafor." in html
    assert "The ledger rewrite unblocked Search" in html
    assert PreRead.objects.get().author == cal.org.manager


def test_audit_page_filters_and_follows_one_target(cal: Calibration) -> None:
    open_board(cal)
    review = cal.review(cal.org.engineer)
    adjustment_make(
        actor=cal.facilitator,
        session=cal.session,
        review=review,
        dimension_key="delivery",
        rating=5,
        rationale="Led the ledger rewrite across two teams",
        evidence_ids=[review.evidence.get().pk],
    )
    verify_audit_chain()  # in the background, as celery beat runs it: never on a visit
    hr = signed_in(cal.org.hr)
    html = hr.get("/audit/").content.decode()
    assert "Chain verified." in html
    assert f"OK: {AuditEvent.objects.count()} events, chain intact" in html
    seqs = [int(s) for s in re.findall(r'<tr id="event-(\d+)"', html)]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    assert len(seqs) == min(AuditEvent.objects.count(), 50)
    filtered = hr.get("/audit/?actor=fatima&area=calibration").content.decode()
    rows = re.findall(r'<tr id="event-\d+".*?</tr>', filtered, re.S)
    assert rows and all("<td>fatima</td>" in row for row in rows)
    code = r'<code class="muted">(calibration\.[a-z.]+)</code>'
    assert {re.findall(code, row)[0] for row in rows} == {
        "calibration.session.opened",
        "calibration.adjustment.made",
    }
    # "History of this target" links filter by type and id: the review's life, end to end.
    link = f"?target_type=reviews.review&amp;target_id={review.pk}"
    assert link in html
    history = hr.get(f"/audit/?target_type=reviews.review&target_id={review.pk}")
    text = history.content.decode()
    assert f"History of reviews.review #{review.pk}" in text
    rows = re.findall(r'<tr id="event-\d+".*?</tr>', text, re.S)
    assert rows and all(f"reviews.review:{review.pk}" in row for row in rows)
    actions = re.findall(r'<code class="muted">([a-z_.]+)</code>', text)
    # Newest first: the calibration change, the manager's submission, the self-review.
    story = [
        a
        for a in actions
        if a
        in (
            "calibration.adjustment.made",
            "reviews.review.manager_submitted",
            "reviews.review.self_submitted",
        )
    ]
    assert story == [
        "calibration.adjustment.made",
        "reviews.review.manager_submitted",
        "reviews.review.self_submitted",
    ]


def test_audit_page_shows_tampering(cal: Calibration) -> None:
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET payload = %s WHERE seq = 2", ['{"forged": true}']
        )
    verify_audit_chain()  # the page shows what the last check found
    html = signed_in(cal.org.hr).get("/audit/").content.decode()
    assert "The audit chain is broken: the log was tampered with." in html
    assert "Event #2" in html and "was edited" in html
    assert re.search(r'<tr id="event-2" class="tampered">', html)
    assert "Chain verified." not in html


def test_audit_and_health_pages_are_hr_only(cal: Calibration) -> None:
    cycle = cal.org.cycle.pk
    for user in (cal.facilitator, cal.org.manager, cal.org.engineer, cal.outsider_manager):
        client = signed_in(user)
        assert client.get("/audit/").status_code == 404
        assert client.get(f"/calibration/cycles/{cycle}/health/").status_code == 404
    hr = signed_in(cal.org.hr)
    assert hr.get("/audit/").status_code == 200
    assert hr.get("/calibration/cycles/999999/health/").status_code == 404
    # The nav shows each link only to those who can use it.
    assert 'href="/audit/"' in hr.get("/calibration/").content.decode()
    assert 'href="/audit/"' not in signed_in(cal.facilitator).get("/calibration/").content.decode()
    assert (
        'href="/calibration/"' not in signed_in(cal.org.engineer).get("/reviews/").content.decode()
    )


def test_health_page_is_readable(cal: Calibration) -> None:
    open_board(cal)
    review = cal.review(cal.org.engineer)
    adjustment_make(
        actor=cal.facilitator,
        session=cal.session,
        review=review,
        dimension_key="delivery",
        rating=5,
        rationale="Led the ledger rewrite across two teams",
        evidence_ids=[review.evidence.get().pk],
    )
    hr = signed_in(cal.org.hr)
    listing = hr.get("/calibration/").content.decode()
    url = f"/calibration/cycles/{cal.org.cycle.pk}/health/"
    assert f'href="{url}"' in listing
    html = hr.get(url).content.decode()
    assert 'id="completion-chart"><svg' in html
    assert '<td>Self-review</td><td class="num">50%</td>' in html  # 2 of 4 submitted
    assert '<span class="value" id="changes">1</span>' in html
    assert '<span class="value" id="evidence-share">100%</span>' in html
    assert "Payments H2" in html and "advisory" in html
    assert "Upheld (rating kept)" in html


@pytest.fixture
def two_boards(published: Any, hr: Any) -> tuple[CalibrationSession, CalibrationSession, Any]:
    """Two open boards in one cycle: L3 (one review) and L4 (eleven reviews)."""
    org = build_org(published, hr)
    team = org.review(org.engineer).team
    users = [org.engineer, org.peer]
    for _ in range(10):
        joiner = EngineerFactory(team=team, manager=org.manager, level_code="L4")
        cycle_add_engineer(actor=hr, cycle=org.cycle, engineer=joiner)
        users.append(joiner.user)
    for user in users:
        submit_for_calibration(org, user)
    org.advance("manager_review")
    for user in users:
        review = org.review(user)
        rating_set_manager(actor=org.manager, review=review, ratings=ALL_MIDPOINT)
        rating_set_overall(actor=org.manager, review=review, overall=3, growth=3)
        review_submit_manager(actor=org.manager, review=review)
    facilitator = UserFactory(roles=["facilitator"])
    sessions = []
    for name, level in (("Small", "L3"), ("Large", "L4")):
        session = session_create(
            actor=hr, cycle=org.cycle, name=name, facilitator=facilitator, levels=[level]
        )
        sessions.append(session_open(actor=facilitator, session=session))
    return sessions[0], sessions[1], facilitator


def test_board_page_queries_do_not_grow_with_the_board(two_boards: Any) -> None:
    small, large, facilitator = two_boards
    assert small.board.count() == 1 and large.board.count() == 11
    counts = []
    for session in (small, large):
        client = signed_in(facilitator)
        client.get("/calibration/")  # warm the session and role caches alike
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/calibration/{session.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert html.count('<details class="adjust" hx-get=') == session.board.count()
        assert 'class="adjust-form"' not in html
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_a_rows_form_is_fetched_when_opened_and_works_without_javascript(cal: Calibration) -> None:
    open_board(cal)
    review = cal.review(cal.org.engineer)
    url = page_of(cal, f"adjust/{review.pk}/")
    facilitator = signed_in(cal.facilitator)
    fragment = facilitator.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert html.startswith("<form") and f'id="adjust-{review.pk}"' in html
    assert f'name="adjust-{review.pk}-version" value="1"' in html
    assert review.evidence.get().title in html  # the evidence picker holds this review's items
    page = facilitator.get(url).content.decode()  # no JavaScript: a page of its own
    assert "<h1>Adjust a rating for Ada Okafor</h1>" in page and 'class="adjust-form"' in page
    # Someone who reads the board but may not change it, and a review not on it: 404.
    assert signed_in(cal.org.hr).get(url).status_code == 404
    assert facilitator.get(page_of(cal, "adjust/999999/")).status_code == 404
    assert signed_in(cal.outsider_manager).get(url).status_code == 404


def test_a_long_board_is_shown_a_page_at_a_time(
    two_boards: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows in pages (the charts cover the whole board); a named review opens its page, as an
    adjustment or a pre-read sends the person back to it."""
    monkeypatch.setattr("calibration.views.BOARD_PER_PAGE", 4)
    _, large, facilitator = two_boards
    client = signed_in(facilitator)
    url = f"/calibration/{large.pk}/"
    order = re.findall(r'<tr id="review-(\d+)" class="board-row', _all_rows(client, url))
    assert len(order) == 11

    first = client.get(url).content.decode()
    assert re.findall(r'<tr id="review-(\d+)" class="board-row', first) == order[:4]
    assert "Rows 1–4 of 11" in first and "Page 1 of 3" in first
    assert first.count('<option value="') == 1 + 4  # the pre-read form: "Choose…", this page
    assert '<td>3</td><td class="num">11</td>' in first  # the distribution: the whole board

    third = client.get(f"{url}?page=3").content.decode()
    assert re.findall(r'<tr id="review-(\d+)" class="board-row', third) == order[8:]
    named = client.get(f"{url}?review={order[9]}").content.decode()
    assert re.findall(r'<tr id="review-(\d+)" class="board-row', named) == order[8:]


def _all_rows(client: Any, url: str) -> str:
    return "".join(client.get(f"{url}?page={n}").content.decode() for n in (1, 2, 3))
