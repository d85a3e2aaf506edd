"""All settings come from the environment, here and nowhere else.

Each helper fails loudly with the variable's name when a value cannot be read, so a
typo in a deployment stops the process at start instead of running half-configured.
"""

import datetime
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules


def env_str(name, default=None, *, required=False):
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None


def env_list(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


# COMPAPP_ENV=production turns on the deployment defaults: DEBUG off, a real SECRET_KEY
# required, secure cookies, HSTS and SSL redirect. Anything else is development.
COMPAPP_ENV = env_str("COMPAPP_ENV", "development")
if COMPAPP_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"COMPAPP_ENV={COMPAPP_ENV!r} must be development or production")
PRODUCTION = COMPAPP_ENV == "production"
DEBUG = env_bool("DEBUG", not PRODUCTION and not TESTING)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when COMPAPP_ENV=production")
    SECRET_KEY = "insecure-development-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "csp",
    "django_tables2",
    "django_filters",
    "accounts",
    "payouts",
    "compapp",
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
    "compapp.middleware.LoginRequiredMiddleware",
    "compapp.middleware.SlidingSessionMiddleware",
    # Every change made during a request is recorded with who made it (audit trail).
    "pghistory.middleware.HistoryMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Audit context (who, which page) is attached to the changes of requests that write.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: 5 failed attempts for a username from one address lock it for 15 minutes.
AXES_ENABLED = env_bool("AXES_ENABLED", not TESTING)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Content security policy: only this site's own scripts, styles, images and fonts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "compapp.urls"
WSGI_APPLICATION = "compapp.wsgi.application"

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
                "compapp.context_processors.roles",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/compapp")
try:
    _db = dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
except Exception as exc:  # dj_database_url raises several kinds
    raise ImproperlyConfigured(f"DATABASE_URL={_database_url!r} cannot be read: {exc}") from exc
if _db.get("ENGINE") != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Tests default to their own Redis database so that a running demo worker never takes them.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/15" if TESTING else "redis://127.0.0.1:6379/0")
if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis:// or unix://")

# Celery. The longest task (one person's recompute, or a whole quarter close) takes
# seconds; the visibility timeout is one hour so that a task held by a live worker is
# never handed to a second one, while a task of a killed worker comes back within it.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
NIGHTLY_RECOMPUTE_HOUR = env_int("NIGHTLY_RECOMPUTE_HOUR", 2)
# A running recompute with no person finished for this long, and no task of it on any
# worker, lost its worker (killed, out of memory): it shows as stalled and can be resumed,
# which beat does every RECOMPUTE_RESUME_EVERY_SECONDS, instead of waiting an hour for the
# broker to hand the dead worker's tasks out again.
RECOMPUTE_STALL_SECONDS = env_int("RECOMPUTE_STALL_SECONDS", 180)
RECOMPUTE_RESUME_EVERY_SECONDS = env_int("RECOMPUTE_RESUME_EVERY_SECONDS", 300)
# People per task when a change's figures are refreshed (payouts/fresh.py): smaller batches
# spread a large change over more worker processes.
FRESH_BATCH_PEOPLE = env_int("FRESH_BATCH_PEOPLE", 60)

if TESTING:  # hashing every test user's password with PBKDF2 costs seconds per test
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files with DEBUG on or off, as deployed: what `collectstatic`
# wrote, compressed, to STATIC_ROOT (git ignores it; the run command and the Docker image
# write it). Development with DEBUG reads static/ itself, re-read on every request, and so
# does a server started outside production without collectstatic, so it keeps its styles.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION and (DEBUG or not STATIC_ROOT.is_dir())
WHITENOISE_AUTOREFRESH = DEBUG and not PRODUCTION
# Files served at the site's root, before any login: /favicon.ico.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "compensation@example.com")

# Sessions end after SESSION_COOKIE_AGE seconds without activity: every request renews the
# expiry (compapp.middleware.SlidingSessionMiddleware writes it at most once a minute).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_AFTER_SECONDS = 60
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Book-size rules (SPEC 1 and 8).
AE_BOOK_CAP = env_int("AE_BOOK_CAP", 20)
AE_BOOK_TARGET = env_int("AE_BOOK_TARGET", 10)
CSM_BOOK_MAX = env_int("CSM_BOOK_MAX", 50)
CSM_BOOK_TARGET = env_int("CSM_BOOK_TARGET", 30)
ONBOARDING_BOOK_TARGET = env_int("ONBOARDING_BOOK_TARGET", 100)

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap4.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "nightly-recompute": {
        "task": "payouts.tasks.nightly_recompute",
        "schedule": crontab(hour=NIGHTLY_RECOMPUTE_HOUR, minute=0),
    },
    "resume-stalled-recomputes": {
        "task": "payouts.tasks.resume_stalled_runs",
        "schedule": datetime.timedelta(seconds=RECOMPUTE_RESUME_EVERY_SECONDS),
    },
}
