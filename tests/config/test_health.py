"""`/healthz` for the load balancer, and one log line per request and per Celery task."""

from __future__ import annotations

import json
import logging
import logging.config
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db.utils import OperationalError
from django.test import Client

from config.celery import app
from core import health
from core.requestlog import RequestIdFilter
from tests.config.test_settings import PRODUCTION, ROOT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A Redis address that accepts the connection and then never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # the kernel completes the handshake; nobody ever reads or writes
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


def json_formatter() -> logging.Formatter:
    """The formatter production's console handler uses (settings.LOGGING, LOG_FORMAT=json)."""
    configurator = logging.config.DictConfigurator(settings.LOGGING)
    return configurator.configure_formatter(dict(settings.LOGGING["formatters"]["json"]))


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "levelset.request"]


def assert_reveals_nothing(body: str, *secrets: str) -> None:
    for secret in (settings.SECRET_KEY, settings.AUDIT_KEY, "127.0.0.1", "redis://", *secrets):
        assert secret not in body


# ---- /healthz ---------------------------------------------------------------------------------


def test_healthy_on_sqlite_without_redis(client: Client, settings: Any) -> None:
    settings.REDIS_URL = ""  # Celery runs eagerly: there is no broker to check
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "not configured"},
    }
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]


def test_unreachable_redis_is_named_and_nothing_else_is_said(
    client: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = closed_port()
    settings.REDIS_URL = f"redis://:hunter2-broker-password@127.0.0.1:{port}/0"
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "failed"},
    }
    body = response.content.decode()
    assert_reveals_nothing(body, str(port), "hunter2", "refused", "Error")
    # The detail is in the log, on a line carrying the request's id.
    [failure] = [r for r in caplog.records if r.name == "levelset.health"]
    assert failure.levelno == logging.ERROR and failure.exc_info is not None
    assert failure.request_id == response["X-Request-ID"]  # type: ignore[attr-defined]


def test_a_silent_redis_fails_the_check_within_its_timeout(
    client: Client, settings: Any, silent_redis: str
) -> None:
    settings.REDIS_URL = silent_redis
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.json()["checks"]["redis"] == "failed"
    assert elapsed < health.REDIS_TIMEOUT_SECONDS + 2, elapsed


@pytest.mark.worker
def test_healthy_with_redis(client: Client) -> None:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_a_failing_database_is_named_without_its_error(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unreachable database cannot be arranged under a test that runs inside it: its driver's
    # error is raised instead, with the kind of detail that must stay out of the answer.
    settings.REDIS_URL = ""

    def unreachable() -> str:
        raise OperationalError('connection to server at "db.internal" (10.1.2.3) failed')

    monkeypatch.setitem(health.CHECKS, "database", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "failed", "redis": "not configured"}
    assert_reveals_nothing(response.content.decode(), "db.internal", "10.1.2.3", "connection")


def test_no_session_cookie_and_no_sign_in(client: Client, settings: Any) -> None:
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert not response.cookies
    assert "Set-Cookie" not in response.headers
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405  # read-only: nothing to forge


def test_not_redirected_to_https_when_every_other_page_is(client: Client, settings: Any) -> None:
    settings.REDIS_URL = ""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/login/").status_code == 301
    assert client.get("/healthz").status_code == 200


# ---- one line per request ----------------------------------------------------------------------


def test_one_json_line_per_request_without_query_string_or_personal_data(
    client: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.REDIS_URL = ""
    person = UserFactory(username="eng-lovelace", email="ada@example.com", roles=["engineer"])
    client.force_login(person)
    with caplog.at_level(logging.INFO, logger="levelset.request"):
        response = client.get("/healthz?probe=salary+review+of+ada")
    [record] = request_lines(caplog)
    line = json_formatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["logger"] == "levelset.request" and entry["level"] == "INFO"
    assert entry["method"] == "GET"
    assert entry["path"] == "/healthz"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["user_id"] == person.pk
    assert entry["request_id"] == response["X-Request-ID"]
    assert len(entry["request_id"]) == 32  # made here: none was offered
    for private in ("salary", "probe", "eng-lovelace", "ada@example.com", person.last_name):
        assert private not in line


def test_every_kind_of_answer_is_logged_once(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="levelset.request"):
        client.get("/login/")
        client.get("/reviews/")  # anonymous: redirected to sign in
        client.get("/api/nothing-here/")
        client.post("/api/me/", {})
    lines = [(r.method, r.path, r.status, r.user_id) for r in request_lines(caplog)]  # type: ignore[attr-defined]
    assert lines == [
        ("GET", "/login/", 200, None),
        ("GET", "/reviews/", 302, None),
        ("GET", "/api/nothing-here/", 404, None),
        ("POST", "/api/me/", 401, None),
    ]


def test_a_request_id_from_the_proxy_is_kept_when_sane(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="levelset.request"):
        kept = client.get("/login/", headers={"X-Request-ID": "lb-7f3a:0001"})
        forged = client.get("/login/", headers={"X-Request-ID": 'x" "status": 200'})
        huge = client.get("/login/", headers={"X-Request-ID": "a" * 129})
    assert kept["X-Request-ID"] == "lb-7f3a:0001"
    assert forged["X-Request-ID"] != 'x" "status": 200' and len(forged["X-Request-ID"]) == 32
    assert huge["X-Request-ID"] != "a" * 129
    ids = [r.request_id for r in request_lines(caplog)]  # type: ignore[attr-defined]
    assert ids == [kept["X-Request-ID"], forged["X-Request-ID"], huge["X-Request-ID"]]


def test_an_api_token_user_is_logged_by_id(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    from knox.models import AuthToken

    person = UserFactory(username="eng-token", roles=["engineer"])
    _, token = AuthToken.objects.create(user=person)
    with caplog.at_level(logging.INFO, logger="levelset.request"):
        response = client.get("/api/me/", headers={"Authorization": f"Token {token}"})
    assert response.status_code == 200
    [record] = request_lines(caplog)
    assert record.user_id == person.pk  # type: ignore[attr-defined]


# ---- one line per Celery task ------------------------------------------------------------------


@app.task(name="tests.config.test_health.divide")
def divide(a: int, b: int) -> float:
    return a / b


def test_one_line_per_task_with_its_state_and_duration(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="levelset.task"):
        ok = divide.apply(args=[6, 3])
        failed = divide.apply(args=[1, 0], throw=False)
    records = [r for r in caplog.records if r.name == "levelset.task"]
    assert len(records) == 2
    formatter = json_formatter()
    done, error = (json.loads(formatter.format(r)) for r in records)
    assert done["task"] == "tests.config.test_health.divide"
    assert done["task_id"] == ok.id and done["state"] == "SUCCESS" and done["level"] == "INFO"
    assert isinstance(done["duration_ms"], float) and "error" not in done
    assert error["task_id"] == failed.id and error["state"] == "FAILURE"
    assert error["level"] == "ERROR" and error["error"] == "ZeroDivisionError"


# ---- the format: JSON in production, text in development --------------------------------------

LOG_A_LINE = (
    "import django, logging; django.setup(); "
    "logging.getLogger('levelset.request').info('hello', extra={'status': 200})"
)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    # As manage() does: nothing from the test run's own environment decides the outcome.
    dropped = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CACHE_URL", "AUDIT_KEY", "LOG_FORMAT"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_logs_json_lines_and_development_text() -> None:
    production = run_python(LOG_A_LINE, **PRODUCTION)
    assert production.returncode == 0, production.stderr
    entry = json.loads(production.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello" and entry["status"] == 200 and entry["level"] == "INFO"
    development = run_python(LOG_A_LINE, DEBUG="true")
    assert development.returncode == 0, development.stderr
    assert development.stderr.strip().endswith("INFO levelset.request hello")
    chosen = run_python(LOG_A_LINE, LOG_FORMAT="json", DEBUG="true")
    assert json.loads(chosen.stderr.strip().splitlines()[-1])["message"] == "hello"


def test_an_unknown_log_format_is_refused() -> None:
    result = run_python("import django; django.setup()", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text, not 'xml'" in result.stderr
