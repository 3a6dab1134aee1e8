"""Triad settings. Everything that differs between machines comes from the environment.

TRIAD_ENV=development (the default) runs with DEBUG and an embedded SQLite database;
TRIAD_ENV=production demands a real secret key and allowed hosts. DATABASE_URL and
REDIS_URL switch to PostgreSQL and a real Celery broker whatever the environment.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_rate,
    env_str,
    parse_database_url,
    parse_redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

TRIAD_ENV = env_choice("TRIAD_ENV", "development", ("development", "production"))
PRODUCTION = TRIAD_ENV == "production"
DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    # Debug error pages show settings, SQL and request data: transcripts, wellbeing answers.
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when TRIAD_ENV=production.")

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when TRIAD_ENV=production.")
    SECRET_KEY = "triad-development-only-insecure-key"  # noqa: S105 - never used in production

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the served host names when TRIAD_ENV=production.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Triad's apps, lowest first: each imports only apps listed before it (ARCHITECTURE.md,
    # enforced by tests/test_architecture.py).
    "core",
    "audit",
    "accounts",
    "tagging",
    "transcripts",
    "review",
    "agreement",
    "wellbeing",
    "adjudication",
    "api",
    "workspace",
    "demo",
]

MIDDLEWARE = [
    "config.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    # Before anything could read the body (neither of the two above does), and inside them so the
    # 413 carries the same security headers as every other response.
    "config.body_limit.RequestBodyLimitMiddleware",
    # Static files are answered here, inside the CSP middleware (so they carry the policy too) and
    # before anything that touches the session or the database.
    "config.staticfiles.StaticFilesMiddleware",  # WhiteNoise
    "config.middleware.DatabaseUnavailableMiddleware",
    "config.middleware.NotFoundPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.SessionActivityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: one query per signed-in request (an indexed exists()).
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.roles",
                "wellbeing.context_processors.wellbeing",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    _default_db = parse_database_url(_database_url)
else:
    _default_db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}
_default_db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
_default_db["CONN_HEALTH_CHECKS"] = True
# On PostgreSQL, send values apart from the SQL, and let psycopg prepare a statement once a
# connection has run it 5 times: the review loop's statements then skip PostgreSQL's parse and
# plan, which took a third of its time per review (bench/review_loop.py). Behind a pooler in
# transaction mode that cannot keep prepared statements (PgBouncer before 1.21, or without
# max_prepared_statements), set DATABASE_PREPARED_STATEMENTS=false.
_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
_default_db["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}
DATABASES = {"default": _default_db}


def _postgresql_binding(database: dict[str, Any]) -> None:
    if database["ENGINE"] == "django.db.backends.postgresql" and _PREPARED_STATEMENTS:
        database["OPTIONS"].setdefault("server_side_binding", True)
        database["OPTIONS"].setdefault("prepare_threshold", 5)


_postgresql_binding(_default_db)
# A read replica (streaming hot standby) for lead dashboards and exports: config/db_routing.py.
_replica_url = env_str("DATABASE_REPLICA_URL")
if _replica_url:
    _replica_db = parse_database_url(_replica_url, name="DATABASE_REPLICA_URL")
    if _replica_db["ENGINE"] != _default_db["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name the same kind of database as DATABASE_URL.")
    if _replica_db["ENGINE"] == "django.db.backends.postgresql":
        # Read-only sessions, as on a hot standby: a write routed here by mistake fails
        # loudly, also when the "replica" is the primary itself (tests, a one-server setup).
        _options = _replica_db["OPTIONS"].get("options", "")
        _replica_db["OPTIONS"]["options"] = f"{_options} -c default_transaction_read_only=on".strip()
        # An unreachable replica must fail fast: its views then read the primary instead.
        _replica_db["OPTIONS"].setdefault("connect_timeout", "5")
    _replica_db["CONN_MAX_AGE"] = _default_db["CONN_MAX_AGE"]
    _replica_db["CONN_HEALTH_CHECKS"] = True
    # Test databases are not replicated: the replica alias connects to default's test database.
    _replica_db["TEST"] = {"MIRROR": "default"}
    _postgresql_binding(_replica_db)
    DATABASES["replica"] = _replica_db
    # Only with a replica: without one the router would cost every query a call for nothing.
    DATABASE_ROUTERS = ["config.db_routing.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes, database handler: it keeps counting while Redis is down).
# Axes' backend comes first and refuses a locked-out login before the password is checked.
# The API never sees a password (personal tokens of 256 random bits), so it is not involved.
# axes' and Django's model backend, each reading the user and their roles in one statement.
AUTHENTICATION_BACKENDS = ["core.auth.UserWithRolesAxesBackend", "core.auth.UserWithRolesModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_VERBOSE = False  # no banner on every manage.py command
AXES_FAILURE_LIMIT = env_int("TRIAD_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TRIAD_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# Keyed by username and address together: reviewers share an office NAT, so locking an
# address would lock out a team, and locking a username alone would let anyone lock out
# any reviewer from anywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out are refused unchecked and do not extend the lockout, so a
# person retrying their password is back after one cool-off.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.lockout.client_ip_address"
# Behind the reverse proxy every request comes from the proxy's address; the client's is the
# entry this many proxies from the right of X-Forwarded-For (entries further left are the
# client's own claims and can be forged).
TRIAD_TRUSTED_PROXIES = env_int("TRIAD_TRUSTED_PROXIES", 1 if PRODUCTION else 0, minimum=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TRIAD_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves collectstatic's output through WhiteNoise under content-hashed names, cached
# by browsers for a year; elsewhere files are found where they live and re-read when edited.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "config.staticfiles.HashedStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_AUTOREFRESH = not PRODUCTION
WHITENOISE_USE_FINDERS = not PRODUCTION

# Security headers. The Content-Security-Policy forbids inline script and style
# everywhere: transcripts are adversarial text, so a slip in escaping must still not run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Django's database sessions, read by one written-out statement (config/sessions.py).
SESSION_ENGINE = "config.sessions"
SESSION_COOKIE_HTTPONLY = True
# Lax, not Strict: a link into Triad from mail or chat must arrive signed in; Lax still keeps
# the cookie off cross-site POSTs, and CSRF tokens cover the rest.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No script of ours reads the CSRF cookie (forms carry the token), so script need not see it.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
# Sessions expire after SESSION_COOKIE_AGE of inactivity; SessionActivityMiddleware renews
# them at most once a minute rather than writing the session on every request.
SESSION_ACTIVITY_RENEW_SECONDS = 60
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
# The __Host- prefix makes browsers refuse these cookies unless Secure, host-only and Path=/,
# so a neighbouring subdomain cannot plant a session or CSRF cookie (session fixation).
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
# Load balancers probe the app directly over plain HTTP; a redirect would read as unhealthy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Celery. Without REDIS_URL tasks run eagerly in-process, so a machine with nothing
# but Python runs the whole app; with it, a real worker and beat consume from Redis.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    parse_redis_url(REDIS_URL)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task that hangs (a lock wait, a runaway computation) is interrupted at the soft limit and its
# process killed at the hard one, and the message is then acknowledged as failed rather than
# redelivered forever. The largest agreement refresh measured (38,961 items) takes about 1 s.
# Keep debounce + hard limit below the visibility timeout, or Redis re-sends a task still running.
CELERY_TASK_TIME_LIMIT = env_int("TRIAD_CELERY_TASK_TIME_LIMIT", 300, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker outlives any Redis outage: it retries the connection for as long as it takes
# (Celery's default gives up after 100 attempts, about 50 minutes, and the worker exits),
# and its consumer survives losing Redis while it holds a message (config/celery.py).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CONSUMER = "config.celery:Consumer"
# With Redis down a publish must neither fail nor hold up a reviewer's request: give up after
# about 0.2 s (the caller logs it, and the beat catch-up below re-sends what was lost).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# A message a worker took but never acknowledged (the worker was killed) goes back to the
# queue after visibility_timeout. It must exceed the longest countdown (the agreement debounce)
# plus the longest task, or Redis hands a waiting or running task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("TRIAD_CELERY_VISIBILITY_TIMEOUT", 600, minimum=1),
    "socket_connect_timeout": 1,
    # Without it a publish on a connection Redis dropped silently waits forever.
    "socket_timeout": 5,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # Claims also reopen expired leases lazily; the sweep keeps progress counts honest
    # for leads when nobody is claiming.
    "sweep-expired-leases": {"task": "review.sweep_expired_leases", "schedule": 60.0},
    # Both are idempotent: a second run the same day invites nobody; each snooze is reminded once.
    "wellbeing-invite-periodic": {"task": "wellbeing.invite_periodic", "schedule": 3600.0},
    "wellbeing-remind-invitations": {"task": "wellbeing.remind_invitations", "schedule": 3600.0},
    # Publishes each closed month's wellbeing figures once (wellbeing/PRIVACY.md), so the lead's
    # page reads stored figures instead of publishing on its first view.
    "wellbeing-publish-closed-months": {"task": "wellbeing.publish_closed_months", "schedule": 3600.0},
    # Re-sends agreement refreshes whose enqueue was lost (Redis down) or whose worker died.
    # Often, so the lead's snapshot catches up within debounce + 30 s of any fault ending; a run
    # that finds nothing overdue is one query over a table of one row per study.
    "agreement-refresh-catch-up": {"task": "review.catch_up_agreement_refreshes", "schedule": 10.0},
    # Re-sends a study's start that stopped moving for 2 minutes (its enqueue lost with Redis down,
    # or its worker killed); a run that finds none is one query on the study table.
    "study-start-catch-up": {"task": "review.catch_up_starts", "schedule": 60.0},
}
# Workers write a heartbeat to Redis this often (for /healthz); it lapses after 3 missed beats.
TRIAD_WORKER_HEARTBEAT_SECONDS = env_int("TRIAD_WORKER_HEARTBEAT_SECONDS", 10, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))},
}

# The lead dashboard's agreement snapshot is recomputed at most once per this many seconds
# per study after submissions (and at once when a lead asks).
TRIAD_AGREEMENT_DEBOUNCE_SECONDS = env_int("TRIAD_AGREEMENT_DEBOUNCE_SECONDS", 30, minimum=1)
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= TRIAD_AGREEMENT_DEBOUNCE_SECONDS:
    raise ImproperlyConfigured(
        "TRIAD_CELERY_VISIBILITY_TIMEOUT must exceed TRIAD_AGREEMENT_DEBOUNCE_SECONDS: a refresh waits that long "
        "unacknowledged in a worker, and Redis would hand it to a second worker meanwhile."
    )

# Request bodies. No view accepts files and no form or API call needs more than a few
# hundred KB, so anything bigger is refused before it is read: with a 413 by the WSGI layer
# (config/wsgi.py, which gunicorn serves) and by config.body_limit.RequestBodyLimitMiddleware
# (everything else), and by Caddy in front (deploy/Caddyfile reads the same variable).
# A multipart file part is refused without being written anywhere.
TRIAD_MAX_REQUEST_BYTES = env_int("TRIAD_MAX_REQUEST_BYTES", 4 * 2**20, minimum=64 * 2**10)
DATA_UPLOAD_MAX_MEMORY_SIZE = TRIAD_MAX_REQUEST_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 0
FILE_UPLOAD_HANDLERS: list[str] = []

# Limits on one record of an imported file (review/importing.py), checked before the record
# is held in memory whole. The released records are a few KB each.
TRIAD_IMPORT_MAX_RECORD_BYTES = env_int("TRIAD_IMPORT_MAX_RECORD_BYTES", 16 * 2**20, minimum=2**16)
TRIAD_IMPORT_MAX_STRING_CHARS = env_int("TRIAD_IMPORT_MAX_STRING_CHARS", 4 * 2**20, minimum=2**10)
# A released record nests 2 deep (the record, its tags); parsing and checking recurse per level.
TRIAD_IMPORT_MAX_DEPTH = env_int("TRIAD_IMPORT_MAX_DEPTH", 32, minimum=2, maximum=200)
# An import stops (nothing written) at more invalid records than this, even with --skip-invalid.
TRIAD_IMPORT_MAX_REJECTS = env_int("TRIAD_IMPORT_MAX_REJECTS", 10_000, minimum=1)

# Caches. "default" is per process; Triad keeps nothing in it (roles are read per request, so a
# role taken away stops at once). "shared" must be seen by every web process, so API throttling
# counts one budget per token: Redis when there is one.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "triad-default"},
    "shared": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "triad",
            # Short: with Redis down the API throttle fails open (review/api/throttling.py) at once.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "triad-shared"}
    ),
}

# The REST API (/api/v1/): leads' tokens or sessions, cursor pages, a budget per token.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.LeadWithScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env_rate("TRIAD_API_RATE", "1200/minute")},
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # ?format= belongs to the export endpoint (jsonl or csv), not to renderer negotiation.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Triad API",
    "DESCRIPTION": "Labels (reviews) of red-team transcripts, their items and studies, and agreement.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package: the docs page works with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The <id:...> path converter (config/inputs.py): a database id, so at most a signed 64-bit integer.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
}
