"""The production profile, for real: `make serve` runs check, collectstatic and migrate, then
gunicorn, a Celery worker and Celery beat under honcho, on PostgreSQL and Redis. A person signs
in through the real form, a task goes through the real broker to the worker, every log line is
JSON, and SIGTERM stops it all."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from audit.tasks import verify_audit_chain
from tests.config.test_settings import ROOT
from tests.factories import UserFactory
from tests.workers import database_url_for_subprocess

HONCHO_LINE = re.compile(r"^\d\d:\d\d:\d\d (?P<process>[\w.]+)\s+\| (?P<text>.*)$")
KEEP = {"PATH", "HOME", "LANG", "VIRTUAL_ENV"}
PASSWORD = "correct horse battery staple 42"
STARTUP_SECONDS = 600


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- refusing to start -------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["SECRET_KEY", "AUDIT_KEY", "ALLOWED_HOSTS", "REDIS_URL"])
def test_make_serve_refuses_without_a_required_setting(missing: str, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k in KEEP},
        "SECRET_KEY": "prod-" + "k3y-" * 15,
        "AUDIT_KEY": "audit-" + "k3y-" * 10,
        "ALLOWED_HOSTS": "levelset.example.com",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "LEVELSET_VAR_DIR": str(tmp_path / "var"),
    }
    del env[missing]
    result = subprocess.run(
        ["make", "--no-print-directory", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"make serve: set {missing} in the environment" in result.stderr
    assert not (tmp_path / "var" / "static").exists()  # refused before doing anything


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_celery_refuses_to_start_without_a_broker_in_production(
    process: str, tmp_path: Path
) -> None:
    """Run on its own (outside `make serve`), a worker or beat without REDIS_URL would wait on
    an in-memory queue no other process can reach."""
    env = {
        **{k: v for k, v in os.environ.items() if k in KEEP},
        "DEBUG": "false",
        "SECRET_KEY": "prod-" + "k3y-" * 15,
        "AUDIT_KEY": "audit-" + "k3y-" * 10,
        "ALLOWED_HOSTS": "levelset.example.com",
        "LEVELSET_VAR_DIR": str(tmp_path / "var"),
    }
    options = ["--pool=solo"] if process == "worker" else ["--schedule", str(tmp_path / "s")]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "--quiet", process, *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "REDIS_URL must be set to run Celery workers or beat." in result.stderr


# ---- the profile, running ----------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


class Browser:
    """Plain HTTP to the profile, keeping cookies by hand: with DEBUG off they are marked
    Secure, which a cookie jar would not send over the plain HTTP used here."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            answer = Answer(response.status, response.headers, response.read().decode())
        finally:
            conn.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return answer


@dataclass
class Profile:
    browser: Browser
    queue: str
    process: subprocess.Popen[bytes]
    log: Path

    def honcho_pid(self) -> int:
        """honcho, which `make serve` started in the profile's process group."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue  # gone since the listing
            group = int(stat.rsplit(")", 1)[1].split()[2])
            if group == self.process.pid and any(part.endswith(b"honcho") for part in command):
                return int(entry.name)
        raise AssertionError("honcho is not running")

    def stop_after_a_failure(self) -> None:
        """The test failed before stopping the profile: stop it, and never leave a process
        behind (honcho starts each one in a session of its own)."""
        started = [int(p) for p in re.findall(r"started \(pid=(\d+)\)", self.log.read_text())]
        try:
            os.kill(self.honcho_pid(), signal.SIGTERM)
            self.process.wait(30)
        except (AssertionError, subprocess.TimeoutExpired):
            pass
        for pid in started:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue  # stopped
            ours = (self.queue, f"127.0.0.1:{self.browser.port}", str(self.log.parent))
            if any(mark.encode() in command for mark in ours):
                os.killpg(pid, signal.SIGKILL)
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def lines(self) -> list[tuple[str, str]]:
        """(process, text) for each line honcho printed."""
        found = []
        for raw in self.log.read_text(errors="replace").splitlines():
            match = HONCHO_LINE.match(raw)
            if match:
                found.append((match["process"], match["text"]))
        return found

    def json_lines(self) -> list[tuple[str, dict[str, Any]]]:
        entries = []
        for process, text in self.lines():
            if text.startswith("{"):
                entries.append((process, json.loads(text)))  # every JSON line parses
        return entries

    def wait_for_line(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process, entry in self.json_lines():
                if predicate(process, entry):
                    return entry
            time.sleep(0.3)
        raise AssertionError(self.log.read_text()[-4000:])


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[Profile]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test")
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    port = free_port()
    queue = f"levelset-profile-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if k in KEEP},
        "DEBUG": "false",
        "SECRET_KEY": "profile-" + "k3y-" * 15,
        # This test run's audit key and checkpoint store, so the worker verifies the chain the
        # test sees.
        "AUDIT_KEY": settings.AUDIT_KEY,
        "AUDIT_CHECKPOINTS": settings.AUDIT_CHECKPOINTS,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        "CELERY_CONCURRENCY": "1",
        "LEVELSET_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        # `-o install`: the environment is already installed; everything else is `make serve`.
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-o", "install", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    profile = Profile(Browser(port), queue, process, log)
    try:
        # collectstatic compresses every static file (gzip and brotli): minutes on a busy machine.
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if profile.browser.request("GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(log.read_text()[-4000:])
            time.sleep(0.5)
        yield profile
    finally:
        if process.poll() is None:
            profile.stop_after_a_failure()
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete(queue)


@pytest.mark.postgres
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(STARTUP_SECONDS + 180)
def test_the_production_profile_serves_signs_in_runs_tasks_logs_json_and_stops(
    profile: Profile,
) -> None:
    browser = profile.browser
    # Created here, committed (a transactional test), so the profile's processes see it; the
    # password hashed as production hashes it, not by the tests' fast hasher.
    person = UserFactory(
        username="eng-grace", first_name="Grace", last_name="Hopper", roles=["engineer"]
    )
    hasher = PBKDF2PasswordHasher()
    person.password = hasher.encode(PASSWORD, hasher.salt())
    person.save(update_fields=["password"])

    health = browser.request("GET", "/healthz?probe=secret-search-term")
    assert health.status == 200
    assert json.loads(health.body) == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok"},
    }
    assert health.headers.get("Set-Cookie") is None

    # Static files were collected and are served by gunicorn (whitenoise), hashed.
    login_page = browser.request("GET", "/login/")
    assert login_page.status == 200
    stylesheet = re.search(r'href="(/static/css/levelset\.[0-9a-f]{12}\.css)"', login_page.body)
    assert stylesheet, login_page.body[:2000]
    css = browser.request("GET", stylesheet.group(1))
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")

    # Signing in through the real form: its CSRF token and cookie, then the POST.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.body)
    assert token and "csrftoken" in browser.cookies, login_page.body[:2000]
    signed_in = browser.request(
        "POST",
        "/login/",
        form={
            "csrfmiddlewaretoken": token.group(1),
            "username": "eng-grace",
            "password": PASSWORD,
            "next": "/reviews/",
        },
    )
    assert signed_in.status == 302, signed_in.body[:2000]
    assert signed_in.headers["Location"] == "/reviews/"
    assert "sessionid" in browser.cookies
    page = browser.request("GET", "/reviews/")
    assert page.status == 200
    assert "Grace Hopper" in page.body

    # A real task, through Redis, run by the profile's worker.
    result = verify_audit_chain.apply_async(queue=profile.queue)
    outcome = result.get(timeout=60)
    assert outcome["ok"] is True, outcome
    task_line = profile.wait_for_line(
        lambda process, e: process.startswith("worker") and e.get("task_id") == result.id
    )
    assert task_line["task"] == "audit.tasks.verify_audit_chain"
    assert task_line["state"] == "SUCCESS" and task_line["logger"] == "levelset.task"
    assert isinstance(task_line["duration_ms"], float)
    profile.wait_for_line(
        lambda process, e: process.startswith("worker") and e["message"].endswith(" ready.")
    )
    profile.wait_for_line(
        lambda process, e: process.startswith("beat") and e["message"] == "beat: Starting..."
    )

    # One JSON line per request, from the web process, with who asked by id only.
    requests = [
        entry
        for process, entry in profile.json_lines()
        if process.startswith("web") and entry.get("logger") == "levelset.request"
    ]
    # From this test's first request on (the fixture asked /healthz until it answered).
    first = [e["request_id"] for e in requests].index(health.headers["X-Request-ID"])
    requests = requests[first:]
    seen = [(e["method"], e["path"], e["status"], e["user_id"]) for e in requests]
    assert seen == [
        ("GET", "/healthz", 200, None),
        ("GET", "/login/", 200, None),
        ("GET", stylesheet.group(1), 200, None),
        ("POST", "/login/", 302, person.pk),
        ("GET", "/reviews/", 200, person.pk),
    ]
    assert all(isinstance(e["duration_ms"], float) and e["request_id"] for e in requests)
    text = profile.log.read_text()
    for private in ("secret-search-term", "Hopper", PASSWORD):
        assert private not in text
    # gunicorn's access log would repeat each request in its own format.
    assert not [t for p, t in profile.lines() if p.startswith("web") and ' HTTP/1.1"' in t]

    # SIGTERM to honcho stops every process, and the profile exits.
    pids = [int(p) for p in re.findall(r"started \(pid=(\d+)\)", text)]
    assert len(pids) == 3
    os.kill(profile.honcho_pid(), signal.SIGTERM)
    profile.process.wait(timeout=30)  # make returns once honcho has stopped everything
    text = profile.log.read_text()
    for name in ("web.1", "worker.1", "beat.1"):
        assert f"{name} stopped" in text, text[-3000:]
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
