"""Admin for the organisation: people, their roles, teams and engineer profiles. Every save
goes through the people services, so a change made here is checked and audited like any
other; what the services do not offer (staff and superuser flags, raw permissions) is read
only here. Nobody is deleted: history keeps them, and a leaver is deactivated."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from core.actors import acting_user
from core.errors import DomainError
from core.roles import Role
from people import services
from people.models import Engineer, Team

User = get_user_model()


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


class EngineerForm(forms.ModelForm):
    class Meta:
        model = Engineer
        fields = ["user", "team", "level_code", "manager", "start_date", "hr_attribute"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user, manager = (
            data.get("user") or getattr(self.instance, "user", None),
            data.get("manager"),
        )
        if user is not None:
            try:
                services.check_manager(user, manager)
            except DomainError as exc:
                self.add_error("manager", exc.message)
        return data


@admin.register(Engineer)
class EngineerAdmin(admin.ModelAdmin):
    form = EngineerForm
    list_display = ["__str__", "team", "level_code", "manager", "start_date"]
    list_filter = ["team", "level_code", "hr_attribute"]
    list_select_related = ["user", "team", "manager"]
    autocomplete_fields = ["user", "manager"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["user"] if obj is not None else []

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


class PersonChangeForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = list(self.instance.groups.values_list("name", flat=True))


admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    """People and their roles, changed through the people services (and so audited)."""

    form = PersonChangeForm
    fieldsets = (
        (None, {"fields": ("username",)}),
        ("Person", {"fields": ("first_name", "last_name", "email", "is_active")}),
        ("Roles", {"fields": ("roles",)}),
        ("Set outside Levelset's services", {"fields": ("is_staff", "is_superuser")}),
    )
    readonly_fields = ["username", "is_staff", "is_superuser"]
    list_filter = ["groups", "is_active"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = acting_user(request)
        if not change:
            saved = services.person_create(
                actor=actor, username=obj.username, password=form.cleaned_data.get("password1")
            )
            obj.pk = saved.pk
            return
        changed = {f: getattr(obj, f) for f in services.PERSON_FIELDS if f in form.changed_data}
        if changed:
            services.person_update(actor=actor, user=obj, **changed)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if "roles" in form.cleaned_data:
            services.person_set_roles(
                actor=acting_user(request), user=form.instance, roles=form.cleaned_data["roles"]
            )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
