"""churnapp settings, read from the environment (django-environ).

Required in production (DEBUG off): SECRET_KEY, ALLOWED_HOSTS. Everything else has a working default so `make run`
and `make test` need no configuration at all.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from churnapp import db_settings, sso_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CHURNAPP_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# A `.env` next to manage.py (yours) wins over `var/local.env` (written by `make run` for the embedded default: DEBUG
# and a generated SECRET_KEY), and the process environment wins over both: read_env never overrides a set variable.
for _env_file in (BASE_DIR / ".env", VAR_DIR / "local.env"):
    if _env_file.is_file():
        env.read_env(_env_file)


def _required(name: str, *, dev_default: str | None = None) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG and dev_default is not None:
        return dev_default
    raise ImproperlyConfigured(f"Set the {name} environment variable (required when DEBUG is off).")


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = _required("SECRET_KEY", dev_default="dev-only-insecure-key-never-use-in-production-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set the ALLOWED_HOSTS environment variable (required when DEBUG is off).")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # trigram lookups of the search (PostgreSQL only; harmless on SQLite)
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "churnapp",
    "audit",
    "accounts",
    "health",
    "messaging",
    "automations",
    "winback",
    "dashboards",
    "privacy",
    "configuration",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "churnapp.dbrouting.ReplicaReadsMiddleware",  # dashboards, KPI API, accounts list: reads on the replica
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the browser (Accept-Language) or the language cookie; a signed-in user's choice wins below.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.context.AuditMiddleware",  # each request's writes are recorded with its door and user or API key
    "churnapp.middleware.LoginRequiredMiddleware",
    "churnapp.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees the views' exceptions first: the product's error pages when DEBUG is on.
    "churnapp.errors.FriendlyErrorsMiddleware",
]
CSRF_FAILURE_VIEW = "churnapp.errors.csrf_failure"

ROOT_URLCONF = "churnapp.urls"
WSGI_APPLICATION = "churnapp.wsgi.application"

_loaders = [
    "django.template.loaders.filesystem.Loader",
    "django.template.loaders.app_directories.Loader",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "churnapp.context_processors.navigation",
            ],
            "builtins": [
                "template_partials.templatetags.partials",
                "churnapp.templatetags.people",
                "churnapp.templatetags.formatting",
            ],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    _loaders if DEBUG else [("django.template.loaders.cached.Loader", _loaders)],
                )
            ],
        },
    }
]

# The primary, an optional streaming replica with its router, and the engine's silenced checks.
DATABASES, DATABASE_ROUTERS, SILENCED_SYSTEM_CHECKS = db_settings.read(env, BASE_DIR)
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=15)  # a browser reads the primary after its writes
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

# The languages the whole interface is translated into; each user picks one (default: the browser's).
LANGUAGES = [("en", "English"), ("it", "Italiano"), ("bg", "Български")]
# The installation's language, for browsers that ask for none of these; check translation.E004 refuses another.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en").strip().lower()
# The project's own templates' catalogue; each app keeps its catalogue in its own locale/ folder.
LOCALE_PATHS = [BASE_DIR / "locale"]
# Compact dates for tables and figures, in each language's order ("Dec 4, 2026", "4 dic 2026", "4 дек 2026").
FORMAT_MODULE_PATH = ["churnapp.formats"]
# The reporting currency (ISO 4217) every stored and reported amount is in; a system check refuses an unknown code.
CURRENCY = env.str("CURRENCY", default="USD").strip().upper()
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# Email: console in development, SMTP (or any backend) from the environment.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="churnapp <noreply@localhost>")

# Security: strict when DEBUG is off (`manage.py check --deploy` is clean). X-Forwarded-Proto is trusted only behind a
# TLS proxy that sets it (and strips it from clients): otherwise any client could claim HTTPS.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)  # seconds; sign in again after 12 h
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers and container health checks probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")

# Cache and broker: Redis when REDIS_URL is set, otherwise embedded (local memory + filesystem transport).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_QUEUE_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "out"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "out"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "store_processed": False,
    }
    # The filesystem transport does not create its folders, and publishing into a missing one raises
    # FileNotFoundError: every process that may enqueue (web, worker, any manage.py command) creates them here.
    for _folder in ("out", "control", "processed"):
        (CELERY_QUEUE_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 660
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
ACCOUNT_SNAPSHOT_INTERVAL = env.int("ACCOUNT_SNAPSHOT_INTERVAL", default=15 * 60)  # seconds
# A confirmed bulk edit of up to this many accounts runs in the request; a larger one in a worker, with progress.
BULK_EDIT_INLINE_LIMIT = env.int("BULK_EDIT_INLINE_LIMIT", default=200)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "churnapp.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "churnapp.authentication.HasApiKeyScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["churnapp.authentication.ApiKeyRateThrottle"],
    # Requests per API key; "off" disables (e.g. for the ingestion benchmark's server).
    "DEFAULT_THROTTLE_RATES": {
        "api_key": None
        if env.str("API_KEY_THROTTLE_RATE", default="") == "off"
        else env.str("API_KEY_THROTTLE_RATE", default="1200/min")
    },
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "churnapp.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "churnapp API",
    "DESCRIPTION": "Accounts, subscriptions, usage, health and KPIs of the churnapp customer success platform.\n\n"
    "API-key scopes: `ingest` reaches only the tracking API (`/v1/identify`, `/v1/track`, … `/v1/batch`) and event "
    "ingestion (`POST /api/v1/events/bulk/`) — it is the key that lives in client apps and browsers; `read` allows "
    "GET; `write` allows creating, updating and deleting, CRM and helpdesk sync included (accounts, contacts, "
    "subscriptions, tickets, survey responses, tasks, activities, tags, single, by external id or bulk); `config` "
    "reaches the configuration API (`/api/v1/config/…`) and nothing else; `admin` allows everything. A signed-in "
    "user's role applies instead of scopes.\n\n"
    f"Amounts (MRR, ARPA, CLV, revenue) are in the installation's reporting currency, {CURRENCY} here (setting "
    "`CURRENCY`, an ISO 4217 code), as numbers with two decimals.\n\n"
    "Configuration as code: `/api/v1/config/bundle/` exports, plans and applies every configuration object as one "
    "bundle; editors validate a bundle with its JSON Schema, "
    "[/api/v1/config/bundle/schema.json](/api/v1/config/bundle/schema.json).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.AccountStatus",
        "SubscriptionStatusEnum": "accounts.models.SubscriptionStatus",
        "TicketStatusEnum": "accounts.models.TicketStatus",
        "TaskStatusEnum": "accounts.models.TaskStatus",
        "ActivityKindEnum": "accounts.models.ActivityKind",
        "SurveyKindEnum": "accounts.models.SurveyKind",
        "HealthBandWithUnscoredEnum": "dashboards.api.BAND_CHOICES",
        "ProfileVersionStatusEnum": "health.models.VersionStatus",
        "LifecycleStageEnum": "accounts.models.LifecycleStage",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Data in (issue 3): integrations, tracking, webhooks ---------------------------------------------------------
# Outgoing webhooks may not target loopback/private addresses (SSRF) unless allowed here.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOKS_ALLOWED_HOSTS = env.list("WEBHOOKS_ALLOWED_HOSTS", default=[])
# Inbound webhooks: Stripe's endpoint signing secret (whsec_…) and the shared secret of the helpdesk webhook.
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
HELPDESK_WEBHOOK_SECRET = env.str("HELPDESK_WEBHOOK_SECRET", default="")
# The audit trail keeps entries this many days (0: forever); a nightly job removes older ones.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=730)

# --- Messaging: email frequency cap, Slack notifications (the AUTOMATIONS_ names of earlier releases still work) -
MESSAGING_EMAIL_CAP_COUNT = env.int(
    "MESSAGING_EMAIL_CAP_COUNT", default=env.int("AUTOMATIONS_EMAIL_CAP_COUNT", default=1)
)
MESSAGING_EMAIL_CAP_DAYS = env.int("MESSAGING_EMAIL_CAP_DAYS", default=env.int("AUTOMATIONS_EMAIL_CAP_DAYS", default=3))
MESSAGING_SLACK_WEBHOOK_URL = env.str(
    "MESSAGING_SLACK_WEBHOOK_URL", default=env.str("AUTOMATIONS_SLACK_WEBHOOK_URL", default="")
)
MESSAGING_EMAIL_STALE_CLAIM_MINUTES = env.int(
    "MESSAGING_EMAIL_STALE_CLAIM_MINUTES", default=env.int("AUTOMATIONS_EMAIL_STALE_CLAIM_MINUTES", default=15)
)
# --- Automations: rule evaluation interval -------------------------------------------------------------------------
AUTOMATIONS_RULES_INTERVAL = env.int("AUTOMATIONS_RULES_INTERVAL", default=300)  # seconds between rule cycles
AUTOMATIONS_ACTIONS_CHUNK = env.int("AUTOMATIONS_ACTIONS_CHUNK", default=500)  # executions whose actions run at once
# --- Imports: upload size, rows per import, size of one JSON row -------------------------------------------------
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=200)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=5_000_000)
IMPORT_MAX_ROW_KB = env.int("IMPORT_MAX_ROW_KB", default=1024)  # one JSON Lines line / JSON array element

# --- Faults and bad input (issue 16) ------------------------------------------------------------------------------
# Every REST endpoint parses JSON through one bounded parser: gzip (413 past 20 MB, 415 other encodings), NUL a 400.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "churnapp.parsers.BoundedJSONParser",
    "rest_framework.parsers.FormParser",
    "rest_framework.parsers.MultiPartParser",
]
# A broker, cache or database outage answers a JSON 503 with Retry-After (never an HTML 500); Redis calls give up
# after a second instead of hanging a web worker, and the API-key throttle fails open when the cache is down.
MIDDLEWARE.append("churnapp.middleware.DependencyUnavailableMiddleware")
if REDIS_URL:
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}
# Redis broker: a killed worker's task is redelivered within a minute (45 s visibility timeout + a 5 s restore
# sweep); live workers keep the messages they hold from being redelivered (churnapp.redelivery), so tasks longer
# than the timeout never run twice. Broker calls give up after seconds instead of hanging a request.
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=45),
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 1,
        "socket_timeout": 10,
        "socket_connect_timeout": 2,
    }

# --- Login protection (django-axes) and password-reset throttling ------------------------------------------------
# One username from one client address is locked out after LOGIN_FAILURE_LIMIT failures, for LOGIN_LOCKOUT_MINUTES
# (each failure during the lockout starts it again). The client address is REMOTE_ADDR or, behind
# TRUSTED_PROXY_COUNT proxies, the X-Forwarded-For entry the outermost of them appended
# (churnapp.login_protection.client_ip): without it every login would come from the proxy's address, and anyone could
# lock a user out for everyone. Entries a client adds itself stand to the left and are never read.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "churnapp.login_protection.client_ip"
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes requires
AUTHENTICATION_BACKENDS = [
    "churnapp.login_protection.LoginLockoutBackend",  # first: refuses locked-out logins before a password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("LOGIN_LOCKOUT_MINUTES", default=15) / 60  # hours, as a float
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "churnapp.login_protection.lockout_response"
# Password-reset e-mails: requests per address and per client address within the window (seconds).
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=10)
PASSWORD_RESET_WINDOW = env.int("PASSWORD_RESET_WINDOW", default=60 * 60)

# --- Content-Security-Policy (django-csp) -------------------------------------------------------------------------
# Every page: scripts and styles only from our own static files (no inline script, handler or style attribute),
# never framed. A few views add to it with django-csp's decorators (the API docs UIs, the e-mail preview).
# Outside the other middleware, so responses they make themselves (the login lockout page) carry the header too.
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
SELF_ONLY = ("default-src", "script-src", "style-src", "connect-src", "form-action", "base-uri")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        **{directive: ["'self'"] for directive in SELF_ONLY},
        **{"img-src": ["'self'", "data:"], "object-src": ["'none'"], "frame-ancestors": ["'none'"]},
    }
}
globals().update(sso_settings.read(env, globals()))  # single sign-on: OIDC_*, SSO_* (backends, middleware too)
