"""Promotion packets: the case, its evidence and its history as one print-first HTML document,
rendered to PDF by WeasyPrint.

Two properties matter more than looks:

* **Nothing is fetched.** Evidence URLs, and any image a narrative points at, are shown as
  links and never requested by the server (an image tag aimed at http://169.254.169.254/ must
  not become a request from a worker inside the network). WeasyPrint resolves every resource
  through `StaticOnlyURLFetcher`, which serves the project's own static files and refuses the
  rest.
* **Same case, same HTML.** The packet is stored once per SHA-256 of its HTML, so the HTML
  holds no render time, random id or other noise: rendering an unchanged case twice yields
  identical bytes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any
from urllib import request
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from calibration.selectors import calibration_history, history_entry
from promotions.models import PromotionCase, ReadinessAxis
from reviews.charts import contributions_chart
from reviews.models import Evidence, Review, ScoreSnapshot
from reviews.scores import manager_ratings, score
from rubrics.models import Criterion, Dimension, Level

# ---- the URL fetcher -------------------------------------------------------------------------

#: The packet's own scheme: `levelset-static:/css/packet.css` is `static/css/packet.css`.
STATIC_SCHEME = "levelset-static"
#: Base URL of every packet. A custom scheme on purpose: urllib does not join relative
#: references against unknown schemes, so a relative `src` reaches the fetcher unchanged and
#: is refused there unless it is a `/static/...` path.
BASE_URL = f"{STATIC_SCHEME}:/"
STYLESHEET_URL = f"{STATIC_SCHEME}:/css/packet.css"

# Only file types a printed page can use; a static directory may hold anything else.
SERVED_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+-]*):")


class RefusedURL(ValueError):
    """A URL the packet renderer will not fetch. WeasyPrint logs it and skips the resource
    (an image is left out); the render goes on."""


def _static_prefix() -> str:
    # STATIC_URL may be a CDN address in production; the packet only knows the path.
    path = urlsplit(settings.STATIC_URL or "").path.strip("/") or "static"
    return f"/{path}/"


def _static_path(url: str) -> str | None:
    """The path below the static roots that `url` names, or None when it names none."""
    if url.startswith(f"{STATIC_SCHEME}:"):
        path = url[len(STATIC_SCHEME) + 1 :]
        if path.startswith("//"):
            return None  # levelset-static://host/...: no authority is meaningful here
    elif url.startswith(_static_prefix()):
        path = url[len(_static_prefix()) :]
    else:
        return None
    path = unquote(path.split("#", 1)[0].split("?", 1)[0]).lstrip("/")
    # Refuse anything that could climb out of the static roots or confuse a path join:
    # "..", "." and empty segments, backslashes (Windows separators), NUL bytes.
    segments = path.split("/")
    if (
        not path
        or "\\" in path
        or "\x00" in path
        or any(s in ("", ".", "..") for s in segments)
        or posixpath.normpath(path) != path
    ):
        return None
    return path


def safe_url_fetcher(
    url: str, timeout: float = 10, ssl_context: Any = None, **kwargs: Any
) -> URLFetcherResponse:
    """Serve one of the project's static files, or raise `RefusedURL`.

    Accepted: `levelset-static:/<path>` and `/static/<path>` (a relative reference left
    unjoined, see BASE_URL), resolved with the staticfiles finders, for the file types in
    SERVED_TYPES. Refused: everything else, in particular http(s) (evidence links, cloud
    metadata addresses, anything that could redirect), file:, data:, ftp: and relative paths
    outside /static/. No socket is ever opened, so `timeout` and `ssl_context` (kept for the
    signature WeasyPrint's fetchers share) are unused.
    """
    path = _static_path(url)
    if path is None:
        match = _SCHEME.match(url)
        what = f"{match[1].lower()}: URLs are" if match else "this reference is"
        raise RefusedURL(
            f"Not fetched: {what} never fetched for a packet, only the project's static "
            f"files ({url[:120]!r})."
        )
    content_type = SERVED_TYPES.get(posixpath.splitext(path)[1].lower())
    if content_type is None:
        raise RefusedURL(f"Not fetched: {path!r} is not a stylesheet, image or font.")
    found = finders.find(path)
    if isinstance(found, list):  # only with find_all=True; kept for the type checker
        found = found[0] if found else None
    if not found:
        raise RefusedURL(f"Not fetched: no static file {path!r}.")
    body = Path(found).read_bytes()
    headers = {"Content-Type": content_type}
    if content_type.startswith("text/"):
        headers["Content-Type"] = f"{content_type}; charset=utf-8"
    return URLFetcherResponse(f"{STATIC_SCHEME}:/{path}", body, headers)


class StaticOnlyURLFetcher(URLFetcher):
    """The fetcher object WeasyPrint ≥ 68 expects: a `URLFetcher` whose `fetch` is
    `safe_url_fetcher`.

    `URLFetcher.__init__` is skipped on purpose: it installs urllib's HTTP(S), FTP, file and
    data handlers (and the redirect handler). With no handler installed, even an unexpected
    call to `open()` on the opener machinery cannot reach the network or the disk.
    """

    def __init__(self, timeout: float = 10, ssl_context: Any = None, **kwargs: Any) -> None:
        request.OpenerDirector.__init__(self)
        self._timeout = timeout
        self._http_headers: dict[str, str] = {}
        self._allowed_protocols = (STATIC_SCHEME,)
        # False: a refused resource is logged and left out; the packet still renders.
        self._fail_on_errors = False
        self._request = None

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        # Looked up at call time, so tests can observe every request the renderer makes.
        return safe_url_fetcher(url, timeout=self._timeout)


# ---- what the packet shows -------------------------------------------------------------------

ADVISORY_NOTE = (
    "Advisory: the composite is a calibration input, never the decision. It summarises the "
    "manager's ratings with the rubric's public weights; the evidence and narratives carry "
    "the case."
)
CONFIDENTIAL_NOTE = (
    "Confidential: prepared for the promotion committee. Do not forward beyond the committee, "
    "HR and the engineer."
)
_AXIS_ORDER = {value: index for index, value in enumerate(ReadinessAxis.Axis.values)}
_AXIS_QUESTIONS: dict[str, str] = {
    ReadinessAxis.Axis.SCOPE: "How large is the part of the organisation their work shapes?",
    ReadinessAxis.Axis.COMPLEXITY: "How hard are the problems they solve, and how well?",
    ReadinessAxis.Axis.CONSISTENCY: "Do they work at the target level across review periods?",
}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_XML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)


def _person(user: Any) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


def _print_svg(svg: str, chart_id: str) -> str:
    """The page's chart, made fit for print and for a content hash.

    pygal stamps each chart with a random id (in the markup and in a tooltip script) and a
    dated comment. A PDF runs no script: drop it and the comments and replace the id, so the
    packet's HTML depends on the data alone. The screen's black dashed guides are too loud on
    paper: a later rule of the same specificity turns them into hairlines.
    """
    svg = _UUID.sub(chart_id, _XML_COMMENT.sub("", _SCRIPT.sub("", svg)))
    scope = f"#chart-{chart_id}"
    print_css = (
        f"{scope} .axis .guide.line,{scope} .axis .major.guide.line"
        "{stroke:#d9e2ec;stroke-dasharray:none;stroke-width:0.8}"
        f"{scope} .axis text{{fill:#3e4c59}}"
    )
    return svg.replace("</defs>", f'<style type="text/css">{print_css}</style></defs>', 1)


def _two_places(value: Any) -> str | None:
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def _evidence_sort_key(item: Evidence) -> tuple[bool, int, int]:
    # Newest first; undated items last; the id breaks ties so the order never varies.
    dated = item.occurred_on is not None
    return (not dated, -item.occurred_on.toordinal() if item.occurred_on else 0, item.pk)


def _load_case(case: PromotionCase) -> PromotionCase:
    return (
        PromotionCase.objects.select_related(
            "engineer__user",
            "engineer__team",
            "cycle__rubric_version__rubric",
            "cycle__rubric_version__scale",
            "nominated_by",
            "decided_by",
        )
        .prefetch_related(
            Prefetch("committee"),
            Prefetch(
                "axes",
                queryset=ReadinessAxis.objects.order_by("pk").prefetch_related(
                    Prefetch(
                        "evidence",
                        queryset=Evidence.objects.select_related("review__cycle").order_by("pk"),
                    )
                ),
            ),
            Prefetch("cycle__rubric_version__levels", queryset=Level.objects.order_by("order")),
            Prefetch(
                "cycle__rubric_version__dimensions",
                queryset=Dimension.objects.order_by("order").prefetch_related(
                    Prefetch("criteria", queryset=Criterion.objects.select_related("level"))
                ),
            ),
        )
        .get(pk=case.pk)
    )


def _engineer_reviews(case: PromotionCase) -> list[Review]:
    """The engineer's reviews up to the case's cycle, oldest first."""
    return list(
        Review.objects.filter(
            engineer_id=case.engineer_id,
            cycle__self_review_ends__lte=case.cycle.self_review_ends,
        )
        .select_related("cycle")
        .prefetch_related(
            "ratings",
            Prefetch("evidence", queryset=Evidence.objects.active().order_by("pk")),
            Prefetch("snapshots", queryset=ScoreSnapshot.objects.order_by("-created_at", "-pk")),
        )
        .order_by("cycle__self_review_ends", "pk")
    )


def _score_section(case: PromotionCase, review: Review | None) -> dict[str, Any]:
    """The advisory breakdown for the case's cycle: the latest stored snapshot when there is
    one (it carries the calibrated ratings and the rubric and formula versions it used),
    otherwise computed now from the manager's ratings."""
    version = case.cycle.rubric_version
    if review is None:
        return {"available": False, "reason": "There is no review of this cycle to score."}
    snapshots = list(review.snapshots.all())
    if snapshots:
        snapshot = snapshots[0]
        breakdown = dict(snapshot.breakdown)
        basis = {
            "stored": True,
            "at": snapshot.created_at,
            "reason": snapshot.get_reason_display().lower(),
            "formula": snapshot.formula_version,
        }
    else:
        review.cycle = case.cycle  # the prefetched rubric version: no queries in score()
        ratings = manager_ratings(review)
        if not ratings:
            return {
                "available": False,
                "reason": "The manager has not rated this review yet, so there is no composite.",
            }
        breakdown = score(review, ratings).as_dict()
        basis = {"stored": False, "formula": breakdown["formula_version"]}
    if breakdown.get("composite") is None:
        return {"available": False, "reason": "No dimension is rated yet, so there is no score."}

    self_ratings = {r.dimension_key: r.self_rating for r in review.ratings.all()}
    evidence_counts: dict[str, int] = {}
    for item in review.evidence.all():
        for key in item.dimensions:
            evidence_counts[key] = evidence_counts.get(key, 0) + 1
    gates = {g["dimension"]: g for g in breakdown.get("gates", [])}
    terms = []
    for term in breakdown["terms"]:
        gate = gates.get(term["dimension"])
        terms.append(
            {
                "name": term["name"],
                "weight": _two_places(term["weight"]),
                "share": _two_places(term["weight_percent"]),
                "rating": term["rating"],
                "self_rating": self_ratings.get(term["dimension"]),
                "contribution": _two_places(term["contribution"]),
                "evidence_count": evidence_counts.get(term["dimension"], 0),
                "gate": gate,
            }
        )
    chart = contributions_chart(breakdown)
    return {
        "available": True,
        "composite": breakdown["composite"],
        "uncapped": breakdown.get("uncapped"),
        "capped": breakdown.get("capped", False),
        "basis": basis,
        "rubric": f"{version.rubric.name} v{breakdown.get('rubric_version') or version.number}",
        "scale": breakdown["scale"],
        "terms": terms,
        "gates": breakdown.get("gates", []),
        "applied_gates": [g for g in breakdown.get("gates", []) if g["applied"]],
        "chart": mark_safe(_print_svg(chart, f"contributions-{case.pk}")),
    }


def _criteria_section(
    case: PromotionCase, evidence: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per dimension: the target level's criterion (and the current level's, for the step),
    with the selected evidence tagged to that dimension. Also the evidence tagged to none."""
    version = case.cycle.rubric_version
    rows = []
    mapped: set[int] = set()
    for dimension in version.dimensions.all():
        by_level = {c.level.code: c.text for c in dimension.criteria.all()}
        items = [e for e in evidence if dimension.key in e["dimensions"]]
        mapped.update(e["pk"] for e in items)
        rows.append(
            {
                "key": dimension.key,
                "name": dimension.name,
                "target": by_level.get(case.target_level, ""),
                "current": by_level.get(case.current_level, ""),
                "evidence": items,
            }
        )
    unmapped = [e for e in evidence if e["pk"] not in mapped]
    return rows, unmapped


def _history_section(reviews: Iterable[Review], names: dict[str, str]) -> list[dict[str, Any]]:
    """Calibration history of the engineer's final reviews only: a packet may reach the
    engineer (shared, or once decided) and must not show a calibration before its review is
    finalised, as the engineer's own pages do not."""
    groups = []
    for review in reviews:
        if not review.is_final:
            continue
        # One query per review: an engineer has a handful of reviews, and the selector is the
        # one place that decides which audit events count as calibration history.
        events = [history_entry(e, names) for e in calibration_history(review)]
        groups.append(
            {"cycle": review.cycle.name, "state": review.get_state_display(), "events": events}
        )
    return groups


def _status_line(case: PromotionCase) -> tuple[str, Any]:
    # The packet shows the date of the case's state, never the render time: the HTML must
    # stay the same while the case does (see the module docstring).
    if case.status == PromotionCase.Status.DECIDED and case.decided_at:
        return f"Decided: {case.get_outcome_display().lower()}", case.decided_at
    if case.status == PromotionCase.Status.SUBMITTED and case.submitted_at:
        return "Submitted to the committee", case.submitted_at
    return "Draft", case.created_at


def packet_context(case: PromotionCase) -> dict[str, Any]:
    """Everything the packet shows, loaded with a fixed number of queries (plus one per
    review of the engineer for the calibration history)."""
    case = _load_case(case)
    version = case.cycle.rubric_version
    levels = {level.code: level.name for level in version.levels.all()}
    names = {d.key: d.name for d in version.dimensions.all()}
    reviews = _engineer_reviews(case)
    current_review = next((r for r in reviews if r.cycle_id == case.cycle_id), None)

    axes = sorted(case.axes.all(), key=lambda a: _AXIS_ORDER.get(a.axis, len(_AXIS_ORDER)))
    selected: dict[int, Evidence] = {}
    for axis in axes:
        for item in axis.evidence.all():
            selected.setdefault(item.pk, item)
    ordered = sorted(selected.values(), key=_evidence_sort_key)
    evidence = [
        {
            "pk": item.pk,
            "ref": f"E{number}",
            "anchor": f"evidence-{number}",
            "title": item.title,
            "kind": item.get_kind_display(),
            "date": item.occurred_on,
            "cycle": item.review.cycle.name,
            "url": item.url,
            "contribution": item.contribution,
            "dimensions": list(item.dimensions),
            "dimension_names": [names.get(k, k) for k in item.dimensions],
            "withdrawn": item.withdrawn_at is not None,
        }
        for number, item in enumerate(ordered, start=1)
    ]
    by_pk = {e["pk"]: e for e in evidence}
    readiness = [
        {
            "key": axis.axis,
            "name": axis.get_axis_display(),
            "question": _AXIS_QUESTIONS.get(axis.axis, ""),
            "rating": axis.rating,
            "narrative_html": mark_safe(axis.narrative_html),  # sanitised when saved
            "evidence": [
                by_pk[item.pk] for item in sorted(axis.evidence.all(), key=_evidence_sort_key)
            ],
            "cycles": sorted({item.review.cycle.name for item in axis.evidence.all()}),
        }
        for axis in axes
    ]
    criteria, unmapped = _criteria_section(case, evidence)
    history = _history_section(reviews, names)
    status, status_at = _status_line(case)
    engineer = _person(case.engineer.user)
    score_section = _score_section(case, current_review)
    return {
        "case": case,
        "title": f"Promotion packet — {engineer}",
        "author": _person(case.nominated_by),
        "stylesheet_url": STYLESHEET_URL,
        "engineer": engineer,
        "team": case.engineer.team.name,
        "current_level": case.current_level,
        "current_level_name": levels.get(case.current_level, ""),
        "target_level": case.target_level,
        "target_level_name": levels.get(case.target_level, ""),
        "cycle": case.cycle.name,
        "rubric": f"{version.rubric.name} v{version.number}",
        "nominated_by": _person(case.nominated_by),
        "committee": sorted(_person(m) for m in case.committee.all()),
        "status": status,
        "date": status_at,
        "decided_by": _person(case.decided_by) if case.decided_by_id else "",
        "decision": {
            "outcome": case.get_outcome_display(),
            "feedback": case.feedback,
            "by": _person(case.decided_by) if case.decided_by_id else "",
            "on": case.decided_at,
        }
        if case.outcome
        else None,
        "confidential": CONFIDENTIAL_NOTE,
        "advisory_note": ADVISORY_NOTE,
        "summary_html": mark_safe(case.summary_html),  # sanitised when saved
        "score": score_section,
        "readiness": readiness,
        "scale_max": 5,  # readiness ratings are 1–5 whatever the rubric's scale
        "criteria": criteria,
        "unmapped_evidence": unmapped,
        "evidence": evidence,
        "evidence_cycles": sorted({e["cycle"] for e in evidence}),
        "history": history,
        "history_count": sum(len(g["events"]) for g in history),
    }


# ---- rendering ---------------------------------------------------------------------------------


def render_packet_html(case: PromotionCase) -> str:
    """The packet as one HTML document; deterministic for an unchanged case."""
    return render_to_string("packets/packet.html", packet_context(case))


def render_packet_pdf(html: str, *, title: str, author: str) -> tuple[bytes, int]:
    """Render packet HTML to PDF; returns the PDF bytes and the page count.

    Every resource goes through `StaticOnlyURLFetcher`; the base URL uses its scheme, so a
    relative reference can never fall back to a file path or a web address.
    """
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyURLFetcher()).render()
    # The HTML carries <title> and <meta name=author> too; the caller's values win.
    document.metadata.title = title
    document.metadata.authors = [author]
    pdf = document.write_pdf()
    assert pdf is not None
    return pdf, len(document.pages)
