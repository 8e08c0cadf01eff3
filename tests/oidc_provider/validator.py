from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


class GroupsValidator(OAuth2Validator):
    """Adds the person's e-mail, names and groups to the ID token and the userinfo answer."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "profile"}

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }

    # prompt=none (churnapp's session refresh): the authorization view lets only a signed-in, active person get this
    # far (anyone else gets error=login_required first), and the client needs no consent screen.
    def validate_silent_login(self, request):
        return True

    def validate_silent_authorization(self, request):
        return True
