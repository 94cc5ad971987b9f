"""Real Celery workers for tests: a subprocess consuming a private queue against this run's
test database (and its own audit checkpoint store)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import IO, Any

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_subprocess() -> str:
    """The URL of the database this test run uses (the test database, not the real one)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db["USER"] or "postgres"
        return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def private_queue() -> str:
    """A queue no other test run consumes (skips the test without Redis)."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0")
    return f"levelset-test-{uuid.uuid4().hex[:8]}"


def start_worker(
    queue: str,
    *,
    env: dict[str, str] | None = None,
    output: IO[Any] | int = subprocess.PIPE,
    loglevel: str = "WARNING",
) -> subprocess.Popen[str]:
    """`celery worker` on `queue`, one task at a time; `env` adds to this process's own."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "CELERY_QUEUE": queue,
        "AUDIT_CHECKPOINTS": settings.AUDIT_CHECKPOINTS,  # this test's own store
        **(env or {}),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "-n",
            f"{uuid.uuid4().hex[:6]}-{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            f"--loglevel={loglevel}",
        ],
        cwd=ROOT,
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_worker(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
