from __future__ import annotations

from pathlib import Path

from django.core.management import call_command


def test_openapi_schema_is_valid_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/reviews/{id}/score/what-if/", "/api/cycles/", "/api/teams/{id}/metrics/"):
        assert path in text
