"""Promotion cases: built from existing evidence, submitted, decided; who sees what."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from audit.models import AuditEvent
from promotions.models import PromotionCase
from promotions.services import case_nominate
from reviews.models import Evidence, Review
from reviews.services import cycle_create, cycle_open, evidence_add
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.reviews.conftest import Org, build_org


@pytest.fixture
def promo(published: Any, hr: Any) -> dict[str, Any]:
    org: Org = build_org(published, hr)
    earlier = cycle_create(
        actor=hr,
        name="2026 H1",
        rubric_version=published,
        self_review_ends=datetime.date(2026, 5, 1),
        manager_review_ends=datetime.date(2026, 5, 15),
        calibration_ends=datetime.date(2026, 5, 29),
        finalisation_ends=datetime.date(2026, 6, 12),
    )
    earlier = cycle_open(actor=hr, cycle=earlier)
    old = Review.objects.get(cycle=earlier, engineer__user=org.engineer)
    old_item = evidence_add(
        actor=org.engineer,
        review=old,
        url="https://wiki.acme.io/postmortems/h1",
        title="H1 outage postmortem",
        dimensions=["reliability"],
    )
    new = org.review(org.engineer)
    new_items = [
        evidence_add(
            actor=org.engineer,
            review=new,
            url=f"https://github.com/acme/pay/pull/{n}",
            title=f"Ledger PR {n}",
            dimensions=["delivery", "scope"],
        )
        for n in (1, 2)
    ]
    committee = UserFactory(username="committee-chair", roles=["committee"])
    return {"org": org, "old": old_item, "new": new_items, "committee": committee}


def nominate(promo: dict[str, Any]) -> Any:
    org = promo["org"]
    response = client_for(org.manager).post(
        "/api/promotions/",
        {"engineer": org.engineer.engineer.pk, "cycle": org.cycle.pk, "target_level": "L5"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_only_the_manager_nominates_for_a_higher_level(promo: dict[str, Any]) -> None:
    org = promo["org"]
    engineer = org.engineer.engineer
    for user in (org.director, org.engineer, org.hr):
        with pytest.raises(Exception, match="Only the engineer's manager"):
            case_nominate(actor=user, engineer=engineer, cycle=org.cycle, target_level="L5")
    bad = client_for(org.manager).post(
        "/api/promotions/",
        {"engineer": engineer.pk, "cycle": org.cycle.pk, "target_level": "L3"},
        format="json",
    )
    assert (
        bad.status_code == 400
        and "above the current level L4" in bad.json()["errors"]["target_level"][0]
    )
    case = nominate(promo)
    assert (case["current_level"], case["target_level"], case["status"]) == ("L4", "L5", "draft")
    assert [a["axis"] for a in case["axes"]] == ["scope", "complexity", "consistency"]


def test_submission_needs_evidence_everywhere_and_two_periods_for_consistency(
    promo: dict[str, Any],
) -> None:
    org = promo["org"]
    case = nominate(promo)
    client = client_for(org.manager)
    base = f"/api/promotions/{case['id']}"
    new_ids = [e.pk for e in promo["new"]]
    for axis in ("scope", "complexity"):
        ok = client.put(
            f"{base}/axes/{axis}/",
            {
                "rating": 4,
                "narrative": f"**{axis}**: led the ledger rewrite across two teams.",
                "evidence": new_ids,
            },
            format="json",
        )
        assert ok.status_code == 200, ok.json()
    client.put(
        f"{base}/axes/consistency/",
        {"rating": 4, "narrative": "Delivered steadily all year long.", "evidence": new_ids},
        format="json",
    )
    refused = client.post(f"{base}/submit/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "axes.consistency": [
            "Consistency needs distinct evidence from at least two review periods"
        ],
        "committee": ["name at least one member"],
    }
    foreign = Evidence.objects.exclude(review__engineer__user=org.engineer).first()
    if foreign is not None:
        bad = client.put(f"{base}/axes/consistency/", {"evidence": [foreign.pk]}, format="json")
        assert bad.status_code == 400
    client.put(
        f"{base}/axes/consistency/", {"evidence": [*new_ids, promo["old"].pk]}, format="json"
    )
    submitted = client.post(f"{base}/submit/", {"committee": ["committee-chair"]}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert client.put(f"{base}/axes/scope/", {"rating": 5}, format="json").status_code == 409
    scope = submitted.json()["axes"][0]
    assert scope["narrative_html"].startswith("<p><strong>scope</strong>")


def test_narratives_are_sanitised(promo: dict[str, Any]) -> None:
    case = nominate(promo)
    client = client_for(promo["org"].manager)
    body = client.put(
        f"/api/promotions/{case['id']}/axes/scope/",
        {"narrative": "<script>alert(1)</script> [x](javascript:alert(1)) <b onclick=x>hi</b>"},
        format="json",
    ).json()
    html = body["axes"][0]["narrative_html"]
    # Raw HTML is never passed through: it arrives as escaped text, and no link is made.
    assert "<script" not in html and "<b " not in html and "<a " not in html
    assert "&lt;script&gt;" in html


def decided_case(promo: dict[str, Any]) -> Any:
    org = promo["org"]
    case = PromotionCase.objects.get(pk=nominate(promo)["id"])
    client = client_for(org.manager)
    ids = [e.pk for e in promo["new"]] + [promo["old"].pk]
    for axis in ("scope", "complexity", "consistency"):
        client.put(
            f"/api/promotions/{case.pk}/axes/{axis}/",
            {"rating": 4, "narrative": "Led the ledger rewrite across two teams.", "evidence": ids},
            format="json",
        )
    client.post(
        f"/api/promotions/{case.pk}/submit/", {"committee": ["committee-chair"]}, format="json"
    )
    return case


def test_committee_decides_and_the_engineer_then_sees_it(promo: dict[str, Any]) -> None:
    org = promo["org"]
    case = decided_case(promo)
    engineer = client_for(org.engineer)
    assert engineer.get(f"/api/promotions/{case.pk}/").status_code == 404
    assert client_for(org.peer).get(f"/api/promotions/{case.pk}/").status_code == 404
    assert (
        client_for(org.manager)
        .post(
            f"/api/promotions/{case.pk}/decide/",
            {"outcome": "promoted", "feedback": "Clear staff-level scope"},
            format="json",
        )
        .status_code
        == 403
    )
    short = client_for(promo["committee"]).post(
        f"/api/promotions/{case.pk}/decide/",
        {"outcome": "promoted", "feedback": "ok"},
        format="json",
    )
    assert short.status_code == 400 and "feedback" in short.json()["errors"]
    done = client_for(promo["committee"]).post(
        f"/api/promotions/{case.pk}/decide/",
        {"outcome": "promoted", "feedback": "Clear staff-level scope across two teams."},
        format="json",
    )
    assert done.status_code == 200 and done.json()["outcome"] == "promoted"
    mine = engineer.get(f"/api/promotions/{case.pk}/")
    assert mine.status_code == 200 and mine.json()["feedback"].startswith("Clear staff-level")
    actions = list(
        AuditEvent.objects.filter(target_type="promotions.promotioncase").values_list(
            "action", flat=True
        )
    )
    assert actions[0] == "promotions.case.nominated"
    assert actions[-2:] == ["promotions.case.submitted", "promotions.case.decided"]


def test_case_page_exports_with_progress_and_download(
    promo: dict[str, Any], settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Without Redis the export runs eagerly: the progress fragment comes back done."""
    from django.test import Client

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("the eager path; the real-worker path is in tests/test_packet_worker.py")
    settings.MEDIA_ROOT = tmp_path
    case = decided_case(promo)
    client = Client()
    client.force_login(promo["org"].manager)
    page = client.get(f"/promotions/{case.pk}/").content.decode()
    assert 'id="export-button"' in page and 'id="axis-consistency"' in page
    with django_capture_on_commit_callbacks(execute=True):
        fragment = client.post(f"/promotions/{case.pk}/export/").content.decode()
    assert "Packet export: Queued" in fragment and 'hx-trigger="every 1s"' in fragment
    job_url = re.search(r'hx-get="(/promotions/jobs/[^"]+)"', fragment).group(1)
    done = client.get(job_url).content.decode()
    assert "Packet export: Done" in done and 'id="packet-download"' in done
    assert "every 1s" not in done  # polling stops once the packet is ready
    download = client.get(f"/api/promotions/{case.pk}/packet.pdf")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    etag = download["ETag"]
    assert (
        client.get(f"/api/promotions/{case.pk}/packet.pdf", HTTP_IF_NONE_MATCH=etag).status_code
        == 304
    )
    assert (
        client_for(promo["org"].peer).get(f"/api/promotions/{case.pk}/packet.pdf").status_code
        == 404
    )
    assert AuditEvent.objects.filter(action="promotions.packet.downloaded").count() == 1
