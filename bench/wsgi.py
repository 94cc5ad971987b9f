"""What the served benchmark's gunicorn runs: config.wsgi's application, unchanged for every
request but one carrying an `X-Bench-Queries` header, which is answered with the number of
SQL statements it ran in that same header (bench/served.py asks once per route, beside the
timed requests)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection

from bench.served import QUERIES_HEADER
from config.wsgi import application as levelset

ASKED = "HTTP_" + QUERIES_HEADER.upper().replace("-", "_")  # as WSGI names the header


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if ASKED not in environ:
        return levelset(environ, start_response)
    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    def respond(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        # Django starts the response once the view has run: every query is counted by then.
        return start_response(status, [*headers, (QUERIES_HEADER, str(statements))], *args)

    with connection.execute_wrapper(count):
        return levelset(environ, respond)
