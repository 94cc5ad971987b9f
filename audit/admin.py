from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet

from audit import registry
from audit.models import AuditEvent, AuditEventQuerySet


class AreaFilter(admin.SimpleListFilter):
    """The areas of the registry of action codes, not a DISTINCT over the whole log."""

    title = "area"
    parameter_name = "area"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(area, area) for area in registry.areas()]

    def queryset(self, request: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        assert isinstance(queryset, AuditEventQuerySet)
        return queryset.in_area(value)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["seq", "created_at", "actor_repr", "action", "target_type", "target_id"]
    list_filter = [AreaFilter]
    search_fields = ["action", "actor_repr", "target_id", "target_repr"]
    ordering = ["-seq"]
    # The count of a filtered list is all the admin counts, never the whole log as well.
    show_full_result_count = False

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
