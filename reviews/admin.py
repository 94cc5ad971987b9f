from __future__ import annotations

from django.contrib import admin

from reviews.models import Engineer, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Engineer)
class EngineerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "team", "level_code", "manager", "start_date"]
    list_filter = ["team", "level_code", "hr_attribute"]
    list_select_related = ["user", "team", "manager"]
    autocomplete_fields = ["user", "manager"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
