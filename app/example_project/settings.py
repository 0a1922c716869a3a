"""Settings of the example project.

Everything that differs between servers comes from an INI file (written by the backend role from
the vault), named by the DJANGO_SETTINGS_INI environment variable; without it the project runs
in development mode (debug, SQLite next to manage.py).
"""
import configparser
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

_ini_path = os.environ.get("DJANGO_SETTINGS_INI", "")
# No interpolation: secret keys and passwords may contain "%".
_ini = configparser.RawConfigParser()
if _ini_path:
    with open(_ini_path, encoding="utf-8") as f:
        _ini.read_file(f)


def _get(section, key, default=""):
    return _ini.get(section, key, fallback=default).strip()


def _bool(section, key, default=False):
    value = _get(section, key, "true" if default else "false").lower()
    return value in ("1", "true", "yes", "on")


def _list(section, key):
    return [v.strip() for v in _get(section, key).replace("\n", ",").split(",") if v.strip()]


DEBUG = _bool("django", "debug", default=not _ini_path)
SECRET_KEY = _get("django", "secret_key") or ("insecure-development-key" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError(f"{_ini_path}: [django] secret_key is empty")
ALLOWED_HOSTS = _list("django", "allowed_hosts") or (["localhost", "127.0.0.1"] if DEBUG else [])
TIME_ZONE = _get("django", "time_zone", "UTC")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-us"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL or SQLite ---
_engine = _get("database", "engine", "sqlite")
if _engine == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _get("database", "name"),
            "USER": _get("database", "user"),
            "PASSWORD": _get("database", "password"),
            "HOST": _get("database", "host", "localhost"),
            "PORT": _get("database", "port", "5432"),
            "CONN_MAX_AGE": 60,
        }
    }
elif _engine == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _get("database", "name") or str(BASE_DIR / "db.sqlite3"),
        }
    }
else:
    raise RuntimeError(f"{_ini_path}: [database] engine must be postgresql or sqlite, not {_engine!r}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Static and media: collected into the release, served by nginx ---
STATIC_URL = "/static/"
STATIC_ROOT = _get("django", "static_root") or str(BASE_DIR / "static")
# Hashed file names (site.3f2a….css): nginx can let browsers cache them for a year.
STATICFILES_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
MEDIA_URL = "/media/"
MEDIA_ROOT = _get("django", "media_root") or str(BASE_DIR / "media")
# Several app servers share the uploads through a bucket ([media] s3_bucket, from the vault): the
# files are stored there and served at MEDIA_URL by pages.views.media, which reads them back (the
# bucket stays private). Without it, the files stay under MEDIA_ROOT and nginx serves them.
MEDIA_S3 = bool(_get("media", "s3_bucket"))
if MEDIA_S3:
    try:
        import boto3  # noqa: F401
        import storages  # noqa: F401
    except ModuleNotFoundError as exc:
        raise RuntimeError(f"{_ini_path}: [media] s3_bucket is set but {exc.name} is not installed: "
                           "install requirements-s3.txt (django-storages, boto3)") from exc
    DEFAULT_FILE_STORAGE = "example_project.storage.MediaStorage"
    AWS_STORAGE_BUCKET_NAME = _get("media", "s3_bucket")
    AWS_S3_ENDPOINT_URL = _get("media", "s3_endpoint") or None
    AWS_S3_REGION_NAME = _get("media", "s3_region") or None
    AWS_S3_ADDRESSING_STYLE = _get("media", "s3_addressing_style", "auto")
    AWS_LOCATION = _get("media", "s3_prefix")
    AWS_ACCESS_KEY_ID = _get("media", "s3_access_key")
    AWS_SECRET_ACCESS_KEY = _get("media", "s3_secret_key")
    # Private objects, never overwritten (a second upload of a name gets a new one).
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False

# --- Behind nginx (which terminates TLS and sets X-Forwarded-Proto) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
_https = _bool("django", "https", default=False)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
# Over HTTPS: browsers keep to it for a year (subdomains included, eligible for preload lists) and
# plain HTTP redirects; nginx and the health check send X-Forwarded-Proto: https.
SECURE_HSTS_SECONDS = int(_get("django", "hsts_seconds", "31536000" if _https else "0") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("django", "hsts_include_subdomains", default=_https)
SECURE_HSTS_PRELOAD = _bool("django", "hsts_preload", default=_https)
SECURE_SSL_REDIRECT = _https
CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if not h.startswith(".")] if _https else []

# --- E-mail: Mailgun's SMTP relay when configured, the console otherwise ---
_mailgun_domain = _get("mailgun", "domain")
_mailgun_password = _get("mailgun", "smtp_password") or _get("mailgun", "api_key")
if _mailgun_domain and _mailgun_password:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _get("mailgun", "smtp_host", "smtp.mailgun.org")
    EMAIL_PORT = int(_get("mailgun", "smtp_port", "587"))
    EMAIL_USE_TLS = True
    EMAIL_HOST_USER = _get("mailgun", "smtp_login") or f"postmaster@{_mailgun_domain}"
    EMAIL_HOST_PASSWORD = _mailgun_password
    DEFAULT_FROM_EMAIL = _get("mailgun", "from_email") or f"noreply@{_mailgun_domain}"
    SERVER_EMAIL = DEFAULT_FROM_EMAIL
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Database backups (manage.py backup_db backup, run daily by cron) ---
BACKUP_DIRECTORY = _get("backup", "directory") or str(BASE_DIR / "backups")
BACKUP_KEEP = int(_get("backup", "keep", "7") or 7)
BACKUP_S3_BUCKET = _get("backup", "s3_bucket")
BACKUP_S3_ACCESS_KEY = _get("backup", "s3_access_key")
BACKUP_S3_SECRET_KEY = _get("backup", "s3_secret_key")

# --- Logging: to stderr, which supervisord writes under /var/log/<org>/<project>/ ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _get("django", "log_level", "WARNING")},
}

# --- Rollbar: only when a token is set and the package is installed ---
_rollbar_token = _get("rollbar", "token")
if _rollbar_token:
    try:
        import rollbar  # noqa: F401
    except ImportError:
        import warnings

        warnings.warn("[rollbar] token is set but the rollbar package is not installed: errors are not reported")
    else:
        MIDDLEWARE.append("rollbar.contrib.django.middleware.RollbarNotifierMiddleware")
        ROLLBAR = {
            "access_token": _rollbar_token,
            "environment": _get("rollbar", "environment", "production"),
            "root": str(BASE_DIR),
        }

VERSION_FILE = BASE_DIR / "VERSION"
