"""The load of bench/served.py: engineers, managers and HR reading their usual pages (with
their session) and API (with their token), without pause. In the "mixed" mode 5% of the
requests are writes: a manager changes a report's delivery rating (3 ↔ 4), an engineer edits
the title of an evidence item or adds one.

Run by bench/served.py: `locust -f bench/locustfile.py --headless ...` with BENCH_LOAD_FACTS
(the organisation's facts, bench/org.py), BENCH_LOAD_MODE (read or mixed) and BENCH_LOAD_OUT
(where the summary goes: throughput, read p95, counts, a few failures).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, events, task

FACTS = json.loads(Path(os.environ["BENCH_LOAD_FACTS"]).read_text())
MIXED = os.environ.get("BENCH_LOAD_MODE") == "mixed"
WRITE_SHARE = 0.05
WEIGHTS = {"engineer": 5, "manager": 3, "hr": 2}
# Only engineers and managers write: their share of requests is raised so that 5% of all are.
WRITER_SHARE = WRITE_SHARE * sum(WEIGHTS.values()) / (WEIGHTS["engineer"] + WEIGHTS["manager"])

reads: list[float] = []
writes: list[float] = []
failures: list[str] = []
started: list[float] = []


@events.request.add_listener
def _count(request_type: str, name: str, response_time: float, exception: Any, **kw: Any) -> None:
    if not started:
        started.append(time.perf_counter())
    (reads if request_type == "GET" else writes).append(response_time)
    if exception is not None:
        failures.append(f"{request_type} {name}: {exception}"[:300])


@events.quitting.add_listener
def _summary(environment: Any, **kw: Any) -> None:
    elapsed = time.perf_counter() - started[0] if started else 1.0
    ordered = sorted(reads)
    summary = {
        "mode": "mixed" if MIXED else "read",
        "throughput": (len(reads) + len(writes)) / elapsed,
        "reads": len(reads),
        "writes": len(writes),
        "read_median": statistics.median(ordered) if ordered else 0.0,
        "read_p95": ordered[int(len(ordered) * 0.95) - 1] if ordered else 0.0,
        "write_median": statistics.median(writes) if writes else 0.0,
        "failures": len(failures),
        "failure_samples": failures[:5],
    }
    with open(os.environ["BENCH_LOAD_OUT"], "w") as out:
        json.dump(summary, out)


class Persona(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    role = ""
    _turn: Any = None

    def on_start(self) -> None:
        pool = FACTS["load"][self.role]
        self.me = pool[next(type(self)._turn) % len(pool)]
        self.ids = FACTS["ids"]
        self.page_headers = {"Cookie": f"sessionid={self.me['session']}"}
        self.api_headers = {
            "Authorization": f"Token {self.me['token']}",
            "Accept": "application/json",
        }
        self.writes = 0

    def page(self, path: str, name: str) -> None:
        self.client.get(path, headers=self.page_headers, name=name)

    def api(self, path: str, name: str) -> None:
        self.client.get(path, headers=self.api_headers, name=name)

    def write(self) -> None:
        raise NotImplementedError

    @task
    def step(self) -> None:
        if MIXED and self.role != "hr" and random.random() < WRITER_SHARE:
            self.writes += 1
            self.write()
        else:
            random.choice(self.reads())()

    def reads(self) -> list[Any]:
        raise NotImplementedError


class Engineer(Persona):
    weight = WEIGHTS["engineer"]
    role = "engineer"
    _turn = itertools.count()

    def reads(self) -> list[Any]:
        review = self.me["review"]
        return [
            lambda: self.page("/reviews/", "page reviews"),
            lambda: self.page(f"/reviews/{review}/", "page review"),
            lambda: self.page("/notifications/", "page notifications"),
            lambda: self.api("/api/reviews/", "api reviews"),
            lambda: self.api(f"/api/reviews/{review}/evidence/", "api evidence"),
            lambda: self.api("/api/notifications/unread-count/", "api unread"),
        ]

    def write(self) -> None:
        review, n = self.me["review"], self.writes
        if n % 4 == 0:
            self.client.post(
                f"/api/reviews/{review}/evidence/",
                json={
                    "url": f"https://github.com/acme/load/pull/{review}{os.getpid()}{n}",
                    "title": f"Load pull request {n}",
                    "dimensions": ["delivery"],
                },
                headers=self.api_headers,
                name="api evidence add",
            )
        else:
            self.client.patch(
                f"/api/reviews/{review}/evidence/{self.me['evidence']}/",
                json={"title": f"Idempotent retries, take {n}"},
                headers=self.api_headers,
                name="api evidence edit",
            )


class Manager(Persona):
    weight = WEIGHTS["manager"]
    role = "manager"
    _turn = itertools.count()

    def reads(self) -> list[Any]:
        review = self.me["review"]
        return [
            lambda: self.page("/reviews/", "page reviews"),
            lambda: self.page("/reviews/team/", "page team"),
            lambda: self.page(f"/reviews/{review}/rate/", "page rate"),
            lambda: self.api("/api/reviews/", "api reviews"),
            lambda: self.api(f"/api/reviews/{review}/", "api review"),
            lambda: self.api(f"/api/reviews/{review}/score/", "api score"),
        ]

    def write(self) -> None:
        rating = 4 if self.writes % 2 else 3
        self.client.put(
            f"/api/reviews/{self.me['review']}/ratings/manager/",
            json={
                "ratings": {
                    "delivery": {"rating": rating, "justification": "Shipped the ledger early."}
                }
            },
            headers=self.api_headers,
            name="api manager ratings",
        )


class HR(Persona):
    weight = WEIGHTS["hr"]
    role = "hr"
    _turn = itertools.count()

    def reads(self) -> list[Any]:
        cycle = self.ids["current_cycle"]
        return [
            lambda: self.page("/reviews/", "page reviews"),
            lambda: self.page("/reviews/cycles/", "page cycles"),
            lambda: self.page("/calibration/", "page sessions"),
            lambda: self.page("/audit/", "page audit"),
            lambda: self.api(f"/api/reviews/?cycle={cycle}", "api reviews"),
            lambda: self.api("/api/appeals/", "api appeals"),
        ]
