"""The claims the test identity provider hands out: the person's e-mail address, whether it is
verified, and their name, as a company's provider would."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

# People in this group have an e-mail address the provider has not verified.
UNVERIFIED_GROUP = "unverified-email"


class ClaimsValidator(OAuth2Validator):
    """DOT's standard claim-to-scope table (`oidc_claim_scope`) decides who sees what:
    `email` and `email_verified` go out with the "email" scope, the names with "profile"."""

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "email_verified": not user.groups.filter(name=UNVERIFIED_GROUP).exists(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "name": f"{user.first_name} {user.last_name}".strip(),
        }
