from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import redis
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken

if TYPE_CHECKING:
    # Not at run time: rest_framework.views imports the permission and throttle classes from
    # REST_FRAMEWORK while it defines APIView, so importing it back here would be circular.
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class PerTokenThrottle(SimpleRateThrottle):
    """A request budget per token (or per signed-in user), shared by every web process through the cache.

    With the shared cache (Redis) down the throttle fails open: it lets the request through
    and logs. The budget guards the database against a runaway script, and the API is for
    leads' own tokens, so a few minutes without it costs little; failing closed would turn a
    Redis outage into an outage of the whole API, and a 500 on every call.
    """

    scope = "api"

    def __init__(self) -> None:
        # Looked up per request (DRF makes a throttle per request), not once at import, so
        # the cache follows the settings.
        self.cache = caches["shared"]
        super().__init__()

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except (redis.RedisError, OSError) as exc:
            logger.warning("API throttle skipped, the shared cache is unavailable: %s", exc)
            return True

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
