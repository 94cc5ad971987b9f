"""The log's rows are written in Python: each must be the row the page's template loop wrote,
character for character, whatever the event holds (no target, odd target ids, one payload field
or several, markup in names), and the tampered event stays highlighted."""

# ruff: noqa: E501 (the template is quoted as it was written, one row a line)
from __future__ import annotations

import json
from typing import Any

import pytest
from django.template import Context, Template

from audit import registry
from audit.services import record
from audit.views import event_row
from tests.audit.actions import TEST_EVENT

pytestmark = pytest.mark.django_db

# The rows as the page's template wrote them before.
TEMPLATE = Template(
    """{% for event, sentence, payload in events %}
      <tr id="event-{{ event.seq }}"{% if first_bad_seq == event.seq %} class="tampered"{% endif %}>
        <td>{{ event.seq }}</td>
        <td class="nowrap">{{ event.created_at|date:"Y-m-d H:i:s" }}</td>
        <td>{{ event.actor_repr }}</td>
        <td>{{ sentence|capfirst }}<br><code class="muted">{{ event.action }}</code></td>
        <td>{% if event.target_type %}<code>{{ event.target_type }}:{{ event.target_id }}</code>{% if event.target_repr %}<br>{{ event.target_repr }}{% endif %}<br><a class="history" href="?target_type={{ event.target_type|urlencode }}&amp;target_id={{ event.target_id|urlencode }}">history of this target</a>{% else %}—{% endif %}</td>
        <td>{% if event.payload %}<details><summary>{{ event.payload|length }} field{{ event.payload|length|pluralize }}</summary><pre class="payload">{{ payload }}</pre></details>{% endif %}</td>
      </tr>
    {% endfor %}"""
)


def test_rows_are_the_rows_the_template_wrote(hr: Any) -> None:
    events = [
        record(actor=hr, action=TEST_EVENT),
        record(actor=hr, action=TEST_EVENT, target_type="reviews.review", target_id=12),
        record(
            actor=hr,
            action=TEST_EVENT,
            target_type="a&b <c>",
            target_id="x y/&\"'",
            payload={"note": "<b>bold</b> & 'quoted'"},
        ),
        record(actor=hr, action=TEST_EVENT, target=hr, payload={"a": 1, "b": [1, {"c": None}]}),
    ]
    for tampered in (None, events[1].seq):
        expected = TEMPLATE.render(
            Context(
                {
                    "events": [
                        (e, registry.sentence(e.action), json.dumps(e.payload, indent=1))
                        for e in events
                    ],
                    "first_bad_seq": tampered,
                }
            )
        )
        assert "".join(event_row(e, tampered) for e in events) == expected
    assert 'class="tampered"' in event_row(events[1], events[1].seq)
    assert "&lt;b&gt;bold&lt;/b&gt;" in event_row(events[2], None)
