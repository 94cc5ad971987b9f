"""Schemathesis against the published OpenAPI schema, as six roles would call it (nobody
signed in, an engineer, their manager, the skip-level director, the facilitator who also sits
on promotion committees, and HR): bounded examples from every operation's schema and past its
edges, against a production-mode server over HTTP on the demo organisation. No answer may be
a server error, and every answer (status, content type, body) must be one the schema
documents."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from knox.models import AuthToken

from tests.workers import database_url_for_subprocess

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.fuzz]

ROLES = {
    "anonymous": None,
    "engineer": "eng02",
    "manager": "manager.payments",
    "skip-level": "director",
    "facilitator-committee": "facilitator",
    "hr": "hr",
}
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)
# Bounded: this many generated requests per operation and phase, on a fixed seed so a run can
# be replayed (`LEVELSET_FUZZ_EXAMPLES` raises it for a longer search).
EXAMPLES = int(os.environ.get("LEVELSET_FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("LEVELSET_FUZZ_SEED", "1"))
# Revoking a token is left out: the fuzzer would learn the caller's own token from the token
# list and revoke it, which is allowed, and every later request would be anonymous.
EXCLUDED = ["tokens_destroy"]
PROXIED = {"X-Forwarded-Proto": "https"}  # as the TLS proxy in front of Levelset forwards it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    queue = f"levelset-fuzz-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "fuzz-" + "k3y-" * 15,
        "AUDIT_KEY": settings.AUDIT_KEY,
        "AUDIT_CHECKPOINTS": settings.AUDIT_CHECKPOINTS,
        "ALLOWED_HOSTS": "127.0.0.1",
        "BEHIND_TLS_PROXY": "true",
        "DATABASE_URL": database_url_for_subprocess(),
        "LEVELSET_VAR_DIR": str(tmp_path / "var"),
        "CELERY_QUEUE": queue,  # nobody consumes it: exports stay queued, and are removed
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(
                urllib.request.Request(f"{base}/api/me/", headers=PROXIED), timeout=5
            )
            break
        except urllib.error.HTTPError:
            break  # up: it answers (401, nobody signed in)
        except OSError as exc:
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError((tmp_path / "server.log").read_text()[-3000:]) from exc
            time.sleep(0.3)
    try:
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        if settings.REDIS_URL:
            import redis

            redis.Redis.from_url(settings.REDIS_URL).delete(queue)


def fetch_schema(base: str, token: str, path: Path) -> Path:
    request = urllib.request.Request(
        f"{base}/api/schema/?format=json",
        headers={"Authorization": f"Token {token}", **PROXIED},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        path.write_bytes(response.read())
    return path


def known_objects(path: Path) -> Path:
    """A schemathesis configuration that sends, half of the time, ids and names of objects
    that exist (each path's own kind: reviews, cycles, sessions, promotions, appeals, teams,
    evidence, rubrics and their versions), so requests reach past the 404 into permissions
    and rules."""
    from calibration.models import Appeal, CalibrationSession
    from people.models import Team
    from promotions.models import PromotionCase
    from reviews.models import Evidence, Review, ReviewCycle
    from rubrics.models import Rubric, RubricVersion

    def ids(model: Any) -> list[Any]:
        return sorted(model.objects.values_list("pk", flat=True))

    by_path = {  # the objects an `{id}` names under each address
        "reviews": ("^/api/reviews/", ids(Review)),
        "cycles": ("^/api/cycles/", ids(ReviewCycle)),
        "sessions": ("^/api/calibration/sessions/", ids(CalibrationSession)),
        "promotions": ("^/api/promotions/", ids(PromotionCase)),
        "appeals": ("^/api/appeals/", ids(Appeal)),
        "teams": ("^/api/teams/", ids(Team)),
    }
    everywhere = {
        "path.evidence_pk": ids(Evidence),
        "path.slug": sorted(Rubric.objects.values_list("slug", flat=True)),
        "path.number": sorted(set(RubricVersion.objects.values_list("number", flat=True))),
        "path.axis": ["scope", "complexity", "consistency"],
    }

    def binding(name: str) -> str:
        return f'{{ dictionary = "{name}", probability = 0.5 }}'

    lines: list[str] = []
    dictionaries = {name: values for name, (_, values) in by_path.items()}
    dictionaries |= {key.split(".")[1]: values for key, values in everywhere.items()}
    for name, values in dictionaries.items():
        if values:
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    lines += [f'"{key}" = {binding(key.split(".")[1])}' for key, v in everywhere.items() if v]
    for name, (regex, values) in by_path.items():
        if values:
            lines += ["", "[[operations]]", f'include-path-regex = "{regex}"']
            lines.append(f'parameters = {{ "path.id" = {binding(name)} }}')
    path.write_text("\n".join(lines) + "\n")
    return path


def run_schemathesis(schema: Path, base: str, token: str | None, report: Path, config: Path) -> Any:
    headers = ["-H", "X-Forwarded-Proto: https"]
    if token:
        headers += ["-H", f"Authorization: Token {token}"]
    excluded = [arg for op in EXCLUDED for arg in ("--exclude-operation-id", op)]
    return subprocess.run(
        [
            str(VENV_BIN / "st"),
            "--config-file",
            str(config),
            "run",
            str(schema),
            "--url",
            base,
            *headers,
            *excluded,
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "ndjson",
            "--report-ndjson-path",
            str(report),
        ],
        cwd=report.parent,
        capture_output=True,
        text=True,
        timeout=900,
    )


def requests_made(report: Path) -> int:
    return sum(line.count('"request":') for line in report.read_text().splitlines())


@pytest.mark.timeout(1800)  # six callers, each a few thousand requests (about 8 min on PostgreSQL)
def test_no_server_error_and_no_answer_off_the_schema_for_six_roles(
    server: str, tmp_path: Path, artifacts_dir: Path
) -> None:
    call_command("seed_demo", verbosity=0)
    users = get_user_model().objects.in_bulk(
        [u for u in ROLES.values() if u], field_name="username"
    )
    tokens = {
        role: AuthToken.objects.create(user=users[username])[1] if username else None
        for role, username in ROLES.items()
    }
    schema = fetch_schema(server, str(tokens["hr"]), tmp_path / "schema.json")
    operations = sum(
        method in {"get", "post", "put", "patch", "delete"}
        for item in json.loads(schema.read_text())["paths"].values()
        for method in item
    )

    config = known_objects(tmp_path / "schemathesis.toml")

    failures, summary = [], {}
    only = os.environ.get("LEVELSET_FUZZ_ROLES")  # e.g. "hr,engineer" for a focused run
    for role, token in tokens.items():
        if only and role not in only.split(","):
            continue
        report = tmp_path / f"schemathesis-{role}.ndjson"
        result = run_schemathesis(schema, server, token, report, config)
        (artifacts_dir / f"schemathesis-{role}.txt").write_text(result.stdout + result.stderr)
        summary[role] = requests_made(report)
        if result.returncode != 0:
            failures.append(f"--- {role} ---\n{result.stdout[-6000:]}{result.stderr[-2000:]}")
    print("schemathesis requests per role:", summary, "operations:", operations)
    assert not failures, "\n".join(failures)
    # Every role really exercised every operation (excluded ones aside).
    for role, made in summary.items():
        assert made >= (operations - len(EXCLUDED)) * 2, (role, made)
