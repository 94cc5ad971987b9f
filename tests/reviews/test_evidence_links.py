"""Evidence URLs: only safe web links, normalised, kinds inferred, pastes line by line."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviews.evidence import (
    MAX_URL_LENGTH,
    EvidenceKind,
    InvalidEvidenceURL,
    infer_kind,
    normalise_url,
    parse_pasted_links,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  HTTPS://GitHub.com/acme/api/pull/42  ", "https://github.com/acme/api/pull/42"),
        ("https://example.com:443/doc", "https://example.com/doc"),
        ("http://example.com:8080/x?q=1#top", "http://example.com:8080/x?q=1#top"),
        ("https://example.com", "https://example.com/"),
    ],
)
def test_normalises(raw: str, expected: str) -> None:
    assert normalise_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("javascript:alert(1)", "not javascript:"),
        ("data:text/html,<b>hi</b>", "not data:"),
        ("file:///etc/passwd", "not file:"),
        ("ftp://example.com/x", "not ftp:"),
        ("github.com/acme/api/pull/1", "has no https:// in front"),
        ("https://user:secret@example.com/", "never share credentials"),
        ("https://token@example.com/", "never share credentials"),
        ("https://exa mple.com/", "spaces"),
        ("https:///nohost", "host name"),
        ("https://example.com:99999/", "port is not valid"),
        ("", "Give a link"),
        ("https://example.com/" + "a" * MAX_URL_LENGTH, "at most 2,000 characters"),
    ],
)
def test_refuses_with_a_clear_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidEvidenceURL, match=re.escape(reason)):
        normalise_url(raw)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://github.com/acme/api/pull/42", EvidenceKind.PULL_REQUEST),
        ("https://gitlab.com/acme/api/-/merge_requests/7", EvidenceKind.PULL_REQUEST),
        ("https://github.com/acme/api/releases/tag/v2.1.0", EvidenceKind.RELEASE),
        ("https://wiki.acme.io/postmortems/2026-03-payments-outage", EvidenceKind.POSTMORTEM),
        ("https://docs.google.com/document/d/abc/edit", EvidenceKind.DESIGN_DOC),
        ("https://github.com/acme/rfcs/blob/main/rfc-0042.md", EvidenceKind.RFC),
        ("https://acme.atlassian.net/browse/OPS-123", EvidenceKind.INCIDENT_FOLLOWUP),
        ("https://grafana.acme.io/d/abc/checkout-latency", EvidenceKind.OBSERVABILITY),
        ("https://example.com/anything", EvidenceKind.OTHER),
    ],
)
def test_infers_kind_from_well_known_shapes(url: str, kind: EvidenceKind) -> None:
    assert infer_kind(url) == kind


def test_paste_accepts_or_refuses_each_line_on_its_own() -> None:
    pasted = "\n".join(
        [
            "https://github.com/acme/api/pull/42",
            "",
            "javascript:alert(1)",
            "https://GITHUB.com/acme/api/pull/42",
            "https://wiki.acme.io/postmortems/outage",
        ]
    )
    lines = parse_pasted_links(pasted)
    assert [(line.line, line.ok) for line in lines] == [
        (1, True),
        (3, False),
        (4, False),
        (5, True),
    ]
    assert lines[1].error is not None and "javascript:" in lines[1].error
    assert lines[2].error == "Same link as line 1."
    assert lines[3].kind == EvidenceKind.POSTMORTEM


@given(st.text(max_size=300))
def test_normalise_never_crashes_and_only_returns_web_links(raw: str) -> None:
    try:
        url = normalise_url(raw)
    except InvalidEvidenceURL:
        return
    assert url.startswith(("http://", "https://"))
    assert "@" not in url.split("/")[2]
    assert normalise_url(url) == url  # idempotent
