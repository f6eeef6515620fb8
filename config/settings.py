"""One settings module: every knob comes from the environment, with a safe default.

Unset ``DATABASE_URL`` means a SQLite file under ``var/``; unset ``REDIS_URL`` means an
in-process cache and Celery tasks that run eagerly. See README.md for the full list.
"""

from pathlib import Path
from urllib.parse import urlparse

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or ("insecure-development-key-never-used-in-production" if DEBUG else "")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
# Old keys still accepted for signatures while a rotation settles (docs/runbook.md).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_eventstream",
    "finance",
    "ledger",
    "rollout",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "finance.api.request_context.RequestContextMiddleware",
    "config.access_log.AccessLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rollout.middleware.RolloutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Requests one worker process lets into Django at once (each holds a database connection
# while it runs); the rest queue. 0: no bound. See config/concurrency.py.
MAX_CONCURRENT_REQUESTS = env.int("MAX_CONCURRENT_REQUESTS", default=10)
# django-prometheus wraps the real backends to count queries and their latency.
_PROMETHEUS_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
}
_db = DATABASES["default"]
_db["ENGINE"] = _PROMETHEUS_ENGINES.get(_db["ENGINE"], _db["ENGINE"])
if _db["ENGINE"].endswith("sqlite3"):
    # Writers take the database lock when their transaction begins, so two writers
    # queue up instead of failing half-way with "database is locked".
    _db.setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not shared-cache memory: only a file honours the busy timeout when tests
    # write from several threads.
    _db["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}
else:
    # Connections come from a pool per process (Django's, on psycopg_pool): a request
    # takes one for its first query and gives it back when it ends. Under ASGI each
    # request runs its sync code in a thread of its own, so connections kept per thread
    # (CONN_MAX_AGE > 0) were never reused and piled up (docs/reliability.md), and a new
    # connection per request cost about as much as a cached report (docs/performance.md).
    # Django's pool requires CONN_MAX_AGE = 0. DB_POOL=0: a new connection per request.
    _db["CONN_MAX_AGE"] = 0
    # With the pool, each connection handed out is checked first (an empty query), so one
    # broken by a Postgres restart is dropped instead of failing the request.
    _db["CONN_HEALTH_CHECKS"] = True
    _options = _db.setdefault("OPTIONS", {})
    _connect_timeout = env.int("DB_CONNECT_TIMEOUT", default=3)
    _options.setdefault("connect_timeout", _connect_timeout)
    # No JIT: compiling a report's plan (AR aging) took longer than running it, about
    # 0.2 s per query at 100,000 invoices (docs/performance.md "Load test").
    _options.setdefault("options", "-c jit=off")
    if env.bool("DB_POOL", default=True):
        _options["pool"] = {
            # 0: connections are opened only when a request needs one (then kept), so a
            # process that queries now and then and closes its pool after (the gunicorn
            # master's scrapes, Celery tasks) opens exactly one, not the minimum plus one.
            "min_size": env.int("DB_POOL_MIN_SIZE", default=0),
            # Every request let into Django (MAX_CONCURRENT_REQUESTS) plus the unbounded
            # paths (a probe, an SSE poll) at once; more wait for a connection.
            "max_size": env.int(
                "DB_POOL_MAX_SIZE", default=MAX_CONCURRENT_REQUESTS + 2 if MAX_CONCURRENT_REQUESTS > 0 else 20
            ),
            # How long a request waits for a connection before it fails (503): as long as
            # a connect may take, the bound a request had before the pool. A wait that long
            # means Postgres is not answering; a shorter one failed requests when a busy
            # machine took over a second to connect.
            "timeout": env.float("DB_POOL_TIMEOUT", default=_connect_timeout),
            "max_idle": env.float("DB_POOL_MAX_IDLE", default=600.0),
            "max_lifetime": env.float("DB_POOL_MAX_LIFETIME", default=1800.0),
            # A background reconnection gives up after this long instead of backing off
            # for minutes (psycopg_pool's default: 1, 2, 4 ... s for 5 min); the next
            # request that finds no connection starts another one. So once Postgres is
            # back, requests are served again within about a second.
            "reconnect_timeout": 2.0,
            "name": "finance",
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # Redis is a cache, never the source of truth: when it is down the
                # service reads through to Postgres instead of failing.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
            "KEY_PREFIX": "finance",
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache",
            "LOCATION": "finance",
        }
    }

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# The worker logs through LOGGING below (JSON lines with trace ids), not its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth, sessions, security ---------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Probes and the metrics scraper talk plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Bodies above this are refused with 413 before any parsing (journal batches of 1,000
# entries fit comfortably).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# --- Internationalisation, static files -----------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "finance.api.auth.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["finance.api.permissions.FinanceAccess"],
    "DEFAULT_PARSER_CLASSES": ["finance.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "finance.api.pagination.LimitPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "finance.api.problems.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["finance.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_THROTTLE_RATE", default="6000/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Finance service API",
    "DESCRIPTION": "Event-sourced double-entry books: accounts, journal entries, invoices, "
    "payments, periods, reports, the event feed and rollout flags.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation's problem+json answers (401, 403, 422, 429, ...), not only its 2xx.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "finance.api.openapi_problems.add_problem_responses",
    ],
    "SERVE_PERMISSIONS": ["finance.api.permissions.FinanceAccess"],
    # Swagger UI from the app's own static files: the service may run without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Live event feed (django-eventstream listeners; see finance/eventstore/sse.py) ----
if REDIS_URL:
    # Fan a published event out to the SSE listeners of every worker process.
    _redis_url = urlparse(REDIS_URL)
    EVENTSTREAM_REDIS = {
        "host": _redis_url.hostname or "127.0.0.1",
        "port": _redis_url.port or 6379,
        "db": int(_redis_url.path.lstrip("/") or 0),
        **({"password": _redis_url.password} if _redis_url.password else {}),
    }

# --- The books ------------------------------------------------------------------------
FINANCE_SNAPSHOT_EVERY = env.int("FINANCE_SNAPSHOT_EVERY", default=50)
# Aggregate state and report results in the cache (finance/cache.py); off only to measure the store.
FINANCE_CACHE = env.bool("FINANCE_CACHE", default=True)
FINANCE_BASE_CURRENCY = env.str("FINANCE_BASE_CURRENCY", default="USD")
FINANCE_RECEIVABLE_ACCOUNT = env.str("FINANCE_RECEIVABLE_ACCOUNT", default="1100")
FINANCE_TAX_ACCOUNT = env.str("FINANCE_TAX_ACCOUNT", default="2200")
FINANCE_COMMAND_RETRIES = env.int("FINANCE_COMMAND_RETRIES", default=8)
FINANCE_IDEMPOTENCY_TTL_HOURS = env.int("FINANCE_IDEMPOTENCY_TTL_HOURS", default=48)
# How often the beat re-walks every hash chain of the event log (docs/security.md).
FINANCE_VERIFY_EVERY_SECONDS = env.int("FINANCE_VERIFY_EVERY_SECONDS", default=900)

# --- Metrics --------------------------------------------------------------------------
# Request latency buckets: the SLO threshold (300 ms) and the dashboard's 50/100/500 ms
# marks must be bucket edges for the quantiles and ratios built on them to be exact.
PROMETHEUS_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, float("inf"))
# When set, /metrics answers only on this port, which no ingress routes to (docs/observability.md).
METRICS_PORT = env.int("METRICS_PORT", default=None)

# --- Logging --------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "finance.api.request_context.LogContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            # One object a line: time (ISO 8601, UTC), level, logger, message, then the
            # request id, user, trace id and span id that LogContextFilter adds, then
            # whatever the call passed in ``extra``.
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
        # INFO is a line per connection handed out; warnings (a failed connect, a broken
        # connection dropped) stay.
        "psycopg.pool": {"level": "WARNING"},
        # Our access log line carries the request id and trace; Django's own 4xx
        # warnings are logged after the request span has ended and would only repeat it.
        "django.request": {"level": "ERROR"},
    },
}
