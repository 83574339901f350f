"""LinkCRM settings: one module, every value from the environment through strict parsers.

A bad value stops start-up with the variable's name (``linkcrm.lib.env.EnvError``).
Defaults are safe for development and point at the local sandbox started by
``make run``; production sets ``DEBUG=false``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
The README lists every variable.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from linkcrm.lib.env import EnvError, env_bool, env_database_url, env_int, env_list, env_str
from linkcrm.localstack.config import StackConfig

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    STACK = StackConfig.from_env()

    DEBUG = env_bool("DEBUG", False)
    _secret = env_str("SECRET_KEY")
    if _secret is None and not DEBUG:
        raise ImproperlyConfigured("environment variable SECRET_KEY must be set when DEBUG is false")
    # The fallback only exists in DEBUG; it is never used to sign anything in production.
    SECRET_KEY = _secret or "django-insecure-development-only-key-do-not-use-in-production"
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

    CONN_MAX_AGE = env_int("CONN_MAX_AGE", 600, minimum=0)
    _database = env_database_url("DATABASE_URL", STACK.local_database_url)

    # HTTPS hardening is on by default in production; LINKCRM_HTTPS=false for a plain-HTTP intranet.
    HTTPS = env_bool("LINKCRM_HTTPS", not DEBUG)
    BEHIND_PROXY = env_bool("LINKCRM_BEHIND_PROXY", False)
    HSTS_SECONDS = env_int("LINKCRM_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)

    LOG_LEVEL = env_str("LINKCRM_LOG_LEVEL", "INFO") or "INFO"
    Q_WORKERS = env_int("LINKCRM_Q_WORKERS", 2, minimum=1, maximum=64)
    TIME_ZONE = env_str("TIME_ZONE", "UTC") or "UTC"

    # System mail (password resets, digests). Defaults: the local sandbox.
    EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
    EMAIL_PORT = env_int("EMAIL_PORT", STACK.smtp_port, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "LinkCRM <linkcrm@linkcrm.test>")
    SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
    STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")) or "")
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None

if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")

INSTALLED_APPS = [
    "linkcrm.admin_apps.LinkCRMAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_q",
    "linkcrm",
    "audit",
    "prospects",
    "outreach",
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
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "linkcrm.urls"
WSGI_APPLICATION = "linkcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linkcrm.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": _database.as_django(CONN_MAX_AGE)}
# PostgreSQL's JIT costs more than it saves on our short reporting queries (measured: the site
# list went from 0.45 s to 0.18 s on 1M links). An explicit ?options= in DATABASE_URL wins.
DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# In DEBUG whitenoise serves straight from the apps' static folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = HSTS_SECONDS
SECURE_HSTS_INCLUDE_SUBDOMAINS = HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a one-way commitment for the whole domain; the operator opts in elsewhere.
    "security.W021",
]

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["linkcrm.permissions.HasAnyRole"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LinkCRM API",
    "DESCRIPTION": "Outreach and link-building CRM. Session or token authentication "
    "(`Authorization: Token <key>`).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["linkcrm.permissions.HasAnyRole"],
    # Choice sets that share a field name get explicit schema names (else the schema check warns).
    "ENUM_NAME_OVERRIDES": {
        "ImportKindEnum": "audit.choices.ImportKind",
        "SuppressionKindEnum": "prospects.choices.SuppressionKind",
        "LinkStatusEnum": "prospects.choices.LinkStatus",
        "ImportStatusEnum": "audit.choices.ImportStatus",
    },
}

# --- background work (django-q2, ORM broker on PostgreSQL) ------------------------------
Q_CLUSTER = {
    "name": "linkcrm",
    "orm": "default",
    "workers": Q_WORKERS,
    "timeout": 3600,
    "retry": 3700,  # must exceed timeout, or a long task runs twice
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "poll": 0.5,
}

# --- logging: secrets never reach the log (no request bodies, no settings dumps) --------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- imports (audit) ---
# Backlink export uploads and the import loader (audit/services.py, audit/loading.py).


def _env_ratio(name: str, default: float) -> float:
    """A share between 0 and 1 (e.g. ``0.1``), read strictly like the parsers in linkcrm.lib.env."""
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(str(EnvError(name, raw, "expected a number such as 0.1"))) from None
    if not 0.0 <= value <= 1.0:
        raise ImproperlyConfigured(str(EnvError(name, raw, "must be between 0 and 1")))
    return value


try:
    # Uploaded files (import exports) are kept here, under imports/YYYY/MM/.
    MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(STACK.data_dir / "media")) or "")
    MEDIA_URL = "media/"
    # Largest upload accepted, and largest text a (possibly compressed) export may expand to.
    LINKCRM_IMPORT_MAX_BYTES = env_int("LINKCRM_IMPORT_MAX_BYTES", 1024**3, minimum=1)
    LINKCRM_IMPORT_MAX_DECOMPRESSED_BYTES = env_int(
        "LINKCRM_IMPORT_MAX_DECOMPRESSED_BYTES", 4 * 1024**3, minimum=1
    )
    # An import fails as a whole past this many malformed rows, or past this share of the rows read.
    LINKCRM_IMPORT_MAX_BAD_ROWS = env_int("LINKCRM_IMPORT_MAX_BAD_ROWS", 1000, minimum=0)
    LINKCRM_IMPORT_MAX_BAD_RATIO = _env_ratio("LINKCRM_IMPORT_MAX_BAD_RATIO", 0.1)
    # How often (milliseconds) a running import publishes its progress and reads the cancel flag.
    LINKCRM_IMPORT_PROGRESS_MS = env_int("LINKCRM_IMPORT_PROGRESS_MS", 500, minimum=0)
    # Days an uploaded export file is kept after its import finished (0: deleted at the next daily sweep).
    LINKCRM_IMPORT_KEEP_FILES_DAYS = env_int("LINKCRM_IMPORT_KEEP_FILES_DAYS", 7, minimum=0, maximum=3650)
    # Semrush Analytics API: the key never goes to the database or the log.
    LINKCRM_SEMRUSH_API_KEY = env_str("LINKCRM_SEMRUSH_API_KEY", "") or ""
    LINKCRM_SEMRUSH_API_URL = (
        env_str("LINKCRM_SEMRUSH_API_URL", "https://api.semrush.com/analytics/v1/") or ""
    )
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None

# --- safe HTTP (linkcrm.lib.safehttp) ---
# The one client for URLs fetched on a user's behalf (contact discovery, link checks).
# Private, loopback and metadata addresses are always refused; these only tune the limits.
try:
    LINKCRM_HTTP_USER_AGENT = env_str(
        "LINKCRM_HTTP_USER_AGENT",
        "LinkCRM/1.0 (self-hosted link-building CRM; contact discovery and link checks)",
    ) or ""
    if not LINKCRM_HTTP_USER_AGENT.lower().startswith("linkcrm"):
        # robots.txt groups are matched on the first word: keep it naming us.
        raise EnvError("LINKCRM_HTTP_USER_AGENT", LINKCRM_HTTP_USER_AGENT, "must start with 'LinkCRM'")
    # Seconds: to open a connection, between two reads, and for a whole fetch with its redirects.
    LINKCRM_HTTP_CONNECT_TIMEOUT = env_int("LINKCRM_HTTP_CONNECT_TIMEOUT", 5, minimum=1, maximum=300)
    LINKCRM_HTTP_READ_TIMEOUT = env_int("LINKCRM_HTTP_READ_TIMEOUT", 10, minimum=1, maximum=300)
    LINKCRM_HTTP_TOTAL_TIMEOUT = env_int("LINKCRM_HTTP_TOTAL_TIMEOUT", 20, minimum=1, maximum=600)
    # Largest body read from one page (bytes, after decompression); the rest is never downloaded.
    LINKCRM_HTTP_MAX_BYTES = env_int("LINKCRM_HTTP_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
    LINKCRM_HTTP_MAX_REDIRECTS = env_int("LINKCRM_HTTP_MAX_REDIRECTS", 5, minimum=0, maximum=20)
    # Ports a fetched URL may use; anything else is refused before connecting.
    LINKCRM_HTTP_ALLOWED_PORTS = [
        env_int("LINKCRM_HTTP_ALLOWED_PORTS", 0, environ={"LINKCRM_HTTP_ALLOWED_PORTS": port},
                minimum=1, maximum=65535)
        for port in env_list("LINKCRM_HTTP_ALLOWED_PORTS", ["80", "443"])
    ]
    # robots.txt files kept per client (one client per discovery run or check batch).
    LINKCRM_HTTP_ROBOTS_CACHE_SIZE = env_int("LINKCRM_HTTP_ROBOTS_CACHE_SIZE", 256, minimum=1)
    # Contact discovery (prospects.discovery): most pages fetched per site, and the MX check.
    LINKCRM_DISCOVERY_MAX_PAGES = env_int("LINKCRM_DISCOVERY_MAX_PAGES", 8, minimum=1, maximum=50)
    LINKCRM_MX_CHECK = env_bool("LINKCRM_MX_CHECK", True)
    LINKCRM_MX_TIMEOUT = env_int("LINKCRM_MX_TIMEOUT", 5, minimum=1, maximum=60)
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# --- end safe HTTP ---

# --- outreach secrets ---
# LINKCRM_ENCRYPTION_KEY: comma-separated Fernet keys (generate one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).
# The first key encrypts mailbox passwords, every key decrypts (rotation). Required in
# production; in DEBUG a key derived from SECRET_KEY is used, with a warning. Key values
# never appear in an error message.
def _encryption_keys() -> list[str]:
    import base64
    import hashlib
    import warnings

    from cryptography.fernet import Fernet

    name = "LINKCRM_ENCRYPTION_KEY"
    try:
        keys = env_list(name, [])
    except EnvError:
        raise ImproperlyConfigured(f"environment variable {name}: empty item in the list") from None
    if not keys:
        if not DEBUG:
            raise ImproperlyConfigured(f"environment variable {name} must be set when DEBUG is false")
        warnings.warn(f"{name} is not set: using a development key derived from SECRET_KEY", stacklevel=2)
        digest = hashlib.sha256(b"linkcrm-encryption-key:" + SECRET_KEY.encode()).digest()
        return [base64.urlsafe_b64encode(digest).decode("ascii")]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ImproperlyConfigured(
                f"environment variable {name}: key #{position} is not a Fernet key "
                "(32 random bytes, URL-safe base64: 44 characters)"
            ) from None
    return keys


LINKCRM_ENCRYPTION_KEYS = _encryption_keys()
# --- end outreach secrets ---

# --- acquired-link monitoring (prospects.services.monitoring) ---
try:
    # A Lost/Broken outcome becomes the link's status after this many consecutive failed checks.
    LINKCRM_LINKCHECK_CONFIRM_FAILURES = env_int("LINKCRM_LINKCHECK_CONFIRM_FAILURES", 3, minimum=1, maximum=20)
    # Hours between two checks of a live link, and before re-checking a failed or undecided one.
    LINKCRM_LINKCHECK_INTERVAL_HOURS = env_int("LINKCRM_LINKCHECK_INTERVAL_HOURS", 24, minimum=1, maximum=24 * 90)
    LINKCRM_LINKCHECK_RETRY_HOURS = env_int("LINKCRM_LINKCHECK_RETRY_HOURS", 6, minimum=1, maximum=24 * 30)
    # Politeness: at least this many seconds between two requests to one host.
    LINKCRM_LINKCHECK_HOST_DELAY_SECONDS = env_int("LINKCRM_LINKCHECK_HOST_DELAY_SECONDS", 10, minimum=0, maximum=3600)
    # One sweep checks at most this many links, and at most this many on one host.
    LINKCRM_LINKCHECK_BATCH_SIZE = env_int("LINKCRM_LINKCHECK_BATCH_SIZE", 100, minimum=1, maximum=10_000)
    LINKCRM_LINKCHECK_PER_HOST = env_int("LINKCRM_LINKCHECK_PER_HOST", 5, minimum=1, maximum=1000)
    # Email the assignee when a loss is confirmed (the in-app notice is always shown).
    LINKCRM_LINKCHECK_EMAIL_ALERTS = env_bool("LINKCRM_LINKCHECK_EMAIL_ALERTS", True)
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# --- end acquired-link monitoring ---

# --- outreach ---
try:
    # The address people reach this CRM at: one-click unsubscribe links in emails point here.
    LINKCRM_PUBLIC_URL = (env_str("LINKCRM_PUBLIC_URL", "http://localhost:8000") or "").rstrip("/")
    # A human reply stops every running enrollment at the same domain, not only the replier's.
    LINKCRM_STOP_DOMAIN_ON_REPLY = env_bool("LINKCRM_STOP_DOMAIN_ON_REPLY", True)
    # Reply sync (outreach.services.inbox): UIDs fetched per IMAP FETCH and stored per transaction
    # (each batch costs a dozen statements and a commit whatever its size: bigger batches sync faster).
    LINKCRM_IMAP_BATCH = env_int("LINKCRM_IMAP_BATCH", 2_000, minimum=1, maximum=5_000)
    # Octets of each inbound message fetched at most (classification reads the top of a message).
    LINKCRM_IMAP_MAX_MESSAGE_BYTES = env_int(
        "LINKCRM_IMAP_MAX_MESSAGE_BYTES", 2_000_000, minimum=10_000, maximum=50_000_000
    )
    # Sending (outreach.services.outbox): messages claimed and sent over one SMTP connection at once.
    LINKCRM_OUTREACH_SEND_BATCH = env_int("LINKCRM_OUTREACH_SEND_BATCH", 200, minimum=1, maximum=10_000)
    # Transient failures (4xx, network) are retried with backoff up to this many attempts, then failed.
    LINKCRM_OUTREACH_MAX_ATTEMPTS = env_int("LINKCRM_OUTREACH_MAX_ATTEMPTS", 10, minimum=1, maximum=50)
    # A message still "sending" after this many minutes lost its worker: it becomes "unknown".
    LINKCRM_OUTREACH_STALE_MINUTES = env_int("LINKCRM_OUTREACH_STALE_MINUTES", 15, minimum=1, maximum=24 * 60)
    # An "unknown" message missing from Sent this long after its attempt never left: sent again.
    LINKCRM_OUTREACH_RECONCILE_GRACE_MINUTES = env_int(
        "LINKCRM_OUTREACH_RECONCILE_GRACE_MINUTES", 10, minimum=0, maximum=24 * 60
    )
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# --- end outreach ---

# --- toxicity audit and disavow ---
# Score bands of the toxicity audit (audit.toxicity): toxic from LINKCRM_TOXIC_MIN to 100,
# potentially toxic from LINKCRM_POTENTIALLY_TOXIC_MIN to just below it, non-toxic under that.
LINKCRM_TOXIC_MIN = env_int("LINKCRM_TOXIC_MIN", 60, minimum=1, maximum=100)
LINKCRM_POTENTIALLY_TOXIC_MIN = env_int("LINKCRM_POTENTIALLY_TOXIC_MIN", 45, minimum=1, maximum=100)
if LINKCRM_POTENTIALLY_TOXIC_MIN >= LINKCRM_TOXIC_MIN:
    raise ImproperlyConfigured("LINKCRM_POTENTIALLY_TOXIC_MIN must be lower than LINKCRM_TOXIC_MIN")
# --- end toxicity audit and disavow ---

# --- outreach reports (outreach.reports) ---
try:
    # The Mailbox (its email address) that sends the weekly report digest; unset: no digest is sent.
    LINKCRM_DIGEST_MAILBOX = (env_str("LINKCRM_DIGEST_MAILBOX", "") or "").strip().lower()
    # A prospect in To Contact, Contacted or Reply Received with no activity for this many days is "stale".
    LINKCRM_DIGEST_STALE_DAYS = env_int("LINKCRM_DIGEST_STALE_DAYS", 14, minimum=1, maximum=365)
    # Connections a reports page runs its independent statements on at once, its own included (1: one after
    # another on its own); the rates' two statements take one more.
    LINKCRM_REPORT_CONNECTIONS = env_int("LINKCRM_REPORT_CONNECTIONS", 3, minimum=1, maximum=16)
except EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# --- end outreach reports ---
