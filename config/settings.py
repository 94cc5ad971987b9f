"""Levelset settings: everything that varies between machines comes from the environment.

The embedded default (no environment at all) is a development setup: DEBUG on, a SQLite file
under var/, and Celery running tasks eagerly in-process. Production sets DEBUG=false and must
then provide SECRET_KEY and ALLOWED_HOSTS; it refuses to start otherwise.
"""

from __future__ import annotations

import datetime
import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LEVELSET_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "levelset-development-only-key-never-use-in-production-0123456789"

# The audit log's key (audit/keys.py): events are hashed with it, so whoever can write the
# database cannot re-chain the log. Never stored in the database. Rotate by moving the old key
# to AUDIT_PREVIOUS_KEYS (comma-separated) and setting a new AUDIT_KEY.
AUDIT_KEY = env_str("AUDIT_KEY") or ""
if not AUDIT_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("AUDIT_KEY must be set when DEBUG is off.")
    AUDIT_KEY = "levelset-development-only-audit-key-never-use-in-production"
if len(AUDIT_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_KEY must be at least 32 characters long.")
AUDIT_PREVIOUS_KEYS = env_list("AUDIT_PREVIOUS_KEYS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "django_scim",
    "core",
    "audit",
    "notify",
    "rubrics",
    "people",
    "metrics",
    "reviews",
    "calibration",
    "promotions",
    "demo",
]

MIDDLEWARE = [
    # First: one log line per request, timing everything below it, with its request id.
    "core.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.requestmemo.RequestMemoMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.IdleTimeoutMiddleware",
    # Last: it answers a locked-out sign-in with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Django's standard widgets written in Python rather than through their templates (core.widgets).
FORM_RENDERER = "core.widgets.PythonRenderer"

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
                "core.context_processors.page_url",
                "notify.context_processors.unread",
            ],
            "builtins": ["core.templatetags.fields"],
        },
    },
]

# Database: DATABASE_URL, or a SQLite file under var/.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'levelset.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE takes SQLite's write lock at the start of every transaction, so two
    # writers of the audit chain are serialised instead of both reading the same head.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # A file, not memory, so tests can use threads and subprocesses against the test database.
    # Per process, so two test runs on one machine never share (and clobber) a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-levelset-{os.getpid()}.sqlite3")}
else:
    # A database that does not answer fails the request (and /healthz) instead of hanging it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5)
    )
    # The cost of a random page read relative to a sequential one. PostgreSQL's default (4)
    # assumes spinning disks and makes it read a whole table rather than look up a hundred
    # rows by index; 1.1 is the usual value for SSDs and for databases that fit in memory.
    # The visibility rules' plans are checked with it (tests/reviews/test_visibility_plans.py).
    # A request's queries read a page of rows by index: starting parallel workers (several
    # milliseconds each on a small machine) or compiling a query with JIT costs more than the
    # query itself, so both are off unless configured (reports and the benchmark's long
    # queries are the exception, not the rule).
    DATABASES["default"]["OPTIONS"].setdefault(
        "options",
        f"-c random_page_cost={env_float('DB_RANDOM_PAGE_COST', 1.1)}"
        f" -c max_parallel_workers_per_gather={env_int('DB_PARALLEL_WORKERS', 0)}"
        f" -c jit={'on' if env_bool('DB_JIT', False) else 'off'}",
    )
    # A form's choices and the bulk jobs read with QuerySet.iterator(): on a server-side cursor
    # that is a DECLARE, a FETCH and a CLOSE per picker (three round trips where one does),
    # held open past its transaction, and impossible behind a transaction-pooling PgBouncer.
    # Client-side cursors still read in chunks; the jobs that walk big tables (the audit
    # verifier) read in keyed batches instead.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # Per process on PostgreSQL too, so two test runs on one server never share a database.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in while its user name (from that address) is locked out.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, refusing every password while PASSWORD_SIGN_IN is off.
    "people.sso.PasswordBackend",
    # Explicit per-object grants (e.g. a dimension owner invited to read a rubric draft).
    "guardian.backends.ObjectPermissionBackend",
]

# Single sign-on through the company's OpenID Connect provider (mozilla-django-oidc), on when
# OIDC_RP_CLIENT_ID is set. The provider's answer must carry the state and nonce Levelset sent
# (OIDC_USE_NONCE stays on), and it signs people in only when its verified e-mail address
# belongs to exactly one active person (people/sso.py); anything else lands on a page that
# says why. OIDC_CREATE_UNKNOWN_USERS adds unknown addresses as people with no role instead.
# PASSWORD_SIGN_IN=false leaves the provider as the only way in: the password form goes and
# the password backend refuses every password, the admin's sign-in included.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID") or ""
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET") or ""
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT") or ""
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT") or ""
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT") or ""
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT") or ""
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO") or "RS256"
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES") or "openid email profile"
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME") or "your company account"
OIDC_CREATE_UNKNOWN_USERS = env_bool("OIDC_CREATE_UNKNOWN_USERS", False)
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)  # a silent provider must not hold a worker
OIDC_USE_NONCE = True  # the library's default, stated: a code from another sign-in is refused
OIDC_AUTHENTICATE_CLASS = "people.sso_views.SSOStartView"
OIDC_CALLBACK_CLASS = "people.sso_views.SSOCallbackView"
LOGIN_REDIRECT_URL_FAILURE = "sso-refused"
PASSWORD_SIGN_IN = env_bool("PASSWORD_SIGN_IN", True)
# The provider's callback carries no user name or password: django-axes leaves it alone.
AXES_WHITELIST_CALLABLE = "people.sso.axes_ignores"
if OIDC_RP_CLIENT_ID:
    _needed = [
        "OIDC_RP_CLIENT_SECRET",
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
    ]
    if OIDC_RP_SIGN_ALGO[:2] in ("RS", "ES", "PS"):
        _needed.append("OIDC_OP_JWKS_ENDPOINT")  # the provider's public keys
    elif not OIDC_RP_SIGN_ALGO.startswith("HS"):
        raise ImproperlyConfigured(f"OIDC_RP_SIGN_ALGO {OIDC_RP_SIGN_ALGO!r} is not supported.")
    if _missing := [name for name in _needed if not globals()[name]]:
        raise ImproperlyConfigured(
            f"OIDC_RP_CLIENT_ID is set, so single sign-on is on, but {', '.join(_missing)} "
            "is not: set every provider endpoint, or unset OIDC_RP_CLIENT_ID."
        )
    AUTHENTICATION_BACKENDS.append("people.sso.CompanySSOBackend")
elif not PASSWORD_SIGN_IN:
    raise ImproperlyConfigured(
        "PASSWORD_SIGN_IN is off and single sign-on is not configured (OIDC_RP_CLIENT_ID): "
        "nobody could sign in."
    )
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous people see nothing

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "core.api.csrf_failure"  # JSON for the API
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user name
# from one address, that pair is locked out for AXES_COOLOFF_MINUTES, the right password
# included; the page says so and when to try again.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
if env_bool("BEHIND_TLS_PROXY", False):
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# A session ends after SESSION_IDLE_MINUTES without a request (core.middleware), and after
# SESSION_HOURS whatever happens.
LEVELSET_SESSION_IDLE = datetime.timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 60))
SESSION_COOKIE_AGE = 3600 * env_int("SESSION_HOURS", 12)
# Sessions are kept in the database and read through the cache (Redis in production): a page
# reads its session from the cache instead of a query; signing out removes both.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Password reset e-mails: printed to the console unless an SMTP server is configured.
# Without an SMTP server, each message is written to a file under var/mail/ (the demo sends
# many: every notification is an e-mail too), where it can be read.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Levelset <levelset@localhost>"
# Where people reach Levelset: notification e-mails link to pages under it.
LEVELSET_BASE_URL = env_str("LEVELSET_BASE_URL") or "http://127.0.0.1:8000"

# Content-Security-Policy: scripts only from Levelset itself (no inline script); inline styles
# are allowed for the server-rendered SVG charts, which carry their own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# `make serve` (the production profile) collects static files here before serving.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Source maps (megabytes, for developer tools only) are served as they are: compressing them
# doubled the time collectstatic takes on every deploy.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# Security: strict by default in production, relaxed only for local development.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The load balancer asks /healthz over plain HTTP inside the network: answer, never redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes anonymous requests a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # API tokens are stored hashed and expire (django-rest-knox).
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies are bounded in size and depth (core.limits); forms and files for the API.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Levelset API",
    "DESCRIPTION": (
        "Evidence-backed engineering reviews and calibration. Composite scores are advisory: "
        "a calibration input, never the final answer."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation's error answers, declared once (core/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.document_errors",
    ],
    # Two different "outcome" choice fields: name their enums apart.
    "ENUM_NAME_OVERRIDES": {
        "AppealOutcomeEnum": "calibration.api.APPEAL_OUTCOMES",
        "PromotionOutcomeEnum": "promotions.models.PromotionCase.Outcome",
        "AppealStatusEnum": "calibration.models.Appeal.Status",
        "SessionStatusEnum": "calibration.models.CalibrationSession.Status",
        "PromotionStatusEnum": "promotions.models.PromotionCase.Status",
        "ExportStatusEnum": "promotions.models.ExportJob.Status",
        "RubricVersionStatusEnum": "rubrics.models.RubricVersion.Status",
        "ChainCheckStateEnum": "audit.models.ChainCheck.State",
        # Review states kept their name when the audit check states arrived.
        "StateEnum": "reviews.models.Review.State",
        "DeliveryEventKindEnum": "metrics.intake.KINDS",
        "KindEnum": "reviews.evidence.EvidenceKind",
    },
}

# The cache behind the review read cache (core/readcache.py). CACHE_URL (Redis) shares it
# between server processes, which production needs; without it each process keeps its own.
CACHE_URL = env_str("CACHE_URL") or ""
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
LEVELSET_READ_CACHE = env_bool("LEVELSET_READ_CACHE", True)
# API tokens (issued and revoked by their owner at /api/tokens/) expire after this many days.
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(days=env_int("API_TOKEN_DAYS", 30)),
    "TOKEN_LIMIT_PER_USER": 10,
    "AUTO_REFRESH": False,
}

# SCIM 2.0 provisioning at /scim/v2/ (people/scim): an identity provider creates, updates and
# deactivates people and teams with an HR account's API token as its bearer token.
SCIM_SERVICE_PROVIDER = {
    "NETLOC": urlsplit(LEVELSET_BASE_URL).netloc,
    "SCHEME": urlsplit(LEVELSET_BASE_URL).scheme or "https",
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "An API token of an HR account, as Authorization: Bearer <token>.",
        }
    ],
    "USER_ADAPTER": "people.scim.adapters.ScimUser",
    "GROUP_ADAPTER": "people.scim.adapters.ScimGroup",
    "GROUP_MODEL": "people.models.Team",
    "USER_FILTER_PARSER": "people.scim.filters.UserFilter",
    "GROUP_FILTER_PARSER": "people.scim.filters.GroupFilter",
    "GET_EXTRA_MODEL_EXCLUDE_KWARGS_GETTER": "people.scim.filters.exclude_system_user",
    "AUTH_CHECK_MIDDLEWARE": "people.scim.auth.ScimTokenMiddleware",
    "WWW_AUTHENTICATE_HEADER": 'Bearer realm="Levelset SCIM"',
}

# Signed checkpoints of the audit chain's head, kept outside the database (audit/checkpoints.py)
# so that truncating the log, deleting its newest events or re-chaining it is detected: a file
# (the default, beside the SQLite database) or a Redis URL (redis://host:6379/2).
AUDIT_CHECKPOINTS = env_str("AUDIT_CHECKPOINTS") or str(VAR_DIR / "audit-checkpoints.jsonl")
# What the HR-managed attribute on engineer profiles holds (e.g. "Location"): calibration
# analytics compare its groups like teams and levels, for HR only.
LEVELSET_HR_ATTRIBUTE_LABEL = env_str("LEVELSET_HR_ATTRIBUTE_LABEL") or "HR attribute"

# Celery: Redis as broker and result backend when REDIS_URL is set; otherwise tasks run
# eagerly in-process, which is the embedded default.
REDIS_URL = env_str("REDIS_URL") or ""
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE") or "levelset"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# An unacknowledged task (its worker died) is handed to another worker after this many seconds,
# so a crashed export is taken over within a minute. Every task's time limit stays below it, so
# a task still running is never handed out twice; a batch export renders one packet per task
# (promotions.tasks), and retries wait less than it (a countdown past it would be redelivered).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 45)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # Sweep for a dead worker's unacknowledged tasks every few seconds (kombu's default scan
    # runs only every ~100 s, whatever the visibility timeout).
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
LEVELSET_TASK_TIME_LIMIT = max(5, int(CELERY_VISIBILITY_TIMEOUT * 0.8))
LEVELSET_TASK_SOFT_TIME_LIMIT = max(3, LEVELSET_TASK_TIME_LIMIT - 10)
LEVELSET_TASK_RETRY_MAX_WAIT = max(1, CELERY_VISIBILITY_TIMEOUT // 2)
CELERY_TASK_TIME_LIMIT = LEVELSET_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = LEVELSET_TASK_SOFT_TIME_LIMIT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Scheduled work (celery beat): verify the whole audit chain (in slices) and checkpoint its
# head outside the database, every AUDIT_CHECK_MINUTES (default hourly); verify the events
# appended since the last check every AUDIT_NEW_EVENTS_SECONDS (default a minute). The audit
# page only reads what these checks found.
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {
        "task": "audit.tasks.verify_audit_chain",
        "schedule": 60.0 * env_int("AUDIT_CHECK_MINUTES", 60),
    },
    "verify-new-audit-events": {
        "task": "audit.tasks.verify_new_events",
        "schedule": float(env_int("AUDIT_NEW_EVENTS_SECONDS", 60)),
    },
    # Phase reminders (reviews.tasks), each morning: whoever still has work in a running
    # cycle's phase is told REMINDER_DAYS days (default 3) before the phase ends, and once
    # more when it is overdue. Each reminder goes out once, so a missed or repeated run is safe.
    "send-phase-reminders": {
        "task": "reviews.tasks.send_phase_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    # Owners of metrics overdue their governance review (metrics.tasks), told each morning,
    # once per due date.
    "tell-overdue-governance": {
        "task": "metrics.tasks.tell_overdue_governance",
        "schedule": crontab(hour=7, minute=5),
    },
    # Notification e-mail whose task never ran (broker or mail server down at the time) goes
    # out on the next sweep (notify.tasks); each e-mail is still sent at most once.
    "send-unsent-emails": {
        "task": "notify.tasks.send_unsent_emails",
        "schedule": 300.0,
    },
}
LEVELSET_REMINDER_DAYS = env_int("REMINDER_DAYS", 3)
if LEVELSET_REMINDER_DAYS < 0:
    raise ImproperlyConfigured("REMINDER_DAYS must be 0 or more (days before a phase ends).")

# Product rules.
LEVELSET_MAX_DIMENSION_SHARE = Decimal(env_str("LEVELSET_MAX_DIMENSION_SHARE") or "0.40")
if not Decimal("0") < LEVELSET_MAX_DIMENSION_SHARE <= Decimal("1"):
    raise ImproperlyConfigured("LEVELSET_MAX_DIMENSION_SHARE must be in (0, 1], e.g. 0.40.")

LOG_FORMAT = env_str("LOG_FORMAT") or ("text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # LOG_FORMAT: `json` (one JSON object per line, for a log collector; the production default)
    # or `text` (for a person at a terminal; the development default).
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"request_id": {"()": "core.requestlog.RequestIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {
        # WeasyPrint reports every rendering step at INFO; its warnings still show.
        "weasyprint.progress": {"level": "WARNING"},
        # One line per task comes from config/celery.py; Celery's own "received" and
        # "succeeded" lines would repeat it (and the latter prints the task's return value).
        # Failures are still logged, with their traceback.
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        # Eager tasks (no REDIS_URL: the development default) run inside a request or a
        # command, whose own output says what happened; a line for each would drown it.
        **({"levelset.task": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {}),
        # The eager in-memory broker has no host to name.
        **({"kombu.connection": {"level": "ERROR"}} if CELERY_TASK_ALWAYS_EAGER else {}),
    },
}
