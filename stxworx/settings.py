"""Settings, all from the environment, with safe development defaults.

`DJANGO_ENV=production` hardens cookies, hosts and debug, and requires every secret.
`DATABASE_URL` / `REDIS_URL` switch from the embedded default (SQLite, in-memory channel layer,
django-q2's ORM broker) to PostgreSQL / Redis.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from stxworx.openapi_text import API_DESCRIPTION

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


def env_none(value: str, cast: type = str):
    """`value` cast, or None when it is "none" (a limit switched off)."""
    return None if value.strip().lower() == "none" else cast(value)


def env_required(name: str) -> str:
    value = env(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return value


DJANGO_ENV = env("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY")
    DEBUG = env_bool("DJANGO_DEBUG", False)
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_ENV=production")
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-insecure-secret-key-do-not-use-in-production")
    DEBUG = env_bool("DJANGO_DEBUG", True)
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = [
    "daphne",
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
    "corsheaders",
    "channels",
    "django_q",
    "stxworx",
    "accounts",
    "projects",
    "proposals",
    "chainsync",
    "notifications",
    "files",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "stxworx.middleware.ApiErrorMiddleware",
]
CSRF_FAILURE_VIEW = "stxworx.views.csrf_failure"

ROOT_URLCONF = "stxworx.urls"
ASGI_APPLICATION = "stxworx.asgi.application"
WSGI_APPLICATION = "stxworx.wsgi.application"

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

# --- Database -------------------------------------------------------------------------------

# Every SQLite database, whether named by SQLITE_PATH or by a sqlite:// DATABASE_URL, gets these:
# WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
# writers queue instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        **SQLITE_OPTIONS,
        **DATABASES["default"].get("OPTIONS", {}),
    }
    # A file, not the in-memory default, so threaded race tests see real locking; one per test
    # run, so runs side by side in one checkout do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# The web process (`manage.py serve`, stxworx/server.py): WEB_CONCURRENCY processes, each with
# WEB_THREADS threads running Django; on PostgreSQL they share a pool of at most
# DB_POOL_MAX_SIZE connections per process (on SQLite each thread keeps its own). Every other
# process (tasks, indexer, manage.py) keeps one persistent connection per thread as configured
# above.
WEB_CONCURRENCY = int(env("WEB_CONCURRENCY", str(os.cpu_count() or 1)))
WEB_THREADS = int(env("WEB_THREADS", "4"))
DB_POOL_MAX_SIZE = int(env("DB_POOL_MAX_SIZE", "2"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, channels, tasks -----------------------------------------------------------------

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s that
                # channels_redis blocks in BZPOPMIN: under load the reply lands just after the
                # timeout and the consumer dies (1011). Read timeouts must outlast the block.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": env("CHANNELS_PREFIX", "stxworx"),
                # All sockets of a web process share one Redis list; at the default capacity
                # (100) a burst that puts a process 100 messages behind silently drops the rest.
                "capacity": int(env("CHANNELS_CAPACITY", "10000")),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

NOTIFICATIONS = {
    "PING_SECONDS": float(env("WS_PING_SECONDS", "25")),
    # Live pushes held until the client's {"resume": lastId}, at most this long.
    "RESUME_GRACE_SECONDS": float(env("WS_RESUME_GRACE_SECONDS", "1")),
    # How often each web process polls the database for new rows (notifications/relay.py):
    # the delivery path across processes in the embedded setup, a backstop behind channels_redis
    # (which may drop a message) with Redis. 0 turns it off.
    "DB_POLL_SECONDS": float(env("NOTIFICATIONS_DB_POLL_SECONDS", "5" if REDIS_URL else "1")),
}

Q_CLUSTER = {
    "name": "stxworx",
    "workers": int(env("Q_WORKERS", "2")),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 5,
    "catch_up": False,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Auth -----------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Internationalisation, static -----------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
# Development serves static files straight from the apps; production runs collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = False
if not PRODUCTION:
    STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise expects it; collectstatic fills it in production

# --- CORS and security ----------------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list(
    "CORS_ALLOWED_ORIGINS", "" if PRODUCTION else "http://localhost:5173,http://127.0.0.1:5173"
)
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "x-requested-with")

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# --- REST framework -------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["stxworx.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["stxworx.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "stxworx.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "stxworx.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "stxworx.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": int(env("NUM_PROXIES", "0")),  # proxies in front that set X-Forwarded-For
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "STXWorx API",
    "DESCRIPTION": "Off-chain workspace and on-chain index of the STXWorx escrow marketplace.\n"
    + API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"DisputeStatusEnum": "projects.models.Dispute.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "notifications.schema.websocket_components_add",
    ],
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Stacks ---------------------------------------------------------------------------------

STACKS_NETWORK = env("STACKS_NETWORK", "testnet")
if STACKS_NETWORK not in {"testnet", "mainnet"}:
    raise ImproperlyConfigured("STACKS_NETWORK must be 'testnet' or 'mainnet'")

CHAINSYNC = {
    "STACKS_API_URL": env(
        "STACKS_API_URL",
        "https://api.hiro.so" if STACKS_NETWORK == "mainnet" else "https://api.testnet.hiro.so",
    ),
    "HIRO_API_KEY": env("HIRO_API_KEY"),
    "ESCROW_CONTRACT_ID": env(
        "ESCROW_CONTRACT_ID", "STVNRH0FC9XJP8J18C92J09MNBS2BS2TW6RCAQ87.escrow-contract-v1"
    ),
    "STACKS_API_RATE_LIMIT": int(env("STACKS_API_RATE_LIMIT", "50")),
    "STACKS_API_MAX_RETRIES": int(env("STACKS_API_MAX_RETRIES", "5")),
    "POLL_SECONDS": float(env("INDEXER_POLL_SECONDS", "10")),
    "CONFIRMATIONS": int(env("INDEXER_CONFIRMATIONS", "6")),
    "ENABLED": env_bool("INDEXER_ENABLED", True),
    "LEADER_TTL_SECONDS": int(env("INDEXER_LEADER_TTL_SECONDS", "60")),
    "MAX_LAG_BLOCKS": int(env("INDEXER_MAX_LAG_BLOCKS", "30")),  # /readyz and sync-status
    "ONCHAIN_CACHE_SECONDS": int(env("ONCHAIN_CACHE_SECONDS", "60")),
    "CHAINHOOK_SECRET": env("CHAINHOOK_SECRET", ""),  # unset: POST /api/blockchain/chainhook off
    "VERIFY_MINUTES": int(env("VERIFY_MINUTES", "5")),  # the reconciliation schedule
    "VERIFY_RECENT_BLOCKS": int(env("VERIFY_RECENT_BLOCKS", "1000")),
}

# --- Files (IPFS) ---------------------------------------------------------------------------

FILES = {
    "MAX_BYTES": int(env("FILES_MAX_BYTES", str(25 * 1000 * 1000))),  # 25 MB
    # Declared types accepted on upload; the bytes must also look like the type (files/sniff.py).
    # No text/html or image/svg+xml: they run script in a browser.
    "ALLOWED_CONTENT_TYPES": env_list(
        "FILES_ALLOWED_CONTENT_TYPES",
        "application/pdf,image/png,image/jpeg,image/gif,image/webp,text/plain,text/markdown,"
        "text/csv,application/json,application/zip,video/mp4",
    ),
    "STORAGE_PREFIX": env("FILES_STORAGE_PREFIX", "ipfs"),  # names in Django's default storage
    "IPFS_PINNING_URL": env("IPFS_PINNING_URL"),  # an IPFS Pinning Service API endpoint
    "IPFS_PINNING_TOKEN": env("IPFS_PINNING_TOKEN"),
    "IPFS_API_URL": env("IPFS_API_URL"),  # a Kubo RPC endpoint, e.g. http://127.0.0.1:5001
    "IPFS_GATEWAY_URL": env("IPFS_GATEWAY_URL"),  # e.g. https://ipfs.io: {gateway}/ipfs/{cid}
    "PIN_ORIGINS": env_list("IPFS_PIN_ORIGINS"),  # multiaddrs the pinning service may fetch from
    "PIN_MAX_ATTEMPTS": int(env("IPFS_PIN_MAX_ATTEMPTS", "8")),
    "PIN_RETRY_SECONDS": float(env("IPFS_PIN_RETRY_SECONDS", "30")),  # doubles per attempt
    "PIN_POLL_SECONDS": float(env("IPFS_PIN_POLL_SECONDS", "60")),  # a queued pin's status
    "PIN_TIMEOUT_SECONDS": float(env("IPFS_PIN_TIMEOUT_SECONDS", "30")),
    # Downloads: files up to this size are read once, into memory, to check and send.
    "VERIFY_AHEAD_BYTES": int(env("FILES_VERIFY_AHEAD_BYTES", str(1024 * 1024))),
    # DRF rates ("60/min", ...); "none": no limit. files/throttles.py.
    "DOWNLOAD_RATE_ANON": env_none(env("FILES_DOWNLOAD_RATE_ANON", "60/min")),  # per client IP
    "DOWNLOAD_RATE_USER": env_none(env("FILES_DOWNLOAD_RATE_USER", "300/min")),
    "UPLOAD_RATE_USER": env_none(env("FILES_UPLOAD_RATE_USER", "60/hour")),
    "UPLOAD_RATE_IP": env_none(env("FILES_UPLOAD_RATE_IP", "120/hour")),
    # Bytes of the files a user uploaded first; "none": no quota.
    "QUOTA_BYTES_PER_USER": env_none(env("FILES_QUOTA_BYTES_PER_USER", "1000000000"), int),
}

# --- Wallet sign-in -------------------------------------------------------------------------

AUTH = {
    "DOMAIN": env("AUTH_DOMAIN", None if PRODUCTION else "localhost:5173"),
    "URI": env("AUTH_URI", None if PRODUCTION else "http://localhost:5173/login"),
    "STATEMENT": env("AUTH_STATEMENT", "Sign in to STXWorx."),
    "CHALLENGE_TTL": timedelta(minutes=5),
    "CLOCK_SKEW": timedelta(seconds=30),
    "JWT_SIGNING_KEY": env("JWT_SIGNING_KEY", SECRET_KEY),
    "JWT_ISSUER": env("JWT_ISSUER", "stxworx"),
    "JWT_AUDIENCE": env("JWT_AUDIENCE", "stxworx-api"),
    "JWT_TTL": timedelta(hours=24),
    "WS_TICKET_TTL": timedelta(seconds=30),
    "RATE_PER_IP": env("AUTH_RATE_PER_IP", "30/min"),
    "RATE_PER_ADDRESS": env("AUTH_RATE_PER_ADDRESS", "10/min"),
}
if PRODUCTION:
    for _key, _name in (("DOMAIN", "AUTH_DOMAIN"), ("URI", "AUTH_URI")):
        if not AUTH[_key]:
            raise ImproperlyConfigured(f"{_name} must be set when DJANGO_ENV=production")
    if len(AUTH["JWT_SIGNING_KEY"].encode()) < 32:
        raise ImproperlyConfigured("JWT_SIGNING_KEY (or DJANGO_SECRET_KEY) needs 32 bytes or more")

# --- Logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
