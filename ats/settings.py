"""Settings for ATS Research, read from the environment (SPEC §2).

Production is configured only through environment variables (or a `.env` file beside
manage.py). The defaults are safe: DEBUG is off, cookies are secure and HTTPS is enforced
unless the operator turns that off for plain-HTTP local use.
"""

from __future__ import annotations

import secrets
import warnings
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from ats.logging import logging_config
from ats.rates import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. It is required when DEBUG is off: set SECRET_KEY in the "
            "environment (for example with `python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'`), or set DEBUG=true for local development."
        )
    # DEBUG only: keep one generated key in var/ so sessions survive restarts and are shared
    # by every gunicorn worker.
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://localhost:8000", "http://127.0.0.1:8000"]
)

# HTTPS hardening: on whenever DEBUG is off, unless turned off explicitly (plain-HTTP local
# use, or behind a TLS-terminating proxy that redirects by itself).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz is probed over plain HTTP by load balancers and orchestrators.
SECURE_REDIRECT_EXEMPT = [r"^healthz", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (Django's middleware): this site's own scripts,
# styles and images only, never another host; an inline <script> or <style> needs the
# request's nonce (`{{ csp_nonce }}` in templates). The API docs' assets are served locally
# (drf-spectacular-sidecar), so they work without internet too.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],  # the admin's and Swagger UI's CSS inline small icons
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ats",
    "jobs",
    "research",
]

MIDDLEWARE = [
    # Outermost: times and logs every request, whatever answers it.
    "ats.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside CommonMiddleware: sees its redirects, and turns any 4xx under /api/ into
    # problem+json.
    "ats.api_edge.ApiEdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ats.api_edge.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ats.middleware.TenantScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ats.urls"
WSGI_APPLICATION = "ats.wsgi.application"
ASGI_APPLICATION = "ats.asgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]


MSG_DATABASE_URL = (
    "DATABASE_URL is not a database URL ({url!r}): use postgres://user:password@host:5432/name "
    "for PostgreSQL, or unset it for the embedded SQLite database (var/ats.sqlite3)."
)


def masked_url(url: str) -> str:
    """A URL as it may be shown: its password replaced by ***. It is shown because it is
    malformed, so it is not parsed: the password is whatever lies between the user's colon
    and the last "@" (a password may hold "/" and "@")."""
    userinfo, at, host = url.rpartition("@")
    scheme, slashes, credentials = userinfo.rpartition("//")
    user, colon, _password = credentials.partition(":")
    if not (at and colon):
        return url
    return f"{scheme}{slashes}{user}:***@{host}"


def _database() -> dict:
    default = f"sqlite:///{VAR_DIR / 'ats.sqlite3'}"
    try:
        with warnings.catch_warnings():  # environ warns, then fails: the error below says it
            warnings.simplefilter("ignore")
            config = env.db_url("DATABASE_URL", default=default)
        if not config.get("ENGINE"):  # an unknown scheme, or no URL at all
            raise ValueError(config)
    except (KeyError, ValueError):
        url = env.str("DATABASE_URL", default=default)
        raise ImproperlyConfigured(MSG_DATABASE_URL.format(url=masked_url(url))) from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(config["NAME"])
        if str(name) != ":memory:":
            if not name.is_absolute():
                name = BASE_DIR / name
            name.parent.mkdir(parents=True, exist_ok=True)
            config["NAME"] = str(name)
        # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN,
        # so two workers' claim transactions are serialized instead of failing with
        # "database is locked" on lock upgrade.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=30.0),
            **config.get("OPTIONS", {}),
        }
        config["CONN_MAX_AGE"] = 0
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL with the tenant scope applied to each transaction (row-level security).
        config["ENGINE"] = "ats.db.backends.postgresql"
        config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {}).setdefault(
            "application_name", env.str("DB_APPLICATION_NAME", default="ats-research")
        )
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL uses an unsupported database ({config['ENGINE']}). "
            "Use postgres://... (production) or sqlite:///path (embedded default)."
        )
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Compact 24-hour dates in the admin (ats/formats/en/formats.py).
FORMAT_MODULE_PATH = ["ats.formats"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# In DEBUG, serve static files from the apps without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")

# Research bundles may be up to 25 MB (SPEC §5); larger bodies are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Shared by every process: rate limits are counted here (the database cache by default, its
# table created by a migration; `manage.py createcachetable` after changing CACHE_URL).
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://ats_cache")}


def _rate_limits() -> dict[str, str]:
    """Requests per period, per scope (`ats.ratelimit`); an empty value turns a limit off."""
    limits = {
        # Per API key: an automation client's pace, with room for bursts.
        "api_key": env.str("RATE_LIMIT_API_KEY", default="600/min"),
        # Per staff user using the API with a browser session.
        "user": env.str("RATE_LIMIT_USER", default="600/min"),
        # Per client address: requests without credentials or with wrong ones.
        "anonymous": env.str("RATE_LIMIT_ANONYMOUS", default="60/min"),
        # Failed admin logins, per username and per client address.
        "admin_login_user": env.str("RATE_LIMIT_ADMIN_LOGIN_USER", default="5/15min"),
        "admin_login_address": env.str("RATE_LIMIT_ADMIN_LOGIN_ADDRESS", default="20/15min"),
    }
    for scope, rate in limits.items():
        try:
            parse_rate(rate)
        except ValueError as exc:
            raise ImproperlyConfigured(f"RATE_LIMIT_{scope.upper()}: {exc}") from None
    return limits


RATE_LIMITS = _rate_limits()

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ats.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ats.api.parsers.LimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "ats.api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ats.api.exceptions.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "ats.ratelimit.ApiKeyRateThrottle",
        "ats.ratelimit.UserRateThrottle",
        "ats.ratelimit.AnonymousRateThrottle",
    ],
    # Proxies in front of the app whose X-Forwarded-For is trusted for the client address
    # (0: REMOTE_ADDR, a client cannot choose its address).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=` is ours (the prospects CSV export), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ATS Research API",
    "DESCRIPTION": (
        "Automation API of ATS Research: research runs, bundles, prospects, companies and "
        "jobs. Authenticate with `Authorization: Bearer <api key>`."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.0.3",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from this site's static files (no CDN: works offline and under the CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ats.api.schema.openapi30_nullable",
        "ats.api.schema.document_problems",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "research.models.RunStatus",
        "BundleStatusEnum": "research.models.BundleStatus",
        "StepStatusEnum": "research.models.StepStatus",
        "ProspectStatusEnum": "research.models.ProspectStatus",
        "JobStatusEnum": "jobs.models.JobStatus",
    },
}

# Job queue (SPEC §2, §6).
JOBS_POLL_INTERVAL = env.float("JOBS_POLL_INTERVAL", default=1.0)
JOBS_HEARTBEAT_INTERVAL = env.float("JOBS_HEARTBEAT_INTERVAL", default=5.0)
JOBS_LEASE_TIMEOUT = env.float("JOBS_LEASE_TIMEOUT", default=60.0)
JOBS_RETRY_BASE = env.float("JOBS_RETRY_BASE", default=30.0)
JOBS_RETRY_MAX = env.float("JOBS_RETRY_MAX", default=3600.0)
# Seconds a stopping worker gives running jobs before releasing them to the queue.
JOBS_SHUTDOWN_GRACE = env.float("JOBS_SHUTDOWN_GRACE", default=30.0)
# Off behind PgBouncer in transaction mode before 1.21 (docs/operating.md).
JOBS_PREPARED_STATEMENTS = env.bool("JOBS_PREPARED_STATEMENTS", default=True)

# Django Tasks (`@task` functions) are stored as jobs and run by `manage.py runworker`.
# An empty QUEUES list accepts any queue name.
TASKS = {"default": {"BACKEND": "jobs.backend.JobsBackend", "QUEUES": []}}

# GET /metrics answers scrapers that send `Authorization: Bearer <METRICS_TOKEN>`. Without a
# token it is open only when DEBUG is on; otherwise it is closed (403 saying what to set).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# prometheus-client's multiprocess mode: every process (gunicorn workers, runworker) writes its
# metrics to files in this directory and /metrics adds them up. gunicorn.conf.py gives gunicorn
# a private one when it is unset; prometheus-client reads the variable from the environment.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

FETCH_ALLOW_PRIVATE_NETWORKS = env.bool("FETCH_ALLOW_PRIVATE_NETWORKS", default=False)

LOG_FORMAT = env.str("LOG_FORMAT", default="console")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
if LOG_FORMAT not in {"console", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'console' or 'json', not {LOG_FORMAT!r}.")

LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
