"""API helpers every app uses: validated input, JSON-ready values, If-Match versions, and the
`/api/me/` view."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from core import limits
from core.errors import (
    DomainError,
    StaleVersion,
    ValidationFailed,
    flatten_errors,
    validation_message,
)
from core.roles import role_names


def valid_input(
    serializer_class: type[serializers.Serializer], request: Request, *, partial: bool = False
) -> dict[str, Any]:
    """The request body checked by an input serializer; a 400 with every problem otherwise."""
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def jsonable(value: Any) -> Any:
    """Decimals as strings, so no precision is lost in transit."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def users_named(usernames: list[str], field: str) -> list[Any]:
    """The users with these usernames, or a 400 naming the ones that do not exist."""
    users = list(get_user_model().objects.filter(username__in=usernames))
    missing = set(usernames) - {u.get_username() for u in users}
    if missing:
        raise ValidationFailed(
            f"No user called {', '.join(sorted(missing))}.",
            errors={field: [f"unknown: {', '.join(sorted(missing))}"]},
        )
    return users


class IdFilter(django_filters.NumberFilter):
    """Filter by an object's id: a whole number a database column holds. Anything else
    (`1.5`, `-1`, a 200-digit number) is a 400 naming the parameter, never a database error."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", limits.MAX_ID)
        message = "must be an id: a whole number from 1"
        kwargs.setdefault(
            "error_messages", {"invalid": message, "min_value": message, "max_value": message}
        )
        super().__init__(*args, **kwargs)


MAX_UTC_OFFSET = datetime.timedelta(hours=14)


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """Filter by an ISO date-time between the dates Levelset accepts, with a real UTC offset
    (at most 14 hours); it reaches the database in UTC. Anything else is a 400 naming the
    parameter, never a database error."""

    class field_class(django_filters.fields.IsoDateTimeField):
        def clean(self, value: Any) -> Any:
            moment = super().clean(value)
            if moment is None:
                return None
            offset = moment.utcoffset()
            if offset is not None and abs(offset) > MAX_UTC_OFFSET:
                raise forms.ValidationError("must have a UTC offset of at most 14 hours")
            problem = limits.date_problem(moment.date())
            if problem:
                raise forms.ValidationError(problem)
            return moment.astimezone(datetime.UTC) if offset is not None else moment


def if_match_version(request: Request) -> int | None:
    """The version an `If-Match` header names (`"7"`, `W/"7"`), or None without one."""
    raw = request.META.get("HTTP_IF_MATCH", "").strip().removeprefix("W/").strip().strip('"')
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed(
            "If-Match must be the version you loaded.", errors={"If-Match": ["must be a number"]}
        )
    return int(raw)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class MeView(APIView):
    """Who am I, and which roles do I hold."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            fields={
                "username": serializers.CharField(),
                "name": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        user: Any = request.user
        return Response(
            {
                "username": user.get_username(),
                "name": user.get_full_name(),
                "roles": sorted(role_names(user)),
            }
        )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"message": exc.message, "code": exc.code}
        if exc.errors:
            body["errors"] = exc.errors
        body.update(exc.extra)
        status_code = exc.status_code
        request = context.get("request")
        if (
            isinstance(exc, StaleVersion)
            and request is not None
            and "HTTP_IF_MATCH" in request.META
        ):
            status_code = status.HTTP_412_PRECONDITION_FAILED
        return Response(body, status=status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found, or you do not have access to it.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        response.data = {
            "message": validation_message(errors),
            "code": "invalid",
            "errors": errors,
        }
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail if not isinstance(detail, dict | list) else exc.default_detail)
        response.data = {"message": message, "code": exc.default_code}
    return response


def _api_error(status_code: int, message: str, code: str) -> JsonResponse:
    return JsonResponse({"message": message, "code": code}, status=status_code)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt  # it changes nothing; a refused CSRF token would only hide the 404
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that names no endpoint answers the API's JSON 404."""
    return _api_error(
        404, "There is no API endpoint at this address; /api/docs/ lists them.", "not_found"
    )


# Django's own error answers (outside DRF: a bad Host header, a failed CSRF check, an
# unexpected exception) are JSON under /api/ and the usual pages elsewhere.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(400, "The request could not be read (its host or its form).", "invalid")
    return defaults.bad_request(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW."""
    if _is_api(request):
        return _api_error(
            403,
            "CSRF check failed: a signed-in browser must send the CSRF token; scripts should "
            "use an API token instead of a session.",
            "csrf_failed",
        )
    return csrf.csrf_failure(request, reason)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(
            500, "Something went wrong on our side; it has been logged. Try again.", "server_error"
        )
    return defaults.server_error(request)
