"""Who may read labels: leads, in the browser or through a token carrying the view's scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import permissions
from rest_framework.request import Request

from api.models import ApiToken
from core.roles import LEAD, has_role

if TYPE_CHECKING:
    # Not at run time: rest_framework.views imports the permission and throttle classes from
    # REST_FRAMEWORK while it defines APIView, so importing it back here would be circular.
    from rest_framework.views import APIView


class LeadWithScope(permissions.BasePermission):
    """A signed-in lead, or a lead's token with the scope the view names in `required_scope`.

    Reviewers are refused: the API carries other people's ratings, which reviewers must not see.
    """

    message = "The API is for leads, with a token carrying the scope this endpoint needs."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated and has_role(user, LEAD)):
            return False
        if isinstance(request.auth, ApiToken):
            scopes = getattr(view, "required_scopes", ())
            if scopes and not set(scopes) & set(request.auth.scopes):
                self.message = f"This token lacks the scope {' or '.join(scopes)}."
                return False
        return True
