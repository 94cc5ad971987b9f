from __future__ import annotations

from core.errors import flatten_errors


def test_nested_drf_errors_become_paths() -> None:
    detail = {
        "name": ["is required"],
        "dimensions": {2: {"weight": ["must be a positive number"]}},
        "levels": [{}, {"code": ["is required"]}],
        "non_field_errors": ["broken"],
    }
    assert flatten_errors(detail) == {
        "name": ["is required"],
        "dimensions[2].weight": ["must be a positive number"],
        "levels[1].code": ["is required"],
        "non_field_errors": ["broken"],
    }
