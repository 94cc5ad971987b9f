"""Every page each demo persona can reach, at 1366 px and 390 px: no serious or critical
axe-core violation and no sideways scroll. The pages are found by following the links a
person sees (navigation and page content), from the demo organisation `make run` serves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from tests.browser.conftest import look, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSONAS = ["eng31", "eng01", "manager.payments", "manager.mobile", "director", "facilitator", "hr"]
# Addresses that are not pages: downloads, the API, Django's admin, signing out.
NOT_PAGES = re.compile(r"^/(api|admin|static)/|\.(pdf|csv|zip|yaml)$|/export|/logout/")
MAX_PAGES = 14  # per persona: one page of each kind (ids do not make a new kind)


def kind(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def pages_of(page: Any, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or NOT_PAGES.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def walk(page: Any, live_server: Any, persona: str, shots: Path) -> tuple[list[str], list[str]]:
    """Sign in as `persona` and visit one page of each kind they can reach: (pages, problems)."""
    page.context.clear_cookies()
    sign_in(page, live_server, persona, "levelset-demo")
    page.wait_for_url(re.compile(r"/(reviews|calibration)/"))
    queue, seen_kinds, problems, visited = ["/reviews/"], set(), [], []
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        if kind(path.split("?")[0]) in seen_kinds:
            continue
        seen_kinds.add(kind(path.split("?")[0]))
        response = page.goto(live_server.url + path)
        visited.append(path)
        if response is None or response.status != 200:
            problems.append(f"{persona}: {path} answered {response and response.status}")
            continue
        name = f"{persona}-{len(visited):02d}-" + re.sub(r"[^a-z0-9]+", "-", path).strip("-")
        problems += look(page, shots, name)
        queue += pages_of(page, live_server.url)
    return visited, problems


def test_every_page_is_accessible_and_fits_both_widths(
    db: None, page: Any, live_server: Any, artifacts_dir: Path
) -> None:
    call_command("seed_demo", "--quiet")
    problems, reached = [], {}
    for persona in PERSONAS:
        visited, found = walk(page, live_server, persona, artifacts_dir / "pages")
        reached[persona], problems = len(visited), problems + found
    # Every persona reached several kinds of page (the walk did not stop at sign-in).
    assert min(reached.values()) >= 5, reached
    page.context.clear_cookies()
    for path in ("/login/", "/password-reset/"):
        page.goto(live_server.url + path)
        problems += look(page, artifacts_dir / "pages", "anonymous" + path.replace("/", "-"))
    assert not problems, "\n".join(problems)
