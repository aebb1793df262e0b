"""govportal settings: one file, read from the environment.

With nothing set, the portal runs in its embedded mode: a SQLite file and uploads under
`var/`, Celery tasks executed in-process. Production sets DATABASE_URL, CELERY_BROKER_URL,
SECRET_KEY, ALLOWED_HOSTS and DEBUG=false (see README.md).
"""

import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from govportal.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GOVPORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "audits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
]

ROOT_URLCONF = "govportal.urls"
WSGI_APPLICATION = "govportal.wsgi.application"

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
                "audits.web.context.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'govportal.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # In-process tasks write while a request writes: wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    # Any Django storage class works here, e.g. storages.backends.s3.S3Storage from
    # django-storages for S3-compatible object storage.
    "default": {
        "BACKEND": env_str("FILE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads: evidence and diagnostic files are limited per file; request bodies beyond the
# in-memory limit spill to disk instead of filling memory.
GOVPORTAL_MAX_UPLOAD_BYTES = env_int("GOVPORTAL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Celery: without a broker, tasks run in-process (the embedded mode).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "govportal")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a task whose worker died after this many seconds; above the report
# task's hard time limit (120 s), so a running render is never handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=130)
}
# Background work goes through the transactional outbox (audits/services/outbox.py). Without
# a broker the web process runs it on a background thread after the response ("thread",
# the embedded default) or at once after the commit ("inline"); commands run it inline.
GOVPORTAL_TASKS_IN_PROCESS = env_choice(
    "GOVPORTAL_TASKS_IN_PROCESS", "thread", ("thread", "inline")
)
# How often unsent outbox messages are swept up and handed over again.
GOVPORTAL_OUTBOX_SWEEP_SECONDS = env_int("GOVPORTAL_OUTBOX_SWEEP_SECONDS", 30, minimum=1)
# Periodic work, run by `celery -A govportal beat` (or a worker started with -B).
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "audits.outbox_sweep",
        "schedule": float(GOVPORTAL_OUTBOX_SWEEP_SECONDS),
    },
    "audit-chain-verify": {
        "task": "audits.audit_chain_verify",
        "schedule": float(env_int("GOVPORTAL_AUDIT_VERIFY_SECONDS", 3600, minimum=60)),
    },
    "audit-chain-anchor": {
        "task": "audits.audit_chain_anchor",
        "schedule": float(env_int("GOVPORTAL_AUDIT_ANCHOR_SECONDS", 900, minimum=60)),
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "govportal <noreply@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "audits.api.authentication.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "audits.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["audits.api.throttling.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # Per API key (or signed-in user); anonymous callers per address.
        "principal": env_str("API_THROTTLE_RATE", "600/min"),
        "anonymous": env_str("API_ANON_THROTTLE_RATE", "60/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "audits.api.openapi.ApiAutoSchema",
    "EXCEPTION_HANDLER": "audits.api.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "audits.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
}
# The REST API's own limits: the whole request body, and each uploaded file (the service's
# GOVPORTAL_MAX_UPLOAD_BYTES still applies).
API_MAX_REQUEST_BYTES = env_int("API_MAX_REQUEST_BYTES", 60 * 1024 * 1024, minimum=1)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200, minimum=1)

SPECTACULAR_SETTINGS = {
    "TITLE": "govportal REST API",
    "DESCRIPTION": (
        "File transparency reports about AI models, follow their mesa-optimization risk "
        "assessment and review, and fetch the PDF transparency audit reports. "
        "Machines authenticate with an organization API key: `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "audits.models.Submission.Status",
        "TierEnum": "audits.models.Assessment.Tier",
        "ReportStatusEnum": "audits.models.Report.Status",
        "ReportKindEnum": "audits.models.Report.Kind",
        "ApiKeyScopeEnum": "audits.models.OrganizationAPIKey.Scope",
    },
}

# Security: production values come on with DEBUG off; each can be set on its own.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy: the portal's own scripts, styles, fonts and images only; no
# inline script anywhere (htmx is configured not to inject styles or evaluate code). Style
# attributes stay allowed: they cannot run code, and charts size bars with them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Features no page of the portal uses are switched off for every page.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


# How many working days (Monday to Friday) a review may take, by the tier of the assessment
# the filing was submitted with: "critical=10,high=20,default=30".
def _review_service_levels() -> dict[str, int]:
    levels = {"critical": 10, "default": 30}
    for item in env_list("GOVPORTAL_REVIEW_SLA_DAYS"):
        tier, _, days = item.partition("=")
        if tier.strip() not in {"low", "moderate", "high", "critical", "default"} or not (
            days.strip().isdigit() and int(days) > 0
        ):
            raise ImproperlyConfigured(
                f"GOVPORTAL_REVIEW_SLA_DAYS: {item!r} is not tier=days "
                "(tiers: low, moderate, high, critical, default)"
            )
        levels[tier.strip()] = int(days)
    return levels


GOVPORTAL_REVIEW_SLA_DAYS = _review_service_levels()


# The audit chain's key (HMAC-SHA256), kept outside the database: a hex or text secret of at
# least 32 characters in GOVPORTAL_AUDIT_KEY, or a file named by GOVPORTAL_AUDIT_KEY_FILE.
# The embedded default makes a key file under var/ on first use; production must set one.
def _audit_chain_key() -> bytes:
    secret = env_str("GOVPORTAL_AUDIT_KEY")
    key_file = env_str("GOVPORTAL_AUDIT_KEY_FILE")
    if key_file:
        try:
            secret = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(f"GOVPORTAL_AUDIT_KEY_FILE: {error}") from None
    if not secret:
        if not DEBUG:
            raise ImproperlyConfigured(
                "GOVPORTAL_AUDIT_KEY or GOVPORTAL_AUDIT_KEY_FILE must be set when DEBUG is off"
            )
        development_key = VAR_DIR / "audit-chain.key"
        if not development_key.exists():
            development_key.parent.mkdir(parents=True, exist_ok=True)
            development_key.write_text(secrets.token_hex(32), encoding="utf-8")
            development_key.chmod(0o600)
        secret = development_key.read_text(encoding="utf-8").strip()
    if len(secret) < 32:
        raise ImproperlyConfigured("the audit chain key must have at least 32 characters")
    return secret.encode("utf-8")


AUDIT_CHAIN_KEY = _audit_chain_key()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Transparency audit reports: where they point, who signs them, how often ------------
# (audits/reports/, audits/services/reports.py; README "Configuration for production".)


def _portal_base_url(raw: str) -> str:
    """The portal's public address, as printed in every report: scheme and host, no path
    beyond an optional prefix, no query."""
    from urllib.parse import urlsplit

    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"PORTAL_BASE_URL={raw!r} is not an absolute http(s) URL such as "
            "https://portal.example.org"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured(
            f"PORTAL_BASE_URL={raw!r} must not carry a query, fragment or credentials"
        )
    if not DEBUG and parts.scheme != "https":
        raise ImproperlyConfigured(f"PORTAL_BASE_URL={raw!r} must use https when DEBUG is off")
    return raw.strip().rstrip("/")


_base_url = env_str("PORTAL_BASE_URL")
if not _base_url and not DEBUG:
    raise ImproperlyConfigured(
        "PORTAL_BASE_URL must be set when DEBUG is off: every report prints its verification "
        "address, e.g. https://portal.example.org"
    )
PORTAL_BASE_URL = _portal_base_url(_base_url or "http://127.0.0.1:8000")


def _existing_file(name: str) -> Path | None:
    raw = env_str(name)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ImproperlyConfigured(f"{name}={raw!r}: no such file")
    return path


# The regulator authority's signing key for final reports: a PKCS#12 file, or a PEM key
# with its PEM certificate (and optionally the issuing chain). Passphrases never go on the
# command line; REPORT_SIGNING_PASSPHRASE unlocks either form.
REPORT_SIGNING_PKCS12 = _existing_file("REPORT_SIGNING_PKCS12")
REPORT_SIGNING_KEY = _existing_file("REPORT_SIGNING_KEY")
REPORT_SIGNING_CERT = _existing_file("REPORT_SIGNING_CERT")
REPORT_SIGNING_CHAIN = _existing_file("REPORT_SIGNING_CHAIN")
REPORT_SIGNING_PASSPHRASE = env_str("REPORT_SIGNING_PASSPHRASE")
if REPORT_SIGNING_PKCS12 and (REPORT_SIGNING_KEY or REPORT_SIGNING_CERT):
    raise ImproperlyConfigured(
        "Set REPORT_SIGNING_PKCS12, or REPORT_SIGNING_KEY with REPORT_SIGNING_CERT, not both"
    )
if bool(REPORT_SIGNING_KEY) != bool(REPORT_SIGNING_CERT):
    raise ImproperlyConfigured("REPORT_SIGNING_KEY and REPORT_SIGNING_CERT go together")
if not DEBUG and not (REPORT_SIGNING_PKCS12 or REPORT_SIGNING_KEY):
    raise ImproperlyConfigured(
        "REPORT_SIGNING_PKCS12 (or REPORT_SIGNING_KEY and REPORT_SIGNING_CERT) must be set "
        "when DEBUG is off: final reports are signed with the authority's key, and the "
        "development key is refused in production"
    )
# Without a configured key (DEBUG only) a development key is made here on first use; with
# DEBUG off it is refused, even when configured explicitly. Decided once, at start-up.
REPORT_SIGNING_DEV_DIR = VAR_DIR / "signing"
REPORT_SIGNING_DEVELOPMENT_ALLOWED = DEBUG
# RFC 3161 time-stamping authority: with it, signatures are PAdES B-T instead of B-B.
REPORT_TIMESTAMP_URL = env_str("REPORT_TIMESTAMP_URL")
if REPORT_TIMESTAMP_URL and not REPORT_TIMESTAMP_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"REPORT_TIMESTAMP_URL={REPORT_TIMESTAMP_URL!r} is not a URL")
REPORT_TIMESTAMP_TIMEOUT = env_int("REPORT_TIMESTAMP_TIMEOUT", 10, minimum=1)
# On-demand report versions (provisional requests, corrected final reports) per filing.
REPORT_REQUESTS_PER_HOUR = env_int("REPORT_REQUESTS_PER_HOUR", 10, minimum=1)
# The commit printed in reports beside the package version; read from git when unset.
GOVPORTAL_COMMIT = env_str("GOVPORTAL_COMMIT")
# --- end of the reports block ------------------------------------------------------------

# --- People in the loop: notifications, webhooks, audit trail, account security ----------
# Absolute links in emails and webhook payloads start with PORTAL_BASE_URL (above).

INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "audits.web.account_security.AccountSecurityMiddleware",
)
# Axes last, as its documentation asks: it answers a locked-out sign-in itself.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
TEMPLATES[0]["OPTIONS"]["context_processors"].append(  # type: ignore[index]
    "audits.web.notifications.unread"
)

# Email: the console in the embedded mode; SMTP once EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST and not env_str("EMAIL_BACKEND"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = EMAIL_HOST or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    if env_str("EMAIL_USE_TLS"):
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
    EMAIL_USE_TLS = False  # SSL asked for explicitly; TLS was only the default
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)

# Webhooks: how long one attempt may take, how many attempts a delivery gets (exponential
# backoff from the base: 10 s, 40 s, 160 s, … capped at six hours), and how long a rotated
# secret keeps signing beside the new one.
GOVPORTAL_WEBHOOK_TIMEOUT_SECONDS = env_int("GOVPORTAL_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
GOVPORTAL_WEBHOOK_MAX_ATTEMPTS = env_int("GOVPORTAL_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
GOVPORTAL_WEBHOOK_RETRY_BASE_SECONDS = env_int(
    "GOVPORTAL_WEBHOOK_RETRY_BASE_SECONDS", 10, minimum=1
)
GOVPORTAL_WEBHOOK_SECRET_GRACE_HOURS = env_int(
    "GOVPORTAL_WEBHOOK_SECRET_GRACE_HOURS", 24, minimum=0
)
# Tests only (never read from the environment): deliver to a test's own receiver on
# loopback over plain HTTP. Production refuses non-public addresses and http://.
GOVPORTAL_WEBHOOK_ALLOW_LOCAL_TARGETS = False

# API keys expiring within this many days warn their lab's admins (daily, once per key).
GOVPORTAL_KEY_EXPIRY_WARNING_DAYS = env_int("GOVPORTAL_KEY_EXPIRY_WARNING_DAYS", 14, minimum=1)
CELERY_BEAT_SCHEDULE["api-key-expiry-warnings"] = {
    "task": "audits.api_key_expiry_warnings",
    "schedule": 86_400.0,
}
# Reviewers hear of a review due within this many days, and again once it is overdue.
GOVPORTAL_REVIEW_REMINDER_DAYS = env_int("GOVPORTAL_REVIEW_REMINDER_DAYS", 3, minimum=1)
CELERY_BEAT_SCHEDULE["review-due-reminders"] = {
    "task": "audits.review_due_reminders",
    "schedule": 3_600.0,
}

# Account security: a second factor for regulators (optional for labs), sign-in lockout,
# and regulators' sessions end after this long without a request.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "govportal")
GOVPORTAL_REGULATOR_IDLE_MINUTES = env_int("GOVPORTAL_REGULATOR_IDLE_MINUTES", 30, minimum=1)
AXES_FAILURE_LIMIT = env_int("GOVPORTAL_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("GOVPORTAL_LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60  # hours
# Per account and address: one attacker cannot lock a person out from everywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The audit log records every sign-in; axes keeps only what lockout needs.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# --- end of people in the loop -----------------------------------------------------------

# --- Operations: queues, object storage, health, metrics, logs, errors ---------------------
# Background work on separate queues, so each kind can have its own workers (and hosts):
# `make worker QUEUES=reports`. The outbox sends by task name; these routes pick the queue.
GOVPORTAL_QUEUE_REPORTS = "reports"
GOVPORTAL_QUEUE_RESCORING = "rescoring"
GOVPORTAL_QUEUE_NOTIFICATIONS = "notifications"
CELERY_TASK_ROUTES = {
    "audits.report_render": {"queue": GOVPORTAL_QUEUE_REPORTS},
    "audits.rubric_rescore_plan": {"queue": GOVPORTAL_QUEUE_RESCORING},
    "audits.rubric_rescore_chunk": {"queue": GOVPORTAL_QUEUE_RESCORING},
    "audits.event_dispatch": {"queue": GOVPORTAL_QUEUE_NOTIFICATIONS},
    "audits.notification_email": {"queue": GOVPORTAL_QUEUE_NOTIFICATIONS},
    "audits.webhook_deliver": {"queue": GOVPORTAL_QUEUE_NOTIFICATIONS},
    "audits.api_key_expiry_warnings": {"queue": GOVPORTAL_QUEUE_NOTIFICATIONS},
    "audits.review_due_reminders": {"queue": GOVPORTAL_QUEUE_NOTIFICATIONS},
}
# Every queue, for a worker that takes all work (the default of `make worker`).
GOVPORTAL_QUEUES = (
    CELERY_TASK_DEFAULT_QUEUE,
    GOVPORTAL_QUEUE_REPORTS,
    GOVPORTAL_QUEUE_RESCORING,
    GOVPORTAL_QUEUE_NOTIFICATIONS,
)
# Filings per re-scoring task after a rubric is published (each filing its own transaction).
GOVPORTAL_RESCORE_CHUNK_SIZE = env_int("GOVPORTAL_RESCORE_CHUNK_SIZE", 100, minimum=1)
# Logs are configured below; Celery must not replace them with its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# S3-compatible object storage for evidence, uploads and reports:
# FILE_STORAGE_BACKEND=storages.backends.s3.S3Storage plus the bucket and, for anything but
# AWS itself, the endpoint. Credentials are read by boto3 from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (or an instance role); they are never copied into settings.
# Downloads are streamed through the portal after its tenant checks: the bucket stays
# private and no object URL is ever handed out.
if STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured(
            "FILE_STORAGE_BACKEND is S3 but AWS_STORAGE_BUCKET_NAME is not set"
        )
    AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or None
    AWS_S3_ADDRESSING_STYLE = env_choice(
        "AWS_S3_ADDRESSING_STYLE", "auto", ("auto", "path", "virtual")
    )
    AWS_LOCATION = env_str("AWS_LOCATION")  # a key prefix inside the bucket, e.g. "govportal/"
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_DEFAULT_ACL = None  # the bucket's policy decides; objects are never public
    AWS_QUERYSTRING_AUTH = True
    # Content-addressed: an object's name is its SHA-256, so the same name is the same bytes.
    AWS_S3_FILE_OVERWRITE = True
    # Files up to this size are read into memory, larger ones spill to a temporary file.
    AWS_S3_MAX_MEMORY_SIZE = 8 * 1024 * 1024

# Metrics for Prometheus at /metrics. Outside DEBUG it answers only a scraper presenting
# `Authorization: Bearer <GOVPORTAL_METRICS_TOKEN>` (without a token: 404). Workers serve
# their own (task durations and failures) on GOVPORTAL_WORKER_METRICS_PORT when set.
GOVPORTAL_METRICS_TOKEN = env_str("GOVPORTAL_METRICS_TOKEN")
GOVPORTAL_WORKER_METRICS_PORT = env_int("GOVPORTAL_WORKER_METRICS_PORT", 0, minimum=0)
INSTALLED_APPS += ["django_prometheus"]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "govportal.observability.RequestIdMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# Load balancers probe over plain HTTP: no redirect to HTTPS for the probes.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# How long /readyz waits for the broker and the storage before calling them unreachable.
GOVPORTAL_READINESS_TIMEOUT_SECONDS = env_int("GOVPORTAL_READINESS_TIMEOUT_SECONDS", 3, minimum=1)

# Logs (this replaces the plain console logging above): one JSON object per line in
# production mode (DEBUG off) or with LOG_FORMAT=json, each carrying the id of the request
# that caused it, in the tasks that request enqueued too.
LOG_FORMAT = env_choice("LOG_FORMAT", "text" if DEBUG else "json", ("text", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "govportal.observability.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Errors to Sentry when SENTRY_DSN is set (web and workers); no personal data is sent.
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from govportal.observability import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production" if not DEBUG else "development"),
        release=env_str("SENTRY_RELEASE") or None,
    )
# --- end of operations ----------------------------------------------------------------------
