"""Renfang settings: everything comes from the environment, with safe defaults for the embedded demo.

Environment variables (see docs/operations.md):
  RENFANG_DEBUG            "1" for development (default "1" unless RENFANG_PRODUCTION=1)
  RENFANG_STATIC_MANIFEST  "1" serves hashed static files collected into STATIC_ROOT (default: when DEBUG is off)
  RENFANG_PRODUCTION       "1" turns on the production hardening (secure cookies, HSTS, ...)
  DJANGO_SECRET_KEY        or DJANGO_SECRET_KEY_FILE
  DATABASE_URL             default sqlite:///var/renfang.sqlite3 ; postgres://user@host:5432/name in production
  RENFANG_ALLOWED_HOSTS    comma separated
  RENFANG_KEY_FILE         JSON file with the field-encryption and blind-index keys (see core/crypto.py)
  RENFANG_KEYS             the same JSON inline (takes precedence)
  DATABASE_REPLICA_URL     a streaming replica of DATABASE_URL: the cockpit, the service circle, exports and figures
                           read from it (core/dbrouter.py); unset: everything on DATABASE_URL
  RENFANG_REPLICA_MAX_LAG  seconds (30): a replica further behind is not used, reads go to the primary
  RENFANG_REPLICA_CHECK_SECONDS  seconds (5): how long one measurement of the replica (lag, or down) is trusted
  RENFANG_REPLICA_PIN_SECONDS    seconds (60): after a write, that browser reads from the replica only once the
                           replica has replayed it, for at most this long (then the lag bound above suffices)
  DATABASE_POOL_MODE       "transaction" when DATABASE_URL (and the replica) go through pgbouncer in transaction
                           pooling: no server-side cursors (docs/operations.md)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RENFANG_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str | None = None) -> str | None:
    """Read a setting from NAME, or from the file named by NAME_FILE (Docker/K8s secrets)."""
    if name in os.environ:
        return os.environ[name]
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PRODUCTION = env_bool("RENFANG_PRODUCTION", False)
DEBUG = env_bool("RENFANG_DEBUG", not PRODUCTION)

_DEMO_SECRET = "renfang-demo-secret-key-not-for-production-0123456789abcdef"
SECRET_KEY = env("DJANGO_SECRET_KEY", None if PRODUCTION else _DEMO_SECRET)
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set in production")

ALLOWED_HOSTS = [h.strip() for h in (env("RENFANG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver") or "").split(",")
                 if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in (env("RENFANG_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core",
    "places",
    "people",
    "access",
    "demo",
    "circle",
    "quality",
    "fieldwork",
    "notify",
    "feedback",
    "cockpit",
    "cases",
    "mediation",
    "open311",
    "resources",
    "activities",
    "volunteers",
    "meetings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.middleware.BadInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "access.middleware.SessionPolicyMiddleware",
    "access.middleware.SecondFactorMiddleware",
    "access.middleware.DeniedAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.BusyDatabaseMiddleware",
    # Innermost: what it counts as this request's writes (for the read-after-write cookie) are the view's own.
    "core.dbrouter.ReplicaMiddleware",
]

ROOT_URLCONF = "renfang.urls"
WSGI_APPLICATION = "renfang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.renfang",
                "access.context_processors.second_factor",
                "cases.context_processors.holiday_banner",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'renfang.sqlite3'}"),
        conn_max_age=int(env("RENFANG_CONN_MAX_AGE", "60") or 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at BEGIN so that
        # check-then-insert sequences (hash chain, bookings) cannot interleave.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# A read replica (streaming, hot standby) for the read-heavy pages; core.dbrouter decides per request.
if env("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(env("DATABASE_REPLICA_URL"), conn_max_age=DATABASES["default"][
        "CONN_MAX_AGE"], conn_health_checks=True)
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # Test runs read the test database through it as well: no database of its own is created for it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.dbrouter.ReplicaRouter"]
RENFANG_REPLICA_NAMESPACES = ("cockpit", "circle")
RENFANG_REPLICA_MAX_LAG = float(env("RENFANG_REPLICA_MAX_LAG", "30") or 30)
RENFANG_REPLICA_CHECK_SECONDS = float(env("RENFANG_REPLICA_CHECK_SECONDS", "5") or 5)
RENFANG_REPLICA_PIN_SECONDS = float(env("RENFANG_REPLICA_PIN_SECONDS", "60") or 60)
# pgbouncer in transaction pooling hands each transaction to any server connection: a server-side cursor (a
# named cursor living across fetches, what .iterator() uses) would be lost between them. Prepared statements are
# off already (Django passes prepare_threshold=None to psycopg); advisory locks are transaction-level.
RENFANG_POOL_MODE = (env("DATABASE_POOL_MODE", "") or "").strip().lower()
if RENFANG_POOL_MODE == "transaction":
    for _db in DATABASES.values():
        if _db["ENGINE"].endswith("postgresql"):
            _db["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "access.validators.CharacterClassValidator"},
]
LOGIN_URL = "access:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "access:login"

SESSION_COOKIE_AGE = 12 * 3600  # absolute lifetime; the idle limit is enforced by access.middleware
RENFANG_SESSION_IDLE_SECONDS = int(env("RENFANG_SESSION_IDLE_SECONDS", "1800") or 1800)
RENFANG_LOCKOUT_FAILURES = 5
RENFANG_LOCKOUT_SECONDS = 30 * 60
RENFANG_IP_FAILURES_PER_HOUR = int(env("RENFANG_IP_FAILURES_PER_HOUR", "50") or 50)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files (installed from npm by `make assets`, never from a CDN) -------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request when it is missing
# With DEBUG off (production, and `make demo`) static files are served by whitenoise from STATIC_ROOT under hashed
# names: `manage.py collectstatic` must have run (without its manifest every page answers 500).
STATIC_MANIFEST = env_bool("RENFANG_STATIC_MANIFEST", PRODUCTION or not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if STATIC_MANIFEST else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
RENFANG_MAX_UPLOAD_BYTES = 30 * 1024 * 1024

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["core.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Renfang API",
    "DESCRIPTION": "人房 — people-and-housing registry of a sub-district",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ serves Swagger UI from our own static files (frontend/ copies swagger-ui-dist), never a CDN.
    "SWAGGER_UI_DIST": STATIC_URL + "vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": STATIC_URL + "vendor/swagger-ui/favicon-32x32.png",
    # Choice sets whose field names ("kind", "status") other apps use for other choices: named explicitly.
    "ENUM_NAME_OVERRIDES": {"ChangeKindEnum": "fieldwork.models.ChangeKind",
                            "ChangeStatusEnum": "fieldwork.models.ChangeStatus",
                            "CaseStatusEnum": "cases.models.Status",
                            "BookingStateEnum": "resources.choices.BookingState"},
}

# --- Background tasks: django-tasks with its database backend (no extra server) -------------
TASKS = {
    "default": {
        "BACKEND": env("RENFANG_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- Personal-data protection ---------------------------------------------------------------
RENFANG_KEY_FILE = env("RENFANG_KEY_FILE", str(VAR_DIR / "keys.json"))
RENFANG_EXPORT_APPROVAL_ROWS = 500
RENFANG_AUDIT_RETENTION_DAYS = 365
RENFANG_SMALL_CELL = 5
# Text messages (notify.sms): the sender class, and the file the FileBackend appends to (tests, demo).
RENFANG_SMS_BACKEND = env("RENFANG_SMS_BACKEND", "notify.sms.ConsoleBackend")
RENFANG_SMS_FILE = env("RENFANG_SMS_FILE", str(VAR_DIR / "sms.log"))

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
RENFANG_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
               "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
RENFANG_TILE_URL = env("RENFANG_TILE_URL", "") or ""
if RENFANG_TILE_URL:
    RENFANG_CSP = RENFANG_CSP.replace("img-src 'self'", "img-src 'self' " + RENFANG_TILE_URL.split("/{")[0])

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("RENFANG_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("RENFANG_LOG_LEVEL", "WARNING")},
}
