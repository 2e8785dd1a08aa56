"""Settings for one machine (SQLite under var/) or many (DATABASE_URL, REDIS_URL)."""

from __future__ import annotations

import os
import pathlib

import dj_database_url

from rapport.config.domains import RAPPORT_APPS

BASE_DIR = pathlib.Path(__file__).resolve().parents[2]
PROJECT_DIR = pathlib.Path(os.environ.get("RAPPORT_HOME", pathlib.Path.cwd()))
VAR_DIR = PROJECT_DIR / "var"

DEBUG = os.environ.get("RAPPORT_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("RAPPORT_SECRET_KEY", "")
if not SECRET_KEY:
    # One machine, no configuration: keep a generated key beside the database.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        # Written whole and moved in: processes starting together never read half a key.
        fresh = key_file.with_name(f"secret_key.{os.getpid()}")
        fresh.write_text(get_random_secret_key())
        os.replace(fresh, key_file)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = os.environ.get("RAPPORT_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs' assets locally instead of from a CDN
    "axes",
    "django_tasks_db",
    *RAPPORT_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rapport.core.middleware.BodySizeLimitMiddleware",
    "rapport.config.query_check.QueryCheckMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "rapport.core.pages.ServiceErrorMiddleware",
]

ROOT_URLCONF = "rapport.config.urls"
WSGI_APPLICATION = "rapport.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "django.template.context_processors.csp",
                "rapport.web.context_processors.navigation",
            ],
        },
    }
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "rapport.sqlite3")}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000;"
            ),
        }
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failed logins count against the address whatever its capitals.
AXES_USERNAME_CALLABLE = "rapport.accounts.lockout.username_of"

# Outgoing mail (docs/email.md). With EMAIL_HOST set, Django's SMTP backend sends through it;
# without, the console backend prints each message, so the demo works offline. The settings
# page may override the server (not its password, which only the environment holds).
RAPPORT_SMTP = {
    "host": os.environ.get("EMAIL_HOST", ""),
    "port": int(os.environ.get("EMAIL_PORT") or 0) or None,
    "username": os.environ.get("EMAIL_HOST_USER", ""),
    "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": os.environ.get("EMAIL_USE_TLS", "0").lower() in ("1", "true", "yes"),
    "use_ssl": os.environ.get("EMAIL_USE_SSL", "0").lower() in ("1", "true", "yes"),
    "timeout": int(os.environ.get("EMAIL_TIMEOUT") or 30),
}
if os.environ.get("RAPPORT_EMAIL_BACKEND") or not RAPPORT_SMTP["host"]:
    MAILERS = {
        "default": {
            "BACKEND": os.environ.get(
                "RAPPORT_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
            ),
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {k: v for k, v in RAPPORT_SMTP.items() if v not in ("", None)},
        }
    }
DEFAULT_FROM_EMAIL = (os.environ.get("DEFAULT_FROM_EMAIL")
                      or os.environ.get("RAPPORT_FROM_EMAIL", "rapport@localhost"))
# The business's name, as email templates say it ({{ business.name }}).
RAPPORT_BUSINESS_NAME = os.environ.get("RAPPORT_BUSINESS_NAME", "")
# How long a worker's claim on an outgoing email holds (longer than EMAIL_TIMEOUT, so a slow
# server is never taken for a dead worker).
RAPPORT_OUTBOUND_CLAIM_SECONDS = int(os.environ.get("RAPPORT_OUTBOUND_CLAIM_SECONDS", 300))
# How long a worker's claim on a reminder email holds before another worker may take it over
# (longer than any send takes; a killed worker's reminders go out this much later).
RAPPORT_REMINDER_CLAIM_SECONDS = int(os.environ.get("RAPPORT_REMINDER_CLAIM_SECONDS", 300))

# Mail the CRM captures (activities): forwarded or BCC'd to its SMTP listener, found by IMAP
# polling, imported from files or posted to the API. The listener runs with `rapport serve`
# when RAPPORT_MAIL_LISTEN_PORT is set. Captured mail is logged as RAPPORT_MAIL_USER (a user
# name; default: the first owner), who also owns the contacts made for unknown senders.
RAPPORT_MAIL_LISTEN_HOST = os.environ.get("RAPPORT_MAIL_LISTEN_HOST", "127.0.0.1")
RAPPORT_MAIL_LISTEN_PORT = int(os.environ.get("RAPPORT_MAIL_LISTEN_PORT", 0) or 0)
RAPPORT_MAIL_USER = os.environ.get("RAPPORT_MAIL_USER", "")
RAPPORT_SUPPORT_USER = os.environ.get("RAPPORT_SUPPORT_USER", "")
RAPPORT_MAIL_MAX_MESSAGE_BYTES = int(os.environ.get("RAPPORT_MAIL_MAX_MESSAGE_BYTES",
                                                    80 * 1024 * 1024))
RAPPORT_MAIL_MAX_ATTACHMENT_BYTES = int(os.environ.get("RAPPORT_MAIL_MAX_ATTACHMENT_BYTES",
                                                       10 * 1024 * 1024))
# More messages than this from one sender in an hour is a loop (or a flood): refused.
RAPPORT_MAIL_SENDER_HOURLY_LIMIT = int(os.environ.get("RAPPORT_MAIL_SENDER_HOURLY_LIMIT", 30))
# --- desk: the help desk's address: mail to it opens tickets (not leads); acknowledgements
# to one address are capped per hour (two auto-responders must not loop) ---
RAPPORT_SUPPORT_ADDRESS = os.environ.get("RAPPORT_SUPPORT_ADDRESS", "")
RAPPORT_SUPPORT_ACK_HOURLY_LIMIT = int(os.environ.get("RAPPORT_SUPPORT_ACK_HOURLY_LIMIT", 3))
# --- end desk ---

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("RAPPORT_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# Requests larger than this are refused with 413 before they are parsed.
RAPPORT_MAX_BODY_BYTES = int(os.environ.get("RAPPORT_MAX_BODY_BYTES", 2 * 1024 * 1024))
RAPPORT_MAX_UPLOAD_BYTES = int(os.environ.get("RAPPORT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = RAPPORT_MAX_BODY_BYTES
RAPPORT_SOFT_DELETE_DAYS = 30
# Call transcription (docs/voice.md): "auto" transcribes uploaded calls when the optional extra
# "voice" is installed; "off" never does (calls are still logged with their recording).
RAPPORT_TRANSCRIPTION = os.environ.get("RAPPORT_TRANSCRIPTION", "auto")
# Where the speech model is assembled from its installed packages (once; about 145 MB).
RAPPORT_MODEL_CACHE = pathlib.Path(os.environ.get("RAPPORT_MODEL_CACHE", VAR_DIR / "models"))
RAPPORT_TRANSCRIBE_THREADS = int(os.environ.get("RAPPORT_TRANSCRIBE_THREADS", 2))
# Imports (docs/imports.md): the most rows in one ledger batch, and how long a worker holds a
# batch before another may take it over (a killed worker is replaced within this plus a minute).
RAPPORT_IMPORT_BATCH_ROWS = int(os.environ.get("RAPPORT_IMPORT_BATCH_ROWS", 5000))
RAPPORT_IMPORT_CLAIM_SECONDS = int(os.environ.get("RAPPORT_IMPORT_CLAIM_SECONDS", 60))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
