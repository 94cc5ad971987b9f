"""SCIM resources as Levelset's people and teams (see people.scim)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest
from django.utils.text import slugify
from django_scim import constants
from django_scim import exceptions as scim_errors
from django_scim.adapters import SCIMGroup, SCIMUser

from core.actors import User
from core.errors import Conflict, DomainError, Forbidden
from people import services
from people.models import Engineer, Team, Transfer
from people.scim.filters import GroupFilter, UserFilter
from rubrics.selectors import level_codes_in_use

ENTERPRISE = constants.SchemaURI.ENTERPRISE_USER
LEVELSET = "urn:ietf:params:scim:schemas:extension:levelset:2.0:User"


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # set by ScimTokenMiddleware


def _refuse(exc: DomainError) -> scim_errors.SCIMException:
    status = 409 if isinstance(exc, Conflict) else 403 if isinstance(exc, Forbidden) else 400
    details = [f"{field}: {'; '.join(msgs)}" for field, msgs in exc.errors.items()]
    detail = exc.message if not details else f"{exc.message} ({', '.join(details)})"
    return scim_errors.SCIMException(detail, status=status)


def _date(value: Any, field: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise scim_errors.BadRequestError(f"{field} must be a date like 2024-03-01.") from None


class ScimUser(SCIMUser):
    """A person, with their place in the organisation."""

    id_field = "pk"
    ATTR_MAP = UserFilter.attr_map
    obj: Any

    def __init__(self, obj: Any, request: Any = None) -> None:
        super().__init__(obj, request)
        self.person: dict[str, Any] = {}
        self.place: dict[str, Any] = {}

    @property
    def engineer(self) -> Engineer | None:
        if self.obj.pk is None:
            return None
        return Engineer.objects.select_related("team", "manager").filter(user=self.obj).first()

    @property
    def groups(self) -> list[dict[str, Any]]:
        engineer = self.engineer
        if engineer is None:
            return []
        team = ScimGroup(engineer.team, self.request)
        return [{"value": team.id, "$ref": team.location, "display": engineer.team.name}]

    def to_dict(self) -> dict[str, Any]:
        engineer = self.engineer
        enterprise: dict[str, Any] = {}
        levelset: dict[str, Any] = {}
        if engineer is not None:
            enterprise = {"employeeNumber": engineer.employee_id, "department": engineer.team.name}
            if engineer.manager is not None:
                enterprise["manager"] = {
                    "value": str(engineer.manager.pk),
                    "displayName": engineer.manager.get_full_name(),
                }
            levelset = {"level": engineer.level_code, "startDate": str(engineer.start_date)}
        return {
            "schemas": [constants.SchemaURI.USER, ENTERPRISE, LEVELSET],
            "id": self.id,
            "externalId": None,
            "userName": self.obj.username,
            "name": {
                "givenName": self.obj.first_name,
                "familyName": self.obj.last_name,
                "formatted": self.display_name,
            },
            "displayName": self.display_name,
            "emails": self.emails,
            "active": self.obj.is_active,
            "groups": self.groups,
            ENTERPRISE: enterprise,
            LEVELSET: levelset,
            "meta": self.meta,
        }

    # --- what the identity provider sends -----------------------------------------------------

    def from_dict(self, d: dict[str, Any]) -> None:
        """A whole user (POST, PUT)."""
        if not d.get("userName"):
            raise scim_errors.BadRequestError("userName is required.", scim_type="invalidValue")
        self._set("userName", d["userName"])
        name = d.get("name") or {}
        self._set("name.givenName", name.get("givenName") or "")
        self._set("name.familyName", name.get("familyName") or "")
        if d.get("emails"):
            self._set("emails", d["emails"])
        self._set("active", d.get("active", True))
        for urn in (ENTERPRISE, LEVELSET):
            for key, value in (d.get(urn) or {}).items():
                self._set(f"{urn}:{key}", value)

    def handle_operations(self, operations: list[dict[str, Any]]) -> None:
        """PATCH: add/replace set attributes, remove clears the manager; then one save."""
        for operation in operations:
            op = str(operation.get("op", "")).lower()
            path, value = operation.get("path"), operation.get("value")
            if op not in constants.VALID_PATCH_OPS:
                raise scim_errors.BadRequestError(f'Unknown PATCH op "{op}".')
            if op == "remove":
                if str(path).lower() in (f"{ENTERPRISE}:manager".lower(), "manager"):
                    self.place["manager"] = None
                    continue
                raise scim_errors.BadRequestError(f"Cannot remove {path}.", scim_type="mutability")
            if path:
                self._set(str(path), value)
            elif isinstance(value, dict):
                for key, item in value.items():
                    if key in (ENTERPRISE, LEVELSET) and isinstance(item, dict):
                        for sub, sub_value in item.items():
                            self._set(f"{key}:{sub}", sub_value)
                    elif key == "name" and isinstance(item, dict):
                        for sub, sub_value in item.items():
                            self._set(f"name.{sub}", sub_value)
                    else:
                        self._set(key, item)
            else:
                raise scim_errors.BadRequestError("A PATCH operation needs a path or an object.")
        self.save()

    def _set(self, path: str, value: Any) -> None:
        key = path.strip()
        lowered = key.lower()
        if lowered == "username":
            self.person["username"] = str(value).strip()
        elif lowered in ("name.givenname", "givenname"):
            self.person["first_name"] = str(value or "")
        elif lowered in ("name.familyname", "familyname"):
            self.person["last_name"] = str(value or "")
        elif lowered.startswith("emails"):
            before = self.obj.email
            self.parse_emails(value if not isinstance(value, str) else [{"value": value}])
            self.person["email"] = self.obj.email.lower()
            self.obj.email = before
        elif lowered == "active":
            if not isinstance(value, bool):
                value = str(value).lower() == "true"
            self.person["is_active"] = value
        elif lowered in ("displayname", "externalid", "name.formatted", "title", "locale"):
            pass  # shown from the name; not kept
        elif lowered.startswith(ENTERPRISE.lower() + ":"):
            self._set_enterprise(key[len(ENTERPRISE) + 1 :], value)
        elif lowered.startswith(LEVELSET.lower() + ":"):
            field = key[len(LEVELSET) + 1 :]
            if field == "level":
                self.place["level_code"] = str(value).strip()
            elif field == "startDate":
                self.place["start_date"] = _date(value, "startDate")
            else:
                raise scim_errors.BadRequestError(f"Unknown attribute {path}.")
        else:
            raise scim_errors.BadRequestError(
                f"Levelset does not keep {path}.", scim_type="invalidPath"
            )

    def _set_enterprise(self, field: str, value: Any) -> None:
        if field == "employeeNumber":
            self.place["employee_id"] = str(value or "").strip()
        elif field == "department":
            self.place["team_name"] = str(value or "").strip()
        elif field == "manager":
            manager_id = value.get("value") if isinstance(value, dict) else value
            if not manager_id:
                self.place["manager"] = None
                return
            manager = (
                get_user_model().objects.filter(pk=manager_id).first()
                if str(manager_id).isdigit()
                else None
            )
            if manager is None:
                raise scim_errors.BadRequestError(
                    f"The manager {manager_id} is not a user in Levelset.",
                    scim_type="invalidValue",
                )
            self.place["manager"] = manager
        # Other enterprise attributes (costCenter, division...) are not kept.

    def save(self) -> None:
        try:
            with transaction.atomic():
                self._save(_actor(self.request))
        except DomainError as exc:
            raise _refuse(exc) from None

    def _save(self, actor: User) -> None:
        if self.obj.pk is None:
            fields = {f: v for f, v in self.person.items() if f != "username"}
            fields.setdefault("is_active", True)
            self.obj = services.person_create(
                actor=actor, username=self.person["username"], **fields
            )
        else:
            changed = {f: v for f, v in self.person.items() if getattr(self.obj, f) != v}
            if changed:
                self.obj = services.person_update(actor=actor, user=self.obj, **changed)
        self._save_place(actor)

    def _save_place(self, actor: User) -> None:
        place = dict(self.place)
        if "team_name" in place:
            name = place.pop("team_name")
            if name:
                place["team"] = _team_named(actor, name)
        level = place.get("level_code")
        codes = level_codes_in_use()
        if level and codes is not None and level not in codes:
            raise scim_errors.BadRequestError(
                f"{level!r} is not a level of the rubric in use ({', '.join(sorted(codes))}).",
                scim_type="invalidValue",
            )
        engineer = self.engineer
        if engineer is not None:
            changed = {f: v for f, v in place.items() if getattr(engineer, f) != v}
            if changed:
                services.engineer_update(
                    actor=actor, engineer=engineer, source=Transfer.Source.SCIM, **changed
                )
            return
        needed = {"team", "level_code", "start_date"}
        if needed <= set(place):
            services.engineer_create(actor=actor, user=self.obj, **place)
        elif place:
            missing = {"team": "department", "level_code": "level", "start_date": "startDate"}
            names = ", ".join(missing[f] for f in sorted(needed - set(place)))
            raise scim_errors.BadRequestError(
                f"A place in the organisation needs department, level and startDate; {names} "
                "missing.",
                scim_type="invalidValue",
            )

    def delete(self) -> None:
        """Deactivate: the person can no longer sign in; every review and its history stay."""
        self.person = {"is_active": False}
        self.place = {}
        self.save()


def _team_named(actor: User, name: str) -> Team:
    team = Team.objects.filter(name__iexact=name).first()
    if team is None:
        team = services.team_create(actor=actor, slug=_free_slug(name), name=name)
    return team


def _free_slug(name: str) -> str:
    base = (slugify(name) or "team")[:70]
    slug, n = base, 2
    while Team.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


class ScimGroup(SCIMGroup):
    """A team; its members are its engineers."""

    id_field = "pk"
    ATTR_MAP = GroupFilter.attr_map
    obj: Any

    def __init__(self, obj: Any, request: Any = None) -> None:
        super().__init__(obj, request)
        self.name: str | None = None
        self.joining: list[Any] = []

    @property
    def members(self) -> list[dict[str, Any]]:
        return [
            {"value": str(e.user_id), "display": e.user.get_full_name() or e.user.username}
            for e in self.obj.engineers.select_related("user").order_by("user_id")
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schemas": [constants.SchemaURI.GROUP],
            "id": self.id,
            "externalId": None,
            "displayName": self.obj.name,
            "members": self.members if self.obj.pk else [],
            "meta": self.meta,
        }

    def from_dict(self, d: dict[str, Any]) -> None:
        name = str(d.get("displayName") or "").strip()
        if not name:
            raise scim_errors.BadRequestError("displayName is required.", scim_type="invalidValue")
        self.name = name
        self.joining = self._members(d.get("members") or [])

    def _members(self, members: Any) -> list[Any]:
        if not isinstance(members, list):
            raise scim_errors.BadRequestError("members must be a list.")
        ids = [str(m.get("value", "")) if isinstance(m, dict) else "" for m in members]
        if not all(i.isdigit() for i in ids):
            raise scim_errors.BadRequestError("Each member needs the value of a user id.")
        engineers = list(Engineer.objects.filter(user_id__in=[int(i) for i in ids]))
        if len(engineers) != len(set(ids)):
            raise scim_errors.BadRequestError(
                "A member must be a user with a place in the organisation (level and startDate) "
                "before a team can add them.",
                scim_type="invalidValue",
            )
        return engineers

    def handle_operations(self, operations: list[dict[str, Any]]) -> None:
        for operation in operations:
            op = str(operation.get("op", "")).lower()
            path = str(operation.get("path") or "")
            value = operation.get("value")
            if not path and isinstance(value, dict):
                if "displayName" in value:
                    self.name = str(value["displayName"]).strip()
                if "members" in value and op != "remove":
                    self.joining += self._members(value["members"])
            elif path == "displayName" and op == "replace":
                self.name = str(value or "").strip()
            elif path.startswith("members") and op in ("add", "replace"):
                self.joining += self._members(value or [])
            elif path.startswith("members") and op == "remove":
                pass  # an engineer stays in their team until another team adds them
            else:
                raise scim_errors.BadRequestError(f'Cannot {op} "{path}" on a team.')
        self.save()

    def save(self) -> None:
        actor = _actor(self.request)
        try:
            with transaction.atomic():
                if self.obj.pk is None:
                    if Team.objects.filter(name__iexact=self.name).exists():
                        raise scim_errors.IntegrityError(f"A team named {self.name} exists.")
                    self.obj = services.team_create(
                        actor=actor, slug=_free_slug(self.name or ""), name=self.name or ""
                    )
                elif self.name and self.name != self.obj.name:
                    self.obj = services.team_update(actor=actor, team=self.obj, name=self.name)
                for engineer in self.joining:
                    if engineer.team_id != self.obj.pk:
                        services.engineer_update(
                            actor=actor,
                            engineer=engineer,
                            source=Transfer.Source.SCIM,
                            team=self.obj,
                        )
        except DomainError as exc:
            raise _refuse(exc) from None

    def delete(self) -> None:
        raise scim_errors.SCIMException(
            "Levelset keeps teams: reviews name them. Move their engineers to other teams instead.",
            status=409,
        )
