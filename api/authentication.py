"""Personal API tokens: `Authorization: Bearer triad_...`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import ApiToken
from api.services import API_TOKEN_PREFIX, api_token_hash, api_token_touch


def request_token(request: Request) -> ApiToken | None:
    """The API token the request came with, or None for a session (a lead in the browser)."""
    return request.auth if isinstance(request.auth, ApiToken) else None


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <token>' with one token.")
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token holds characters a token never has.") from None
        if not raw.startswith(API_TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed("Not a Triad API token.")
        # Looked up by its hash, so the comparison never runs over the secret itself.
        token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(raw)).first()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if token.expires_at is not None and token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("This token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with this challenge) rather than 403 to unauthenticated clients.
        return 'Bearer realm="triad"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Names the token scheme in the OpenAPI schema, so the docs page offers an Authorize button."""

    target_class = ApiTokenAuthentication
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from /lead/tokens/: `Authorization: Bearer triad_...`.",
        }
