"""Admin for rubrics is read-only: rubric content changes only through the audited services
(YAML import, the API), never by editing rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from rubrics.models import Rubric, RubricVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Rubric)
class RubricAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "requires_second_approval"]


@admin.register(RubricVersion)
class RubricVersionAdmin(ReadOnlyAdmin):
    list_display = ["rubric", "number", "status", "published_at"]
    list_filter = ["status", "rubric"]
