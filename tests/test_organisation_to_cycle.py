"""A new organisation, from a CSV file to a running cycle: imported people are told by e-mail
(through a real SMTP server) and in the app when it is their turn, reminded before the phase
ends, and a mid-cycle move hands an unrated review to the new manager, who is told too.
(Signing in through the company's identity provider is tests/people/test_sso.py.)"""

from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from notify.models import Notification
from people.models import Engineer
from reviews.models import Review
from reviews.services import cycle_send_reminders
from tests.factories import open_cycle
from tests.notify.conftest import (  # noqa: F401 - the SMTP server, and tasks in this process
    SmtpServer,
    _tasks_in_this_process,
    smtp_server,
)

pytestmark = pytest.mark.django_db(transaction=True)

ORG = """email,name,employee_id,team,manager_email,level,start_date,active
ana@acme.test,Ana Lima,E1,Payments,mo@acme.test,L4,2021-03-01,true
bo@acme.test,Bo Chen,E2,Payments,mo@acme.test,L3,2023-06-12,true
mo@acme.test,Mo Okafor,E3,Payments,,L6,2019-01-07,true
lee@acme.test,Lee Park,E4,Search,,L6,2020-02-02,true
"""


def test_from_a_csv_to_people_told_when_to_act(
    smtp_server: SmtpServer, hr: Any, published: Any, tmp_path: Path
) -> None:
    path = tmp_path / "org.csv"
    path.write_text(ORG)
    call_command("import_people", str(path), stdout=StringIO())
    assert Engineer.objects.count() == 4
    ends = datetime.date(2027, 1, 8)
    open_cycle(hr, published, name="2027 H1", self_review_ends=ends)
    # Everyone with a manager has a review and is told, in the app and by e-mail.
    reviews = {r.engineer.user.email: r for r in Review.objects.select_related("engineer__user")}
    assert set(reviews) == {"ana@acme.test", "bo@acme.test"}
    opened = Notification.objects.filter(recipient__email__in=reviews)
    assert opened.count() == 2
    mail = {m.recipients[0]: m for m in smtp_server.wait_for(2)}
    assert set(mail) == {"ana@acme.test", "bo@acme.test"}
    told_ana = opened.get(recipient__email="ana@acme.test")
    assert told_ana.url in mail["ana@acme.test"].text  # the e-mail links to the page to act on
    assert "self-review" in told_ana.title.lower()

    # Ana moves to Lee before her review is rated: the review follows, and stays readable by Mo.
    moved = ORG.replace(
        "ana@acme.test,Ana Lima,E1,Payments,mo@acme.test",
        "ana@acme.test,Ana Lima,E1,Search,lee@acme.test",
    )
    path.write_text(moved)
    call_command("import_people", str(path), stdout=StringIO())
    ana_review = Review.objects.get(pk=reviews["ana@acme.test"].pk)
    assert ana_review.manager.email == "lee@acme.test"
    assert ana_review.team.name == "Payments"  # what it was opened with

    # Two days before the self-review ends, whoever has not submitted is reminded, once.
    sent = cycle_send_reminders(actor=hr, today=ends - datetime.timedelta(days=2))
    assert sent == 2
    assert cycle_send_reminders(actor=hr, today=ends - datetime.timedelta(days=1)) == 0
    reminders = [m for m in smtp_server.wait_for(4) if m.subject.startswith("Due")]
    assert sorted(m.recipients[0] for m in reminders) == ["ana@acme.test", "bo@acme.test"]
