from __future__ import annotations

from pathlib import Path

from django.core.management import call_command


def test_openapi_schema_is_valid_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/reviews/{id}/score/what-if/", "/api/cycles/", "/api/teams/{id}/metrics/"):
        assert path in text


def _schema(tmp_path: Path) -> dict:
    import json

    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    return json.loads(out.read_text())


def test_every_operation_documents_its_error_answers(tmp_path: Path) -> None:
    schema = _schema(tmp_path)
    error = {"$ref": "#/components/schemas/Error"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["message", "code"]
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 70
    for path, method, operation in operations:
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        for code in ("400", "401", "403"):
            assert responses[code]["content"]["application/json"]["schema"] == error, where
        if "{" in path or "requestBody" in operation:
            assert "404" in responses, where
        if method != "get":
            assert {"409", "412"} <= responses.keys(), where
        if "requestBody" in operation:
            assert {"413", "415"} <= responses.keys(), where
    # Declared answers stay as the views declare them.
    metrics = schema["paths"]["/api/teams/{id}/metrics/"]["get"]["responses"]["200"]
    assert metrics["content"]["application/json"]["schema"]["$ref"].endswith("TeamMetricsPage")


def test_links_are_iris_so_international_hosts_conform(tmp_path: Path) -> None:
    text = str(_schema(tmp_path))
    assert "'format': 'uri'" not in text
    assert "'format': 'iri'" in text
