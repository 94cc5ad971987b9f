"""Facts remembered for one read-only request, and never beyond it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from core.requestmemo import RequestMemoMiddleware, remembered


def counting_view(calls: list[int]) -> RequestMemoMiddleware:
    def view(request: HttpRequest) -> HttpResponse:
        first = remembered("fact", lambda: calls.append(1) or len(calls))
        second = remembered("fact", lambda: calls.append(1) or len(calls))
        return HttpResponse(f"{first},{second}")

    return RequestMemoMiddleware(view)


def test_a_read_computes_each_fact_once_and_the_next_request_afresh() -> None:
    calls: list[int] = []
    handler = counting_view(calls)
    assert handler(RequestFactory().get("/")).content == b"1,1"
    assert handler(RequestFactory().head("/")).content == b"2,2"
    assert len(calls) == 2


def test_a_write_and_code_outside_a_request_compute_every_time() -> None:
    calls: list[int] = []
    assert counting_view(calls)(RequestFactory().post("/")).content == b"1,2"
    assert remembered("fact", lambda: 7) == 7 and remembered("fact", lambda: 8) == 8
