"""HR loads the organisation in the browser: a file with a problem is refused with the problem
by line and column beside the file field (focused); a good file shows what would change, and
applying it writes it. Both widths, axe-core on each state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from people.models import Engineer
from tests.browser.conftest import look, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "email,name,employee_id,team,manager_email,level,start_date,active\n"
GOOD = HEADER + (
    "ana@acme.test,Ana Lima,E1,Payments,mo@acme.test,L4,2021-03-01,true\n"
    "mo@acme.test,Mo Okafor,E3,Payments,,L6,2019-01-07,true\n"
)
BAD = HEADER + "ana@acme.test,Ana Lima,E1,Payments,ghost@acme.test,L4,2021-03-01,true\n"


def test_hr_checks_then_applies_an_organisation_file(
    page: Any, live_server: Any, artifacts_dir: Path, tmp_path: Path
) -> None:
    UserFactory(username="hr-ines", roles=["hr"])
    sign_in(page, live_server, "hr-ines")
    page.goto(f"{live_server.url}/people/import/")
    problems = look(page, artifacts_dir, "people-import")

    bad = tmp_path / "bad.csv"
    bad.write_text(BAD)
    page.set_input_files("#id_file", str(bad))
    page.get_by_role("button", name="Check the file").click()
    page.locator("#error-summary").wait_for()
    assert page.evaluate("document.activeElement.id") == "id_file"
    table = page.locator("#problems")
    assert "ghost@acme.test is neither in the file nor in Levelset" in table.inner_text()
    problems += look(page, artifacts_dir, "people-import-problems")

    good = tmp_path / "org.csv"
    good.write_text(GOOD)
    page.set_input_files("#id_file", str(good))
    page.get_by_role("button", name="Check the file").click()
    changes = page.locator("#changes")
    changes.wait_for()
    assert "Joiners (2)" in changes.inner_text()
    assert not Engineer.objects.exists()
    problems += look(page, artifacts_dir, "people-import-changes")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Apply these changes").click()
    page.get_by_text("Organisation imported: 2 joiner").wait_for()
    assert Engineer.objects.count() == 2
    assert problems == []
