"""SCIM 2.0 provisioning (django-scim2): an identity provider keeps the organisation in sync.

- **Users** are people. `userName`, `name`, the primary e-mail and `active` map to the account;
  the enterprise extension's `employeeNumber`, `manager` and `department` (the team's name) and
  Levelset's extension (`level`, a code of the rubric in use, and `startDate`) give the person
  their place in the organisation once level, start date and team are all known.
- **Groups** are teams; adding a member moves that engineer to the team (a recorded transfer).
  Removing a member moves nobody: an engineer always has a team, so they stay until another
  team adds them.
- Deleting a user deactivates them: every review and its history stays. Teams are never
  deleted (reviews name them).

Every change goes through people's services, as the token's owner (an HR account), so it is
validated, audited and followed by open reviews like any other. The bearer token is an API
token of an HR account (`/account/`), sent as `Authorization: Bearer <token>`.

django-scim2's adapters expect a custom user model carrying SCIM columns; Levelset keeps
Django's user, so the adapters below read and write through the services instead.
"""
