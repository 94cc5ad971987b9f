"""Settings come from the environment and fail loudly; production passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "prod-" + "k3y-" * 15,
    "ALLOWED_HOSTS": "levelset.example.com",
    "CACHE_URL": "redis://cache.example.com:6379/1",
    "AUDIT_KEY": "audit-" + "k3y-" * 10,
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    dropped = {
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "CACHE_URL",
        "AUDIT_KEY",
    }
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_env_helpers_parse_and_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a.example, b.example,")
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 0) == 42
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    assert env_bool("X_MISSING", True) is True
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL must be one of"):
        env_bool("X_BOOL", False)
    monkeypatch.setenv("X_INT", "forty")
    with pytest.raises(ImproperlyConfigured, match="X_INT must be an integer"):
        env_int("X_INT", 0)
    monkeypatch.setenv("X_FLOAT", "1.5")
    assert env_float("X_FLOAT", 4.0) == 1.5
    assert env_float("X_MISSING", 4.0) == 4.0
    for bad in ("fast", "0", "-2", "nan", "inf"):
        monkeypatch.setenv("X_FLOAT", bad)
        with pytest.raises(ImproperlyConfigured, match="X_FLOAT must be a positive number"):
            env_float("X_FLOAT", 4.0)


def test_production_check_deploy_passes() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_with_a_per_process_cache_is_warned() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "CACHE_URL"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", CACHE_URL="", **env)
    assert result.returncode != 0
    assert "core.W001" in result.stderr and "Set CACHE_URL" in result.stderr
    off = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **env,
        CACHE_URL="",
        LEVELSET_READ_CACHE="false",
    )
    assert off.returncode == 0, off.stderr + off.stdout


def test_production_without_secret_key_refuses_to_start() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_bad_boolean_fails_loudly() -> None:
    result = manage("check", DEBUG="sometimes")
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_celery_is_eager_without_redis_and_uses_redis_with_it() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
    )
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    eager = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert eager.stdout.split() == ["True", "memory://"]
    env["REDIS_URL"] = "redis://127.0.0.1:6379/5"
    broker = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert broker.stdout.split() == ["False", "redis://127.0.0.1:6379/5"]
