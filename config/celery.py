from __future__ import annotations

import logging
import os
import time
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("levelset")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Django's LOGGING (a JSON line per record in production) applies to workers and beat as it does
# to the web processes: Celery must neither replace the root logger's handlers nor add its own.
app.conf.worker_hijack_root_logger = False
app.autodiscover_tasks()

task_logger = logging.getLogger("levelset.task")

# Per process: a task's prerun, failure and postrun signals all fire in the process that runs it.
_started: dict[str, float] = {}
_errors: dict[str, str] = {}


@signals.setup_logging.connect
def _keep_django_logging(**kwargs: Any) -> None:
    """A receiver here tells Celery that logging is configured elsewhere (Django's LOGGING)."""


def _require_a_broker(**kwargs: Any) -> None:
    from django.conf import settings

    if not settings.DEBUG and not settings.REDIS_URL:
        # Without Redis the broker is an in-memory queue inside this one process: a worker
        # would wait on it for ever and beat would send the schedule nowhere. SystemExit, as
        # Celery logs and then ignores any Exception a signal receiver raises.
        raise SystemExit("REDIS_URL must be set to run Celery workers or beat.")


signals.worker_init.connect(_require_a_broker, weak=False)
signals.beat_init.connect(_require_a_broker, weak=False)


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id is not None:
        _started[task_id] = time.perf_counter()


@signals.task_failure.connect
def _task_failed(
    task_id: str | None = None, exception: BaseException | None = None, **kwargs: Any
) -> None:
    # Named on the task's one line (task_postrun follows); Celery logs the traceback itself.
    if task_id is not None and exception is not None:
        _errors[task_id] = type(exception).__name__


@signals.task_postrun.connect
def _task_finished(
    task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    """One line per task run: its name, id, final state and how long it took."""
    if task_id is None:
        return
    started = _started.pop(task_id, None)
    duration_ms = None if started is None else round((time.perf_counter() - started) * 1000, 1)
    name = getattr(task, "name", None)
    fields: dict[str, Any] = {
        "task": name,
        "task_id": task_id,
        "state": state,
        "duration_ms": duration_ms,
    }
    error = _errors.pop(task_id, None)
    if error is not None:
        fields["error"] = error
    task_logger.log(
        logging.ERROR if state == "FAILURE" else logging.INFO,
        "task %s %s %s",
        name,
        state,
        "" if duration_ms is None else f"{duration_ms:.1f}ms",
        extra=fields,
    )
