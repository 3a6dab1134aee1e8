from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.roles import LEAD, REVIEWER, has_role


def roles(request: HttpRequest) -> dict[str, Any]:
    return {"is_reviewer": has_role(request.user, REVIEWER), "is_lead": has_role(request.user, LEAD)}
