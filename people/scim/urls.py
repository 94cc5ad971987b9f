"""django-scim2's endpoints under /scim/v2/, with lookups that answer 404 for a malformed id
and pages of at most MAX_PAGE resources."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import re_path
from django_scim import exceptions as scim_errors
from django_scim import views as scim_views

app_name = "scim"  # django-scim2's adapters reverse "scim:users"
MAX_PAGE = 200


class _Lookup:
    def get_object(self) -> Any:
        if not str(self.kwargs.get("uuid", "")).isdigit():  # type: ignore[attr-defined]
            raise scim_errors.NotFoundError(self.kwargs.get("uuid"))  # type: ignore[attr-defined]
        return super().get_object()  # type: ignore[misc]

    def _page(self, request: HttpRequest) -> tuple[int, int]:
        start, count = super()._page(request)  # type: ignore[misc]
        return start, max(0, min(count, MAX_PAGE))


class UsersView(_Lookup, scim_views.UsersView):
    pass


class GroupsView(_Lookup, scim_views.GroupsView):
    pass


urlpatterns = [
    re_path(r"^$", scim_views.SCIMView.as_view(implemented=False), name="root"),
    re_path(r"^Users/\.search$", scim_views.UserSearchView.as_view(), name="users-search"),
    re_path(r"^Users(?:/(?P<uuid>[^/]+))?$", UsersView.as_view(), name="users"),
    re_path(r"^Groups/\.search$", scim_views.GroupSearchView.as_view(), name="groups-search"),
    re_path(r"^Groups(?:/(?P<uuid>[^/]+))?$", GroupsView.as_view(), name="groups"),
    re_path(
        r"^ServiceProviderConfig$",
        scim_views.ServiceProviderConfigView.as_view(),
        name="service-provider-config",
    ),
    re_path(
        r"^ResourceTypes(?:/(?P<uuid>[^/]+))?$",
        scim_views.ResourceTypesView.as_view(),
        name="resource-types",
    ),
    re_path(r"^Schemas(?:/(?P<uuid>[^/]+))?$", scim_views.SchemasView.as_view(), name="schemas"),
    re_path(r"^Me$", scim_views.SCIMView.as_view(implemented=False), name="me"),
    re_path(r"^Bulk$", scim_views.SCIMView.as_view(implemented=False), name="bulk"),
    re_path(r"^\.search$", scim_views.SearchView.as_view(implemented=False), name="search"),
]
