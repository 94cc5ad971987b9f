"""Evidence links: validation, normalisation and kind inference. Pure functions, no ORM.

The server stores and shows evidence URLs; it never fetches them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.db import models

MAX_URL_LENGTH = 2000


class EvidenceKind(models.TextChoices):
    PULL_REQUEST = "pull_request", "Pull request"
    POSTMORTEM = "postmortem", "Postmortem"
    DESIGN_DOC = "design_doc", "Design doc"
    RFC = "rfc", "RFC"
    INCIDENT_FOLLOWUP = "incident_followup", "Incident follow-up"
    RELEASE = "release", "Release"
    MENTORING = "mentoring", "Mentoring"
    OBSERVABILITY = "observability", "Observability"
    OTHER = "other", "Other"


class InvalidEvidenceURL(ValueError):
    pass


def normalise_url(raw: str) -> str:
    """Return the canonical form of an evidence URL, or raise InvalidEvidenceURL saying why.

    Only http(s); no credentials; at most 2,000 characters; scheme and host lower-cased,
    default ports and fragments-only noise kept as the author wrote them otherwise.
    """
    url = (raw or "").strip()
    if not url:
        raise InvalidEvidenceURL("Give a link, e.g. https://github.com/org/repo/pull/123.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidEvidenceURL(f"Links may be at most {MAX_URL_LENGTH:,} characters long.")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        # Cf holds the zero-width and bidirectional controls that make a link read as
        # something it is not.
        raise InvalidEvidenceURL(
            "A link cannot contain spaces, control characters, or invisible (zero-width or "
            "text-direction) characters."
        )
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidEvidenceURL("This is not a valid link.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        if not scheme:
            raise InvalidEvidenceURL(
                "Only http and https links are accepted, and this one has no https:// in front: "
                "paste the page's full web address."
            )
        raise InvalidEvidenceURL(
            f"Only http and https links are accepted, not {scheme}: links. Paste the page's "
            "web address."
        )
    if parts.username or parts.password:
        raise InvalidEvidenceURL(
            "Remove the user name or password from the link; never share credentials."
        )
    try:
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise InvalidEvidenceURL("The link's host or port is not valid.") from None
    if not host or ("." not in host and host != "localhost"):
        raise InvalidEvidenceURL("The link needs a host name, e.g. https://github.com/...")
    default_port = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def _script(ch: str) -> str:
    """The writing system of a letter, as Unicode names it (LATIN, CYRILLIC, GREEK, ...)."""
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


def url_warnings(url: str) -> list[str]:
    """What a reader should know before trusting a link: a host that mixes writing systems
    (a Cyrillic "а" in "pаypal.com") looks like another host. The link is kept and shown with
    the warning; Levelset never opens it."""
    host = (urlsplit(url).hostname or "").lower()
    labels = []
    for label in host.split("."):
        try:
            labels.append(
                label.encode("ascii").decode("idna") if label.startswith("xn--") else label
            )
        except UnicodeError:
            labels.append(label)
    scripts = {_script(ch) for ch in "".join(labels) if ch.isalpha()}
    if len(scripts) > 1:
        return [
            f"The host {'.'.join(labels)} mixes writing systems ({', '.join(sorted(scripts))}): "
            "it may imitate another site."
        ]
    return []


_KIND_PATTERNS: tuple[tuple[re.Pattern[str], EvidenceKind], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"^https?://[^/]*github\.[^/]+/[^/]+/[^/]+/pull/\d+", EvidenceKind.PULL_REQUEST),
        (r"^https?://[^/]*gitlab\.[^/]+/.+/-/merge_requests/\d+", EvidenceKind.PULL_REQUEST),
        (r"^https?://[^/]*bitbucket\.[^/]+/.+/pull-requests/\d+", EvidenceKind.PULL_REQUEST),
        (r"^https?://[^/]*github\.[^/]+/[^/]+/[^/]+/releases/", EvidenceKind.RELEASE),
        (r"postmortem|post-mortem|incident-review|/incidents?/", EvidenceKind.POSTMORTEM),
        (r"\brfcs?\b|/rfc[-_/]?\d*", EvidenceKind.RFC),
        (r"design[-_ ]?doc|docs\.google\.com/document|/design/", EvidenceKind.DESIGN_DOC),
        (r"grafana|dashboards?/|datadoghq|/alerts?/", EvidenceKind.OBSERVABILITY),
        (
            r"follow[-_]?up|/issues/\d+|/browse/[A-Z]+-\d+|linear\.app/.+/issue/",
            EvidenceKind.INCIDENT_FOLLOWUP,
        ),
    )
)


def infer_kind(url: str) -> EvidenceKind:
    """Guess the kind of evidence from well-known URL shapes; `other` when unsure."""
    for pattern, kind in _KIND_PATTERNS:
        if pattern.search(url):
            return kind
    return EvidenceKind.OTHER


@dataclass(frozen=True)
class PastedLine:
    line: int
    raw: str
    url: str | None
    kind: EvidenceKind | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_pasted_links(text: str) -> list[PastedLine]:
    """One link per line: each line accepted or refused on its own, with the reason.

    Blank lines are skipped; a link repeated within the paste is refused on its second line.
    """
    seen: dict[str, int] = {}
    lines: list[PastedLine] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            url = normalise_url(raw)
        except InvalidEvidenceURL as exc:
            lines.append(PastedLine(number, raw.strip(), None, None, str(exc)))
            continue
        if url in seen:
            lines.append(
                PastedLine(number, raw.strip(), url, None, f"Same link as line {seen[url]}.")
            )
            continue
        seen[url] = number
        lines.append(PastedLine(number, raw.strip(), url, infer_kind(url), None))
    return lines
