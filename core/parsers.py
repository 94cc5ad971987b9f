"""The API's JSON parser: bounded in size and depth. (Apart from core.api, which DRF's views
import: DRF loads its parser classes while it is itself being imported.)"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

from core import limits


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class BoundedJSONParser(JSONParser):
    """JSON bodies of at most `limits.MAX_JSON_BYTES`, nested at most `limits.MAX_JSON_DEPTH`
    deep: a bigger or deeper body is refused (413, 400) before any view sees it, and a
    document deep enough to exhaust Python's recursion is a 400, never a 500."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        raw = stream.read(limits.MAX_JSON_BYTES + 1) if stream is not None else b""
        if len(raw) > limits.MAX_JSON_BYTES:
            raise PayloadTooLarge(
                f"The request body is larger than {limits.MAX_JSON_BYTES:,} bytes."
            )
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            data = json.loads(raw.decode(encoding)) if raw else None
        except RecursionError:
            raise exceptions.ParseError(
                f"JSON nested deeper than {limits.MAX_JSON_DEPTH} levels is refused."
            ) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise exceptions.ParseError(f"The request body is not valid JSON: {exc}") from None
        if limits.json_depth_exceeds(data):
            raise exceptions.ParseError(
                f"JSON nested deeper than {limits.MAX_JSON_DEPTH} levels is refused."
            )
        return data
