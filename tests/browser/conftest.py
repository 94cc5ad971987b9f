"""Browser tests: Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, chromium keeps trying to reach Google's services on this closed network.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def sign_in(page: Any, live_server: Any, username: str, password: str = "pw") -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


# ---- every page at both widths: axe-core, no sideways scroll, a screenshot kept ------------

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"wide": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")


@functools.cache
def _axe_source() -> str:
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: `make install` runs `npm ci`.")
    return AXE.read_text(encoding="utf-8")


def axe_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's Content-Security-Policy
        # (no inline script) stays as it is and does not stop it.
        page.evaluate(_axe_source() + "\n;true")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result
        if v["impact"] in BLOCKING
    ]


def sideways_scroll(page: Any) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the window)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def look(page: Any, artifacts_dir: Path, name: str) -> list[str]:
    """Check the current page at both widths; keep a screenshot of each; return the problems."""
    problems = []
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.wait_for_load_state("load")
        where = f"{name} at {size['width']} px"
        problems += [f"{where}: {p}" for p in axe_problems(page)]
        if (overflow := sideways_scroll(page)) > 0:
            problems.append(f"{where}: scrolls {overflow} px sideways")
        shots = artifacts_dir / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(WIDTHS["wide"])
    return problems
