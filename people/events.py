"""Audit action codes written by the people services."""

from audit.registry import action

TEAM_CREATED = action("people.team.created", "created a team")
TEAM_CHANGED = action("people.team.changed", "changed a team")
ENGINEER_CREATED = action("people.engineer.created", "added an engineer to the organisation")
ENGINEER_CHANGED = action(
    "people.engineer.changed", "changed an engineer's team, level, manager or profile"
)
PERSON_CREATED = action("people.person.created", "added a person who can sign in")
PERSON_CHANGED = action(
    "people.person.changed", "changed a person's name or e-mail, or (de)activated them"
)
PERSON_ROLES_CHANGED = action("people.person.roles_changed", "changed a person's roles")
ORGANISATION_IMPORTED = action(
    "people.organisation.imported",
    "imported the organisation (joiners, leavers, transfers, manager and level changes)",
)
TOKEN_ISSUED = action("people.token.issued", "issued themselves an API token")
TOKEN_REVOKED = action("people.token.revoked", "revoked an API token")
SSO_SIGNED_IN = action("people.sso.signed_in", "signed in through the company's identity provider")
SSO_REFUSED = action(
    "people.sso.refused", "refused a sign-in through the company's identity provider"
)
