"""Admin for the organisation: every save goes through the people services, so a change made
here is checked and audited like any other. Nobody is deleted: history keeps them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.actors import acting_user
from people import services
from people.models import Engineer, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        actor = acting_user(request)
        if change:
            saved = services.team_update(actor=actor, team=obj, name=obj.name)
        else:
            saved = services.team_create(actor=actor, slug=obj.slug, name=obj.name)
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Engineer)
class EngineerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "team", "level_code", "manager", "start_date"]
    list_filter = ["team", "level_code", "hr_attribute"]
    list_select_related = ["user", "team", "manager"]
    autocomplete_fields = ["user", "manager"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]

    def save_model(self, request: HttpRequest, obj: Engineer, form: Any, change: bool) -> None:
        actor = acting_user(request)
        values = {field: getattr(obj, field) for field in services.ENGINEER_FIELDS}
        if change:
            services.engineer_update(
                actor=actor,
                engineer=obj,
                **{f: v for f, v in values.items() if f in form.changed_data},
            )
        else:
            saved = services.engineer_create(actor=actor, user=obj.user, **values)
            obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
