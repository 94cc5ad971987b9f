"""The promotion packet: what the PDF holds (text, links, metadata, outline, a page that is
not blank), that rendering fetches nothing but the project's static files, and that the HTML
is the same for an unchanged case (packets are stored by the hash of their HTML)."""

from __future__ import annotations

import datetime
import hashlib
import io
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib import request

import pytest
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader
from weasyprint.urls import URLFetcher

from calibration.services import adjustment_make, session_close, session_open
from core.markdown import render_markdown
from promotions import packets
from promotions import services as promotions_services
from promotions.models import PromotionCase, ReadinessAxis
from promotions.packets import (
    RefusedURL,
    StaticOnlyURLFetcher,
    packet_context,
    render_packet_html,
    render_packet_pdf,
    safe_url_fetcher,
)
from reviews.models import DimensionRating, Evidence, Review, ReviewCycle, ScoreSnapshot
from reviews.services import review_finalize
from tests.calibration.conftest import Calibration
from tests.reviews.conftest import build_org

METADATA_URL = "http://169.254.169.254/latest/meta-data/"

# (title, kind, url, occurred_on, dimensions, contribution)
EARLIER = [
    (
        "Payouts retry queue design doc",
        "design_doc",
        "https://docs.acme.example/design/payouts-retry-queue",
        datetime.date(2026, 2, 12),
        ["technical_quality", "scope"],
        "Wrote the design and ran the review with the ledger and risk teams.",
    ),
    (
        "Postmortem: duplicate payouts on 3 March",
        "postmortem",
        "https://wiki.acme.example/postmortems/2026-03-03-duplicate-payouts",
        datetime.date(2026, 3, 9),
        ["reliability"],
        "Led the blameless review; four of five follow-ups closed within the half.",
    ),
    (
        "Idempotency keys for the payouts API",
        "pull_request",
        "https://github.com/acme/payouts/pull/1412",
        datetime.date(2026, 4, 2),
        ["delivery", "reliability"],
        "",
    ),
    (
        "Mentoring plan for two new backend hires",
        "mentoring",
        "https://wiki.acme.example/teams/payments/onboarding-2026",
        datetime.date(2026, 4, 20),
        ["mentoring"],
        "Paired weekly for eight weeks; both now own services on call.",
    ),
]
LATER = [
    (
        "Ledger service rewrite, phase one",
        "release",
        "https://github.com/acme/ledger/releases/tag/v2.0.0",
        datetime.date(2026, 8, 28),
        ["delivery", "technical_quality"],
        "Shipped behind a flag in six increments with no customer-visible incident.",
    ),
    (
        "RFC 31: double-entry invariants enforced in the database",
        "rfc",
        "https://github.com/acme/rfcs/blob/main/rfcs/0031-double-entry.md",
        datetime.date(2026, 7, 14),
        ["technical_quality", "collaboration", "scope"],
        "Built agreement between payments, finance engineering and data.",
    ),
    (
        "Settlement latency dashboard and SLO alerts",
        "observability",
        "https://grafana.acme.example/d/settlement-latency",
        datetime.date(2026, 9, 5),
        ["reliability"],
        "",
    ),
    (
        "Incident follow-up: reconcile job time-outs",
        "incident_followup",
        "https://linear.app/acme/issue/PAY-2231/reconcile-timeouts",
        datetime.date(2026, 9, 19),
        ["reliability", "delivery"],
        "Cut the nightly reconcile from 3 h 40 min to 25 min.",
    ),
    (
        "Cross-team migration plan for ledger consumers",
        "design_doc",
        "https://docs.acme.example/design/ledger-consumer-migration",
        datetime.date(2026, 10, 3),
        ["collaboration", "scope"],
        "Sequenced seven consuming teams; three migrated by the end of the half.",
    ),
]

SUMMARY = """Ada has led the **ledger rewrite** from design to the first production phase and
now sets the technical direction for money movement across three teams.

- Owns an ambiguous, cross-team problem and frames it for others.
- Raised reliability beyond her own services (settlement SLOs, reconcile follow-ups).
- Grew two new hires into on-call owners.

We propose **L5 Staff Engineer** from the next cycle."""

NARRATIVES = {
    ReadinessAxis.Axis.SCOPE: (
        4,
        "Ada framed the ledger problem for **payments, finance engineering and data**: the "
        "[migration plan](https://docs.acme.example/design/ledger-consumer-migration) "
        "sequences seven consuming teams. Her scope is the money-movement platform, not one "
        "service.",
    ),
    ReadinessAxis.Axis.COMPLEXITY: (
        4,
        "Double-entry invariants enforced in the database (RFC 31) removed a whole class of "
        "reconciliation bugs. The rewrite shipped in six flagged increments with no "
        "customer-visible incident.\n\n> The hardest trade-off was keeping the old and new "
        "ledgers consistent during the migration window.",
    ),
    ReadinessAxis.Axis.CONSISTENCY: (
        3,
        "Operating at L5 across both halves of 2026: in H1 she designed the payouts retry "
        "queue and led the duplicate-payouts postmortem; in H2 she led the ledger rewrite.",
    ),
}
AXIS_EVIDENCE = {
    ReadinessAxis.Axis.SCOPE: [
        "Cross-team migration plan for ledger consumers",
        "RFC 31: double-entry invariants enforced in the database",
        "Payouts retry queue design doc",
    ],
    ReadinessAxis.Axis.COMPLEXITY: [
        "Ledger service rewrite, phase one",
        "RFC 31: double-entry invariants enforced in the database",
        "Incident follow-up: reconcile job time-outs",
        "Settlement latency dashboard and SLO alerts",
    ],
    ReadinessAxis.Axis.CONSISTENCY: [
        "Payouts retry queue design doc",
        "Postmortem: duplicate payouts on 3 March",
        "Idempotency keys for the payouts API",
        "Mentoring plan for two new backend hires",
        "Ledger service rewrite, phase one",
        "PR by ada",
    ],
}


@dataclass
class Sample:
    case: PromotionCase
    selected: list[Evidence]
    composite: str


def _add_evidence(review: Review, rows: list[tuple[Any, ...]]) -> list[Evidence]:
    return [
        Evidence.objects.create(
            review=review,
            title=title,
            kind=kind,
            url=url,
            occurred_on=occurred_on,
            dimensions=dimensions,
            contribution=contribution,
        )
        for title, kind, url, occurred_on, dimensions, contribution in rows
    ]


def build_sample(cal: Calibration, extra_evidence: int = 0) -> Sample:
    """Ada Okafor (L4, Payments) nominated for L5 in "2026 H2": a closed earlier cycle "2026
    H1" with its own evidence (written with the ORM: it happened before), the H2 review
    calibrated through the services (two adjustments with evidence, so a stored snapshot and
    an audit trail), and a submitted case whose three axes cite ten evidence items."""
    org = cal.org
    ada = org.engineer.engineer
    version = org.cycle.rubric_version
    h1 = ReviewCycle.objects.create(
        name="2026 H1",
        rubric_version=version,
        phase=ReviewCycle.Phase.CLOSED,
        self_review_ends=datetime.date(2026, 5, 1),
        manager_review_ends=datetime.date(2026, 5, 15),
        calibration_ends=datetime.date(2026, 5, 29),
        finalisation_ends=datetime.date(2026, 6, 12),
    )
    earlier = Review.objects.create(
        cycle=h1,
        engineer=ada,
        team=ada.team,
        level_code="L4",
        manager=org.manager,
        state=Review.State.FINALIZED,
        overall_rating=4,
    )
    DimensionRating.objects.bulk_create(
        DimensionRating(review=earlier, dimension_key=key, self_rating=3, manager_rating=4)
        for key in ("delivery", "technical_quality", "reliability", "collaboration", "scope")
    )
    evidence = _add_evidence(earlier, EARLIER)

    review = cal.review(org.engineer)
    evidence += _add_evidence(review, LATER)
    evidence += list(review.evidence.filter(title="PR by ada"))
    for n in range(extra_evidence):
        evidence += _add_evidence(
            review,
            [
                (
                    f"Extra pull request {n + 1}: ledger consumer adapter",
                    "pull_request",
                    f"https://github.com/acme/ledger/pull/{2000 + n}",
                    datetime.date(2026, 10, 1) - datetime.timedelta(days=n),
                    ["delivery"],
                    "Migrated one consumer to the new ledger API.",
                )
            ],
        )
    by_title = {e.title: e for e in evidence}

    session_open(actor=cal.facilitator, session=cal.session)
    adjustment_make(
        actor=cal.facilitator,
        session=cal.session,
        review=review,
        dimension_key="delivery",
        rating=5,
        rationale="The ledger rewrite shipped in six safe increments across three teams",
        evidence_ids=[by_title["Ledger service rewrite, phase one"].pk],
    )
    adjustment_make(
        actor=cal.facilitator,
        session=cal.session,
        review=review,
        dimension_key="scope",
        rating=4,
        rationale="She framed the migration for seven consuming teams",
        evidence_ids=[by_title["Cross-team migration plan for ledger consumers"].pk],
    )
    session_close(actor=cal.facilitator, session=cal.session)
    # Finalised: a packet shows a review's calibration history only once the review is final.
    org.advance("finalisation")
    review_finalize(actor=org.hr, review=review)
    snapshot = ScoreSnapshot.objects.filter(review=review).order_by("-created_at", "-pk").first()
    assert snapshot is not None and snapshot.composite is not None

    case = PromotionCase.objects.create(
        engineer=ada,
        cycle=org.cycle,
        current_level="L4",
        target_level="L5",
        nominated_by=org.manager,
        status=PromotionCase.Status.SUBMITTED,
        summary=SUMMARY,
        summary_html=render_markdown(SUMMARY),
        submitted_at=timezone.make_aware(datetime.datetime(2026, 11, 20, 10, 0)),
    )
    case.committee.add(org.director, org.hr)
    selected: dict[int, Evidence] = {}
    for axis, (rating, narrative) in NARRATIVES.items():
        row = ReadinessAxis.objects.create(
            case=case,
            axis=axis,
            rating=rating,
            narrative=narrative,
            narrative_html=render_markdown(narrative),
        )
        items = [by_title[t] for t in AXIS_EVIDENCE[axis]]
        if axis == ReadinessAxis.Axis.COMPLEXITY:
            items += evidence[len(EARLIER) + len(LATER) + 1 :]  # the extra ones, if any
        row.evidence.set(items)
        selected.update((e.pk, e) for e in items)
    return Sample(case, list(selected.values()), str(snapshot.composite))


def pdf_text(reader: PdfReader) -> str:
    # Table cells wrap long titles: compare with whitespace collapsed.
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def link_uris(reader: PdfReader) -> set[str]:
    uris = set()
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            annotation = ref.get_object()
            action = annotation.get("/A")
            if annotation.get("/Subtype") == "/Link" and action and "/URI" in action:
                uris.add(str(action["/URI"]))
    return uris


def outline_titles(outline: list[Any]) -> list[str]:
    titles = []
    for item in outline:
        if isinstance(item, list):
            titles += outline_titles(item)
        else:
            titles.append(str(item.title))
    return titles


def render_page_png(pdf_path: Path, png_path: Path, page: int = 1) -> Image.Image:
    prefix = png_path.with_suffix("")
    subprocess.run(
        [
            *("pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile"),
            str(pdf_path),
            str(prefix),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Image.open(png_path)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail any attempt to open a socket connection while rendering, and record it."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"network access while rendering a packet: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_sample_packet_pdf(cal: Calibration, artifacts_dir: Path, no_network: list[Any]) -> None:
    sample = build_sample(cal)
    assert len(sample.selected) == 10
    case = sample.case
    html = render_packet_html(case)
    pdf, pages = render_packet_pdf(html, title="Promotion packet — Ada Okafor", author="manager")
    assert no_network == []
    (artifacts_dir / "packet-sample.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == pages >= 5

    text = pdf_text(reader)
    assert "Ada Okafor" in text
    for item in sample.selected:
        assert item.title in text, item.title
    assert sample.composite in text and "advisory" in text.lower()
    first = " ".join((reader.pages[0].extract_text() or "").split())
    assert f"page 1 of {pages}" in first
    assert f"page {pages} of {pages}" in " ".join(reader.pages[-1].extract_text().split())
    # The running header names the engineer on inner pages.
    assert "Ada Okafor" in reader.pages[1].extract_text()
    assert "Promotion packet · confidential" in reader.pages[1].extract_text()
    # The target level's criteria, the narratives and the calibration history are all there.
    assert "Delivers cross-team initiatives; unblocks other teams to ship." in text
    assert "framed the ledger problem" in text
    assert "The ledger rewrite shipped in six safe increments across three teams" in text

    assert {e.url for e in sample.selected} <= link_uris(reader)
    assert reader.metadata is not None
    assert reader.metadata.title == "Promotion packet — Ada Okafor"
    assert reader.metadata.author == "manager"
    titles = outline_titles(reader.outline)
    for section in ("Case summary", "Readiness", "Advisory score breakdown", "Evidence"):
        assert any(section in t for t in titles), titles
    assert any("Scope" in t for t in titles)  # h2: one bookmark per readiness axis

    image = render_page_png(
        artifacts_dir / "packet-sample.pdf", artifacts_dir / "packet-page1.png"
    ).convert("L")
    assert image.size[0] > 400 and image.size[1] > 600  # A4 at 60 dpi: 496 × 702
    histogram = image.histogram()
    dark = sum(histogram[:128])
    assert histogram[255] < image.size[0] * image.size[1], "page 1 is blank"
    assert dark > 2000, f"page 1 has almost no ink ({dark} dark pixels)"


def test_packet_html_is_deterministic(cal: Calibration) -> None:
    case = build_sample(cal).case
    first, second = render_packet_html(case), render_packet_html(case)
    assert first == second
    assert hashlib.sha256(first.encode()).hexdigest() == hashlib.sha256(second.encode()).hexdigest()
    assert "chart-contributions-" in first  # pygal's random chart id, made stable
    assert "<script" not in first and "Generated with pygal" not in first


def test_context_holds_what_the_committee_reads(cal: Calibration) -> None:
    sample = build_sample(cal)
    context = packet_context(sample.case)
    assert context["engineer"] == "Ada Okafor"
    assert (context["current_level"], context["target_level"]) == ("L4", "L5")
    assert context["score"]["available"] and context["score"]["composite"] == sample.composite
    assert context["score"]["basis"]["stored"] is True
    assert [e["ref"] for e in context["evidence"]] == [f"E{n}" for n in range(1, 11)]
    assert context["evidence_cycles"] == ["2026 H1", "2026 H2"]
    assert [a["key"] for a in context["readiness"]] == ["scope", "complexity", "consistency"]
    delivery = next(row for row in context["criteria"] if row["key"] == "delivery")
    assert delivery["target"].startswith("Delivers cross-team initiatives")
    assert {e["title"] for e in delivery["evidence"]} >= {"Ledger service rewrite, phase one"}
    [h1, h2] = context["history"]
    assert (h1["cycle"], h1["events"]) == ("2026 H1", [])
    assert [e["what"] for e in h2["events"]] == ["Delivery: 4 → 5", "Scope and ambiguity: 3 → 4"]
    assert h2["events"][0]["evidence"][0]["title"] == "Ledger service rewrite, phase one"


def test_a_draft_without_ratings_or_evidence_still_renders(published: Any, hr: Any) -> None:
    org = build_org(published, hr)
    case = PromotionCase.objects.create(
        engineer=org.engineer.engineer,
        cycle=org.cycle,
        current_level="L4",
        target_level="L5",
        nominated_by=org.manager,
    )
    ReadinessAxis.objects.bulk_create(
        ReadinessAxis(case=case, axis=axis) for axis in ReadinessAxis.Axis.values
    )
    context = packet_context(case)
    assert context["score"]["available"] is False and context["evidence"] == []
    pdf, pages = render_packet_pdf(render_packet_html(case), title="Draft", author="manager")
    text = pdf_text(PdfReader(io.BytesIO(pdf)))
    assert "has not rated this review yet" in text and f"page 1 of {pages}" in text


# ---- the URL fetcher -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        METADATA_URL,
        "https://github.com/acme/payouts/pull/1412",
        "https://levelset.example/static/css/packet.css",
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "data:text/plain,hello",
        "ftp://example.com/x.css",
        "/etc/passwd",
        "etc/passwd",
        "//169.254.169.254/latest",
        "/static/../../etc/passwd",
        "/static/css/%2e%2e/%2e%2e/config/settings.py",
        "levelset-static:/../config/settings.py",
        "levelset-static:css/../../manage.py",
        "levelset-static://169.254.169.254/css/packet.css",
        "levelset-static:/css/levelset.css\x00.png",
        "levelset-static:/css/nothing-here.css",
        "levelset-static:/vendor/../../manage.py",
    ],
)
def test_fetcher_refuses_everything_but_static_files(url: str, no_network: list[Any]) -> None:
    with pytest.raises(RefusedURL):
        safe_url_fetcher(url)
    with pytest.raises(RefusedURL):
        StaticOnlyURLFetcher().fetch(url)
    assert no_network == []


def test_fetcher_serves_the_packet_stylesheet(no_network: list[Any]) -> None:
    for url in ("levelset-static:/css/packet.css", "/static/css/packet.css"):
        response = safe_url_fetcher(url)
        assert response.content_type == "text/css"
        assert b"@page" in response.read()
        response.close()
    fetcher = StaticOnlyURLFetcher()
    assert isinstance(fetcher, URLFetcher)  # what WeasyPrint 70 requires of a fetcher
    with pytest.raises(RefusedURL):
        fetcher.open("http://169.254.169.254/")
    # No urllib handler is installed: even the opener machinery underneath answers nothing.
    assert request.OpenerDirector.open(fetcher, "http://169.254.169.254/") is None
    assert no_network == []


def test_hostile_content_is_never_fetched(
    cal: Calibration, monkeypatch: pytest.MonkeyPatch, no_network: list[Any]
) -> None:
    sample = build_sample(cal)
    case = sample.case
    scope = case.axes.get(axis=ReadinessAxis.Axis.SCOPE)
    # The sanitiser drops an image from elsewhere; the fetcher refuses it all the same if raw
    # HTML got past the sanitiser.
    assert METADATA_URL not in render_markdown(f"Cloud metadata: ![x]({METADATA_URL})")
    scope.narrative_html = f'<p>Cloud metadata: <img alt="x" src="{METADATA_URL}"></p>'
    scope.save()
    # Raw HTML that bypassed the Markdown sanitiser (e.g. written by a migration or the admin).
    case.summary_html = (
        '<p>Summary</p><img src="file:///etc/passwd"><img src="/etc/passwd">'
        '<link rel="attachment" href="file:///etc/passwd">'
    )
    case.save()

    calls: list[tuple[str, str]] = []

    def recording(url: str, *args: Any, **kwargs: Any) -> Any:
        try:
            response = safe_url_fetcher(url, *args, **kwargs)
        except RefusedURL:
            calls.append((url, "refused"))
            raise
        calls.append((url, "served"))
        return response

    monkeypatch.setattr(packets, "safe_url_fetcher", recording)
    html = render_packet_html(case)
    pdf, _ = render_packet_pdf(html, title="t", author="a")

    assert no_network == []
    served = {url for url, outcome in calls if outcome == "served"}
    refused = {url for url, outcome in calls if outcome == "refused"}
    assert served == {"levelset-static:/css/packet.css"}
    assert {METADATA_URL, "file:///etc/passwd", "/etc/passwd"} <= refused
    text = pdf_text(PdfReader(io.BytesIO(pdf)))
    assert "root:x:0:0" not in text and b"root:x:0:0" not in pdf
    assert "Ada Okafor" in text  # the packet still rendered in full


def test_a_25_evidence_packet_runs_to_several_pages(
    cal: Calibration, no_network: list[Any]
) -> None:
    # How long this takes is measured by `make bench`, not asserted here.
    case = build_sample(cal, extra_evidence=15).case
    context = packet_context(case)
    assert len(context["evidence"]) == 25
    pdf, pages = render_packet_pdf(render_packet_html(case), title="t", author="a")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert pages >= 5
    assert all(item["title"] in text for item in context["evidence"])


def test_context_queries_are_fixed_plus_one_per_review(
    cal: Calibration, django_assert_num_queries: Any
) -> None:
    case = build_sample(cal).case
    # 7 for the case (committee, axes, their evidence, levels, dimensions, criteria),
    # 4 for the engineer's reviews (ratings, evidence, snapshots), then one per review
    # (two cycles) for its calibration history.
    with django_assert_num_queries(11 + 2):
        packet_context(case)


def test_a_decided_packet_carries_the_decision_and_nothing_crosses_the_margin(
    cal: Calibration, artifacts_dir: Path, no_network: list[Any]
) -> None:
    sample = build_sample(cal)
    case = promotions_services.case_decide(
        actor=cal.org.hr,
        case=sample.case,
        outcome="promoted",
        feedback="Clear staff-level scope in both halves; congratulations.",
    )
    pdf, _ = render_packet_pdf(render_packet_html(case), title="t", author="a")
    path = artifacts_dir / "packet-decided.pdf"
    path.write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    text = pdf_text(reader)
    assert "Committee decision: Promoted" in text
    assert "Clear staff-level scope in both halves; congratulations." in text

    # The score breakdown's page, as an image: nothing is drawn in the right margin (18 mm)
    # between the top and bottom margins (where the running header and footer live).
    number = next(
        n
        for n, page in enumerate(reader.pages, start=1)
        if "WEIGHT SHARE SELF RATING" in (page.extract_text() or "").upper()
    )
    image = render_page_png(path, artifacts_dir / "packet-score-page.png", page=number).convert("L")
    width, height = image.size
    mm = width / 210
    margin = image.crop((int(width - 17 * mm), int(25 * mm), width, int(height - 23 * mm)))
    assert sum(margin.histogram()[:200]) == 0, "something runs into the right margin"
