"""The case list page: its cycle filter offers the cycles of the cases one may see, the
nomination form shows one's direct reports, and whoever nominates nobody pays for no form."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from tests.promotions.test_promotions import nominate, promo  # noqa: F401 (a fixture)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(type(user).objects.get(pk=user.pk))  # nothing cached on the user
    return client


def options(html: str, select_id: str) -> list[str]:
    select = re.search(rf'<select name="\w+"[^>]* id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {select_id}"
    return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1))


def test_the_cycle_filter_offers_the_cycles_of_visible_cases(promo: dict[str, Any]) -> None:
    org = promo["org"]
    before = signed_in(org.manager).get("/promotions/").content.decode()
    assert options(before, "id_cycle") == ["Every cycle"]  # "2026 H1", "2026 H2": no case yet
    nominate(promo)
    after = signed_in(org.manager).get("/promotions/").content.decode()
    assert options(after, "id_cycle") == ["Every cycle", "2026 H2"]
    # The nomination form's own cycle picker still offers every cycle.
    form = after[after.index('id="nominate-form"') :]
    assert "2026 H1" in form and "2026 H2" in form


def test_the_form_offers_direct_reports_only(promo: dict[str, Any]) -> None:
    org = promo["org"]
    page = signed_in(org.manager).get("/promotions/").content.decode()
    form = page[page.index('id="nominate-form"') :]
    offered = options(form, "id_engineer")
    assert offered[0] == "---------" and len(offered) == 3  # the manager's two reports
    assert org.engineer.get_full_name() in offered
    director = signed_in(org.director).get("/promotions/").content.decode()  # manages the manager
    assert options(director[director.index('id="nominate-form"') :], "id_engineer") == [
        "---------",
        org.manager.get_full_name(),
    ]


def test_whoever_nominates_nobody_reads_no_form(
    promo: dict[str, Any], django_assert_num_queries: Any
) -> None:
    client = signed_in(promo["org"].engineer)
    # user, roles (the session from the cache), how many cases (none: no page of them to read), the
    # filter's cycles, whom one may nominate (nobody: no form, so no cycles or levels for it),
    # unread notifications
    with django_assert_num_queries(6):
        page = client.get("/promotions/").content.decode()
    assert 'id="nominate-form"' not in page
