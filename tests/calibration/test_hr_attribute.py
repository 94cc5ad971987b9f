"""The HR-managed attribute: compared in calibration analytics like team and level, and seen
by HR only — never in anyone else's analytics, nor on any board or export."""

from __future__ import annotations

from typing import Any

from people.models import Engineer
from tests.calibration.conftest import Calibration
from tests.calibration.test_pages import page_of, signed_in
from tests.conftest import client_for


def with_attribute(cal: Calibration) -> None:
    Engineer.objects.filter(user=cal.org.engineer).update(hr_attribute="Lisbon")
    Engineer.objects.filter(user=cal.org.peer).update(hr_attribute="Berlin")


def analytics(user: Any, cal: Calibration) -> dict[str, Any]:
    response = client_for(user).get(f"/api/calibration/sessions/{cal.session.pk}/analytics/")
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


def test_hr_compares_the_attributes_groups(cal: Calibration, settings: Any) -> None:
    with_attribute(cal)
    groups = analytics(cal.org.hr, cal)["groups"]
    by_value = {g["group"]: g for g in groups["hr_attribute"]}
    assert set(by_value) == {"Berlin", "Lisbon"}
    assert by_value["Lisbon"]["size"] == by_value["Lisbon"]["rest_size"] == 1
    # Ada (delivery 4) sits a quarter point below Ben (delivery 5): not over the threshold.
    assert by_value["Lisbon"]["difference"] == "-0.25" and not by_value["Lisbon"]["flagged"]
    settings.LEVELSET_HR_ATTRIBUTE_LABEL = "Location"
    page = signed_in(cal.org.hr).get(page_of(cal)).content.decode()
    assert "Location (HR only)" in page and "Lisbon" in page


def test_nobody_else_sees_it(cal: Calibration) -> None:
    with_attribute(cal)
    for user in (cal.facilitator, cal.org.manager):
        data = analytics(user, cal)
        assert set(data["groups"]) == {"team", "level", "tenure_band"}
        assert "Lisbon" not in str(data)
        page = signed_in(user).get(page_of(cal)).content.decode()
        assert "Lisbon" not in page and "(HR only)" not in page
    base = f"/api/calibration/sessions/{cal.session.pk}"
    for user in (cal.facilitator, cal.org.hr):  # boards and exports carry it for no one
        client = client_for(user)
        assert "Lisbon" not in client.get(f"{base}/board/").content.decode()
        assert "Lisbon" not in client.get(f"{base}/export.csv").content.decode()


def test_an_unset_attribute_is_its_own_group(cal: Calibration) -> None:
    Engineer.objects.filter(user=cal.org.engineer).update(hr_attribute="Lisbon")
    groups = {g["group"] for g in analytics(cal.org.hr, cal)["groups"]["hr_attribute"]}
    assert groups == {"Lisbon", "not set"}
