from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from rubrics.document import load_yaml
from rubrics.services import rubric_import
from tests.browser import conftest as browser_helpers
from tests.factories import UserFactory

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
LADDERS = ROOT / "rubrics" / "ladders"
# Screenshots, PDFs and reports kept for a person to look at; a second run side by side (CI)
# keeps its own under LEVELSET_ARTIFACTS.
ARTIFACTS = Path(os.environ.get("LEVELSET_ARTIFACTS") or ROOT / "tests" / "artifacts")


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache (a rolled-back test leaves entries behind)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def ladder(version: int = 1) -> dict[str, Any]:
    return load_yaml((LADDERS / f"backend-engineering-v{version}.yaml").read_text())


@pytest.fixture
def hr(db: None) -> Any:
    return UserFactory(username="hr-harriet", roles=["hr"])


@pytest.fixture
def hr2(db: None) -> Any:
    return UserFactory(username="hr-hugo", roles=["hr"])


@pytest.fixture
def engineer(db: None) -> Any:
    return UserFactory(username="eng-ada", roles=["engineer"])


@pytest.fixture
def manager(db: None) -> Any:
    return UserFactory(username="mgr-ben", roles=["manager"])


@pytest.fixture
def facilitator(db: None) -> Any:
    return UserFactory(username="fac-fatima", roles=["facilitator"])


@pytest.fixture
def outsider(db: None) -> Any:
    """Signed in, but holds no role."""
    return UserFactory(username="outsider")


@pytest.fixture
def published(hr: Any) -> Any:
    """The backend ladder, v1 published."""
    return rubric_import(actor=hr, data=ladder(1), publish=True)


@pytest.fixture
def two_versions(published: Any, hr: Any) -> tuple[Any, Any]:
    v2 = rubric_import(actor=hr, data=ladder(2), publish=True)
    published.refresh_from_db()
    return published, v2


def client_for(user: Any | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(settings: Any, tmp_path: Path) -> None:
    """Each test keeps its audit checkpoints apart: its database is rolled back, a checkpoint
    file would not be."""
    settings.AUDIT_CHECKPOINTS = str(tmp_path / "audit-checkpoints.jsonl")


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_triggers() -> Iterator[None]:
    """Transactional tests empty the database between tests with TRUNCATE, which the audit
    log's trigger refuses on PostgreSQL (as it should in production). The test database is
    emptied as its owner would: in replica mode, which skips ordinary triggers."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = original(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else []

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
    yield
    DatabaseOperations.sql_flush = original  # type: ignore[method-assign]


# The browser for every browser test, wherever it lives: one per session (a second
# Playwright sync instance in the same thread would refuse to start).
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_helpers.CHROMIUM, args=browser_helpers.CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Confirmation questions are answered "OK" and kept, so a test can check one was asked.
    page.questions = []
    page.on("dialog", lambda dialog: (page.questions.append(dialog.message), dialog.accept()))
    yield page
    context.close()
