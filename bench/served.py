"""The served application: every persona's pages and API over HTTP from gunicorn, at 1,000 and
at 10,000 engineers. Import after django.setup() (bench/__main__.py); `python -m bench served`.

1. Organisations of 1,000 and then 10,000 engineers (bench/org.py: `import_people`, then the
   services), in a throw-away database: `levelset_bench_<pid>` on the PostgreSQL server of
   DATABASE_URL, dropped at the end, or SQLite in a temporary directory.
2. gunicorn serves it as production does (2 sync workers on 127.0.0.1, DEBUG off, the static
   files collected, the read cache on Redis when REDIS_URL is set). Each route of ROUTES is
   read by its persona (a session for pages, an API token for the API) over HTTP, interleaved
   with `GET /api/me/` for the same persona and the same sign-in: the figure is the ratio of
   the two medians. Targets: ≤ 5× (the calibration board of about 500 reviews ≤ 10×), and a
   growth from 1,000 to 10,000 engineers of at most 1.2×. One more request per route counts
   its SQL statements (bench/wsgi.py). The GET routes of the URLconf that ROUTES does not
   cover are listed.
3. Memory, at 10,000: each worker's resident set after warming up on `GET /api/me/`, then
   after rounds of the heaviest route at 1,000. Target: within 20% of the first.
4. Load, at 10,000 (bench/locustfile.py, headless, loopback): engineers, managers and HR
   reading their usual pages and API, read-only, then with 5% writes (managers' rating PUTs,
   engineers' evidence edits and additions), twice each, alternating. Targets: the mixed
   throughput ≥ 80% of the read-only one, the mixed read p95 ≤ 1.5× the read-only one.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from bench.measure import verdict

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET = 5.0
BOARD_RATIO_TARGET = 10.0
GROWTH_TARGET = 1.2
MEMORY_TARGET = 1.2
THROUGHPUT_TARGET = 0.8
P95_TARGET = 1.5
RUNS = 15  # interleaved pairs per route
LOAD_SECONDS = 12  # per load run; four runs
LOAD_USERS = 6
BASELINE = "api-me"
# Asked once per route: bench/wsgi.py answers with the SQL statements the request ran.
QUERIES_HEADER = "X-Bench-Queries"


@dataclass(frozen=True)
class Route:
    """A GET route read by a persona: `name` is the URL name, `args` names ids of the
    organisation's facts (bench/org.py), `query` is added as it is."""

    name: str
    persona: str
    args: dict[str, str] = field(default_factory=dict)
    query: str = ""
    target: float = RATIO_TARGET
    # A download of the whole organisation grows with it by nature: measured, no target.
    whole_organisation: bool = False

    @property
    def api(self) -> bool:
        return self.name.startswith("api-")

    def path(self, ids: dict[str, Any]) -> str:
        kwargs = {key: ids.get(value, value) for key, value in self.args.items()}
        return reverse(self.name, kwargs=kwargs) + (f"?{self.query}" if self.query else "")

    def label(self) -> str:
        query = re.sub(r"\{\w+\}", "…", f" ?{self.query}" if self.query else "")
        return f"{self.persona:<11} {self.name}{query}"


BOARD = {"pk": "board"}
RUBRIC = {"slug": "backend-engineering"}
VERSION = {"slug": "backend-engineering", "number": "version"}
# What each persona reads: pages with the session, the API with a token.
ROUTES = [
    # The engineer: a self-review open in "H2 late", a finalised H1 review with an appeal.
    Route("reviews:list", "engineer"),
    Route("reviews:detail", "engineer", {"pk": "engineer_review"}),
    Route("reviews:score", "engineer", {"pk": "engineer_past_review"}),
    Route("reviews:what-if", "engineer", {"pk": "engineer_past_review"}, "r_delivery=5"),
    Route("calibration:review-history", "engineer", {"pk": "engineer_past_review"}),
    Route("promotions:list", "engineer"),
    Route("notify:list", "engineer"),
    Route("notify:preferences", "engineer"),
    Route("account", "engineer"),
    Route("rubrics:list", "engineer"),
    Route("rubrics:detail", "engineer", RUBRIC),
    Route("api-review-list", "engineer"),
    Route("api-review-detail", "engineer", {"pk": "engineer_review"}),
    Route("api-evidence", "engineer", {"pk": "engineer_review"}),
    Route("api-score", "engineer", {"pk": "engineer_past_review"}),
    Route("api-calibration-history", "engineer", {"pk": "engineer_past_review"}),
    Route("api-appeal-list", "engineer"),
    Route("api-notifications", "engineer"),
    Route("api-notifications-unread-count", "engineer"),
    Route("api-notifications-preferences", "engineer"),
    Route("api-token-list", "engineer"),
    Route("api-rubric-list", "engineer"),
    Route("api-rubric-detail", "engineer", RUBRIC),
    Route("api-rubric-changelog", "engineer", RUBRIC),
    Route("api-version-detail", "engineer", VERSION),
    # The manager: ten reports waiting for their ratings in H2, promotion cases, a seat on
    # the board; and a director reading two levels down.
    Route("reviews:list", "manager"),
    Route("reviews:team", "manager"),
    Route("reviews:rate", "manager", {"pk": "manager_review"}),
    Route("reviews:detail", "manager", {"pk": "manager_review"}),
    Route("promotions:list", "manager"),
    Route("promotions:case", "manager", {"pk": "draft_case"}),
    Route("calibration:list", "manager"),
    Route("api-review-list", "manager"),
    Route("api-review-detail", "manager", {"pk": "manager_review"}),
    Route("api-score", "manager", {"pk": "manager_review"}),
    Route("api-team-metrics", "manager", {"pk": "team"}),
    Route("api-cycle-list", "manager"),
    Route("api-case-list", "manager"),
    Route("api-case-detail", "manager", {"pk": "draft_case"}),
    Route("api-session-list", "manager"),
    Route("reviews:list", "director"),
    Route("api-review-list", "director"),
    # HR: everything in scope.
    Route("reviews:list", "hr"),
    Route("reviews:list", "hr", query="state=manager_submitted&o=-evidence"),
    Route("reviews:cycles", "hr"),
    Route("reviews:cycle", "hr", {"pk": "current_cycle"}),
    Route("reviews:cycle-advance", "hr", {"pk": "current_cycle"}),
    Route("reviews:metrics-upload", "hr", {"pk": "current_cycle"}),
    Route("calibration:list", "hr"),
    Route("calibration:new", "hr"),
    Route("calibration:detail", "hr", BOARD, target=BOARD_RATIO_TARGET),
    Route("calibration:health", "hr", {"pk": "current_cycle"}),
    Route("calibration:appeals", "hr"),
    Route("calibration:appeal", "hr", {"pk": "engineer_appeal"}),
    Route("promotions:list", "hr"),
    Route("promotions:case", "hr", {"pk": "case"}),
    Route("promotions:exports", "hr"),
    Route("promotions:export-row", "hr", {"job_id": "export_job"}),
    Route("audit:log", "hr"),
    Route("audit:people", "hr", query="actor=eva"),
    Route("people:import", "hr"),
    Route("people:export", "hr", whole_organisation=True),
    Route("rubrics:import", "hr"),
    Route("rubrics:version", "hr", VERSION),
    Route("rubrics:diff", "hr", RUBRIC, "from=1&to=2"),
    Route("notify:list", "hr"),
    Route("api-review-list", "hr"),
    Route("api-review-list", "hr", query="cycle={current_cycle}&state=self_submitted"),
    Route("api-cycle-list", "hr"),
    Route("api-cycle-health", "hr", {"pk": "current_cycle"}),
    Route("api-session-board", "hr", BOARD, target=BOARD_RATIO_TARGET),
    Route("api-appeal-list", "hr"),
    Route("api-case-list", "hr"),
    Route("api-export-status", "hr", {"job_id": "export_job"}),
    Route("api-audit-events", "hr"),
    Route("api-audit-chain", "hr"),
    Route("api-version-export", "hr", VERSION),
    Route("api-version-lint", "hr", VERSION),
    Route("api-rubric-diff", "hr", RUBRIC, "from=1&to=2"),
    # The facilitator: the sessions and the open board of about 500 reviews.
    Route("calibration:list", "facilitator"),
    Route("calibration:detail", "facilitator", BOARD, target=BOARD_RATIO_TARGET),
    Route("calibration:adjust-form", "facilitator", {"pk": "board", "review_pk": "board_review"}),
    Route("api-session-list", "facilitator"),
    Route("api-session-detail", "facilitator", BOARD),
    Route("api-session-board", "facilitator", BOARD, target=BOARD_RATIO_TARGET),
    Route("api-session-analytics", "facilitator", BOARD, target=BOARD_RATIO_TARGET),
    Route("api-session-adjustments", "facilitator", BOARD),
    Route("api-session-export", "facilitator", BOARD, target=BOARD_RATIO_TARGET),
    # The promotion committee: the cases they sit on.
    Route("promotions:list", "committee"),
    Route("promotions:case", "committee", {"pk": "case"}),
    Route("promotions:job", "committee", {"job_id": "case_job"}),
    Route("api-case-list", "committee"),
    Route("api-case-detail", "committee", {"pk": "case"}),
]


def _line(label: str, text: str) -> None:
    print(f"{label:<54} {text}", flush=True)


# ---- the database, the organisation and the server ----------------------------------------------


@contextlib.contextmanager
def throwaway_database(work: Path) -> Iterator[str]:
    """A database of the benchmark's own: on the PostgreSQL server of DATABASE_URL when set
    (created now, dropped at the end), else a SQLite file in `work`."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{work / 'levelset.sqlite3'}"
        return
    db = connection.settings_dict
    name = f"levelset_bench_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    try:
        yield f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(database_url: str, var_dir: Path, *, served: bool) -> dict[str, str]:
    """Production's settings for the builder and the server: DEBUG off, the benchmark's own
    database and var directory, the static files the benchmark collected, no log line per
    request (it would skew the timings). The read cache is shared through Redis when
    REDIS_URL is set; the server queues its tasks on a queue of its own, the builder to its
    in-memory broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "LEVELSET_VAR_DIR": str(var_dir),
        "STATIC_ROOT": str(settings.STATIC_ROOT),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
    }
    env.pop("REDIS_URL", None)
    env.pop("CACHE_URL", None)
    if settings.REDIS_URL:
        env["CACHE_URL"] = settings.REDIS_URL
        if served:
            env["REDIS_URL"] = settings.REDIS_URL
            env["CELERY_QUEUE"] = queue_name()
    return env


def queue_name() -> str:
    return f"levelset-bench-{os.getpid()}"


def build(stage: str, database_url: str, var_dir: Path) -> dict[str, Any]:
    facts = var_dir / f"facts-{stage}.json"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench.build", stage, str(facts)],
        cwd=ROOT,
        env=environment(database_url, var_dir, served=False),
        check=True,
    )
    data: dict[str, Any] = json.loads(facts.read_text())
    held = ", ".join(f"{n:,} {what}" for what, n in data["held"].items())
    print(
        f"{data['people']:,} engineers, built in {time.perf_counter() - start:.0f} s: {held}"
        f" (load average {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return sorted(int(pid) for pid in path.read_text().split())


@contextlib.contextmanager
def serve(database_url: str, var_dir: Path) -> Iterator[Server]:
    """gunicorn as the Procfile runs it, with 2 sync workers on a free loopback port."""
    port = free_port()
    log = var_dir / "gunicorn.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bench.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=environment(database_url, var_dir, served=True),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                status, _ = Client(port).get("/healthz", None)
                if status == 200 and len(server.workers()) == 2:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- the client ---------------------------------------------------------------------------------


class Client:
    """HTTP/1.1 over one connection (a sync worker closes it after each answer; http.client
    opens the next one)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.queries: str | None = None  # the last answer's count, when it was asked for

    def get(
        self, path: str, persona: dict[str, Any] | None, api: bool = False, **extra: str
    ) -> tuple[int, bytes]:
        headers = {"Host": "127.0.0.1", "Connection": "keep-alive", **extra}
        if persona is not None and api:
            headers["Authorization"] = f"Token {persona['token']}"
            headers["Accept"] = "application/json"
        elif persona is not None:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={persona['session']}"
        try:
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            raise
        if response.will_close:
            self.connection.close()
        self.queries = response.getheader(QUERIES_HEADER)
        return response.status, body

    def queries_of(self, path: str, persona: dict[str, Any], api: bool) -> int:
        """The SQL statements one request runs (bench/wsgi.py counts them)."""
        self.get(path, persona, api, **{QUERIES_HEADER: "1"})
        return int(self.queries or 0)

    def timed(self, path: str, persona: dict[str, Any], api: bool) -> tuple[float, int, int]:
        start = time.perf_counter()
        status, body = self.get(path, persona, api)
        return (time.perf_counter() - start) * 1000, status, len(body)


# ---- 2. every route -----------------------------------------------------------------------------


@dataclass
class Figure:
    route: Route
    median: float = 0.0
    baseline: float = 0.0
    size: int = 0
    queries: int = 0
    problem: str = ""

    @property
    def ratio(self) -> float:
        return self.median / self.baseline if self.baseline else 0.0


def measure_routes(client: Client, facts: dict[str, Any]) -> list[Figure]:
    figures = []
    ids = facts["ids"]
    me = reverse(BASELINE)
    for route in ROUTES:
        persona = facts["personas"][route.persona]
        figure = Figure(route)
        figures.append(figure)
        try:
            path = route.path(ids).format(**ids)
        except NoReverseMatch:
            figure.problem = "no such route in the URLconf"
            continue
        for _ in range(3):  # warm-up: both workers, their per-process caches and the read cache
            status, body = client.get(path, persona, route.api)
            client.get(me, persona, route.api)
        if status != 200:
            figure.problem = f"{path} answered {status}: {body[:120]!r}"
            continue
        figure.queries = client.queries_of(path, persona, route.api)
        samples: dict[str, list[float]] = {"route": [], "me": []}
        for _ in range(RUNS):
            elapsed, status, figure.size = client.timed(path, persona, route.api)
            if status != 200:
                figure.problem = f"{path} answered {status} on a later request"
            samples["route"].append(elapsed)
            samples["me"].append(client.timed(me, persona, route.api)[0])
        figure.median = statistics.median(samples["route"])
        figure.baseline = statistics.median(samples["me"])
    return figures


def _size(size: int) -> str:
    return f"{size // 1024:,} KB" if size >= 1024 else f"{size} B"


def report_routes(figures: list[Figure], earlier: list[Figure] | None, people: int) -> None:
    print(
        f"Every route at {people:,} engineers: median, × GET /api/me/ (same persona, same "
        "sign-in), body, SQL statements"
    )
    for n, figure in enumerate(figures):
        route = figure.route
        if figure.problem:
            _line(route.label(), f"MISS {figure.problem}")
            continue
        text = (
            f"{figure.median:7.1f} ms {figure.ratio:5.1f}× {_size(figure.size):>7}"
            f" {figure.queries:4d} q"
        )
        if route.whole_organisation:
            text += "  (the whole organisation: no target)"
        else:
            text += f"  {verdict(figure.ratio <= route.target)} (≤ {route.target:g}×)"
        before = earlier[n] if earlier else None
        if before is not None and before.ratio and not route.whole_organisation:
            growth = figure.ratio / before.ratio
            text += f"  growth {growth:.2f}× {verdict(growth <= GROWTH_TARGET)}"
            if figure.queries != before.queries:
                text += f"  ({before.queries} → {figure.queries} q)"
        _line(route.label(), text)
    baselines = [f.baseline for f in figures if f.baseline]
    print(
        f"  GET /api/me/ medians across the routes: {min(baselines):.1f}–{max(baselines):.1f} ms;"
        f" growth target ≤ {GROWTH_TARGET:g}×"
    )


def get_routes() -> list[tuple[str, str]]:
    """(route, URL name) of every URLconf route that answers GET, the admin's and the
    SCIM provisioning's aside (they are nobody's page)."""
    found = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                if "get" in _methods(pattern.callback) and not route.startswith(
                    ("admin/", "scim/")
                ):
                    found.append((route, namespace + pattern.name))

    walk(get_resolver().url_patterns, "", "")
    return found


def _methods(view: Any) -> set[str]:
    """The methods a view answers: a class view's handlers, else what a
    `require_http_methods` decorator on it lets through (every method when none does)."""
    cls = getattr(view, "view_class", None) or getattr(view, "cls", None)
    if cls is not None:
        return {m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)}
    while view is not None:
        code = getattr(view, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = view.__closure__[code.co_freevars.index("request_method_list")]
            return {m.lower() for m in cell.cell_contents}
        view = getattr(view, "__wrapped__", None)
    return {"get", "post"}


def report_coverage() -> None:
    measured = {route.name for route in ROUTES} | {BASELINE}
    missing = [f"/{route}" for route, name in get_routes() if name not in measured]
    print(f"not measured ({len(missing)} GET routes): {', '.join(missing)}")


# ---- 3. memory ----------------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_ticks(pid: int) -> int:
    """User and system time a process has used (/proc/<pid>/stat), in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def in_parallel(server: Server, path: str, persona: dict[str, Any], api: bool, n: int) -> None:
    """`n` requests, four at a time: one after the other, they could all land on one worker
    (both wait on the same socket, and the kernel wakes either)."""
    own = threading.local()  # a connection per thread

    def get(_: int) -> None:
        if not hasattr(own, "client"):
            own.client = Client(server.port)
        own.client.get(path, persona, api)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(get, range(n)))


def measure_memory(server: Server, facts: dict[str, Any], heaviest: Route) -> None:
    """Each worker's resident set after warming up on the trivial request, then after rounds
    of the heaviest route: what the route leaves behind, not the modules and caches any
    request loads."""
    persona = facts["personas"][heaviest.persona]
    path = heaviest.path(facts["ids"]).format(**facts["ids"])
    workers = server.workers()
    ticks = {pid: cpu_ticks(pid) for pid in workers}
    in_parallel(server, reverse(BASELINE), persona, heaviest.api, 80)
    idle = [pid for pid in workers if cpu_ticks(pid) == ticks[pid]]
    warm = {pid: rss_kb(pid) for pid in workers}
    _line(
        "worker RSS after 80 × GET /api/me/",
        ", ".join(f"{warm[pid] / 1024:.0f} MB" for pid in workers)
        + (f"  (worker {idle} served none of them)" if idle else ""),
    )
    worst = 0.0
    for n in range(1, 4):
        in_parallel(server, path, persona, heaviest.api, 8)
        now = {pid: rss_kb(pid) for pid in workers}
        worst = max(worst, *(now[pid] / warm[pid] for pid in workers))
        _line(
            f"  after {n * 8} × {heaviest.name} ({heaviest.persona})",
            ", ".join(f"{now[pid] / 1024:.0f} MB ({now[pid] / warm[pid]:.2f}×)" for pid in workers),
        )
    _line(
        "  worker RSS growth (largest)",
        f"{worst:.2f}×  {verdict(worst <= MEMORY_TARGET)} (within {MEMORY_TARGET - 1:.0%})",
    )


# ---- 4. load ------------------------------------------------------------------------------------


def load_test(server: Server, facts_path: Path, work: Path) -> None:
    """Read-only, mixed, read-only, mixed: each LOAD_SECONDS with LOAD_USERS users."""
    runs: list[dict[str, Any]] = []
    for n, mode in enumerate(["read", "mixed", "read", "mixed"]):
        out = work / f"load-{n}.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--host",
                f"http://127.0.0.1:{server.port}",
                "--users",
                str(LOAD_USERS),
                "--spawn-rate",
                str(LOAD_USERS),
                "--run-time",
                f"{LOAD_SECONDS}s",
                "--only-summary",
                "--loglevel",
                "ERROR",
                "--skip-log-setup",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "BENCH_LOAD_FACTS": str(facts_path),
                "BENCH_LOAD_MODE": mode,
                "BENCH_LOAD_OUT": str(out),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        result = json.loads(out.read_text())
        runs.append(result)
        _line(
            f"load run {n + 1}: {mode:<5} ({LOAD_USERS} users, {LOAD_SECONDS} s)",
            f"{result['throughput']:6.1f} req/s   read p95 {result['read_p95']:7.1f} ms   "
            f"{result['reads']:,} reads, {result['writes']:,} writes, "
            f"{result['failures']} failures",
        )
        for failure in result["failure_samples"][:3]:
            print(f"    failure: {failure}")
    read = [r for r in runs if r["mode"] == "read"]
    mixed = [r for r in runs if r["mode"] == "mixed"]
    throughput = statistics.mean(r["throughput"] for r in mixed) / statistics.mean(
        r["throughput"] for r in read
    )
    p95 = statistics.mean(r["read_p95"] for r in mixed) / statistics.mean(
        r["read_p95"] for r in read
    )
    _line(
        "  mixed throughput / read-only",
        f"{throughput:.2f}   {verdict(throughput >= THROUGHPUT_TARGET)} (≥ {THROUGHPUT_TARGET:g})",
    )
    _line(
        "  mixed read p95 / read-only",
        f"{p95:.2f}×  {verdict(p95 <= P95_TARGET)} (≤ {P95_TARGET:g}×)",
    )


# ---- the group ----------------------------------------------------------------------------------


def main() -> None:
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="levelset-served-"))
    try:
        with throwaway_database(work) as database_url:
            print(
                f"Served benchmarks: gunicorn, 2 sync workers, {connection.vendor}"
                f"{', read cache on Redis' if settings.REDIS_URL else ''}; load average "
                f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
                flush=True,
            )
            earlier: list[Figure] | None = None
            for stage in ("1k", "10k"):
                facts = build(stage, database_url, work)
                with serve(database_url, work) as server:
                    client = Client(server.port)
                    if earlier is not None:
                        heaviest = max(earlier, key=lambda f: f.median).route
                        measure_memory(server, facts, heaviest)
                    figures = measure_routes(client, facts)
                    report_routes(figures, earlier, facts["people"])
                    if earlier is None:
                        report_coverage()
                    else:
                        load_test(server, work / f"facts-{stage}.json", work)
                earlier = figures
    finally:
        if settings.REDIS_URL:  # the server's queue, in case a request queued a task
            store = redis.Redis.from_url(settings.REDIS_URL)
            for key in store.scan_iter(f"*{queue_name()}*"):
                store.delete(key)
        shutil.rmtree(work, ignore_errors=True)
    print(f"  (the served benchmarks took {time.perf_counter() - started:.0f} s)")
