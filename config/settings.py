"""One settings module, driven by the environment.

Defaults run on SQLite and a filesystem broker so `make run` needs no server; DATABASE_URL and
REDIS_URL switch to PostgreSQL and Redis. Bad values stop start-up with a message naming the
variable rather than surfacing later as odd behaviour.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).resolve() if raw else default


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# Runtime state (SQLite database, broker folders, private files) lives under var/, never in static/.
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    "accounts",
    "units",
    "portfolio",
    "assessments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portfolio.middleware.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Set when a reverse proxy you run appends the client's address to X-Forwarded-For.
AUDIT_TRUST_X_FORWARDED_FOR = env_bool("AUDIT_TRUST_X_FORWARDED_FOR", False)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Write transactions take SQLite's write lock when they begin, so concurrent ones (two file
    # uploads at once) wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portfolio:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Evidence storage: a private folder (MEDIA_ROOT), or a private S3-compatible bucket when S3_BUCKET
# is set. Either way there is no public URL: downloads go through the permission-checked view.
S3_BUCKET = env_str("S3_BUCKET", "")
if S3_BUCKET:
    _s3_options: dict[str, object] = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
        "region_name": env_str("S3_REGION", "") or None,
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
        # Should an object ever be fetched straight from the bucket, it is a download, not a page.
        "object_parameters": {"ContentDisposition": "attachment"},
    }
    if os.environ.get("AWS_ACCESS_KEY_ID"):  # otherwise boto3's own chain (instance role, profile)
        _s3_options["access_key"] = os.environ["AWS_ACCESS_KEY_ID"]
        _s3_options["secret_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if env_str("S3_ADDRESSING_STYLE", ""):  # "path" for most self-hosted S3-compatible servers
        _s3_options["addressing_style"] = env_str("S3_ADDRESSING_STYLE", "")
    _DEFAULT_STORAGE: dict[str, object] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
else:
    _DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    # Private: evidence is only ever served through a permission-checked view.
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env_path("PRIVATE_MEDIA_ROOT", VAR_DIR / "private")
# Private files have no public URL: an unroutable host, so nothing (not even Django's test
# server, which serves MEDIA_URL paths) hands them out without the permission-checked view.
MEDIA_URL = "https://private-media.invalid/"
# Set (e.g. "/protected/") when nginx serves PRIVATE_MEDIA_ROOT from an `internal` location: the
# download views then check permission, record the download and hand nginx the file with an
# X-Accel-Redirect header instead of streaming it through a web worker.
EVIDENCE_X_ACCEL_REDIRECT_PREFIX = env_str("EVIDENCE_X_ACCEL_REDIRECT_PREFIX", "").strip()
if EVIDENCE_X_ACCEL_REDIRECT_PREFIX:
    if not (EVIDENCE_X_ACCEL_REDIRECT_PREFIX.startswith("/") and EVIDENCE_X_ACCEL_REDIRECT_PREFIX.endswith("/")):
        raise ImproperlyConfigured(
            "EVIDENCE_X_ACCEL_REDIRECT_PREFIX must start and end with /, e.g. /protected/; "
            f"got {EVIDENCE_X_ACCEL_REDIRECT_PREFIX!r}"
        )
    if S3_BUCKET:
        raise ImproperlyConfigured(
            "EVIDENCE_X_ACCEL_REDIRECT_PREFIX works only with files on disk (PRIVATE_MEDIA_ROOT); "
            "unset it when S3_BUCKET is set (evidence is then streamed from the bucket)"
        )

# Evidence files. The first upload handler holds each file to the size limit while it streams in
# (portfolio.uploads); files bigger than FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file, not memory,
# hashed as it is written. All three read the body 1 MB at a time (see portfolio.uploads).
EVIDENCE_MAX_FILE_SIZE = env_int("EVIDENCE_MAX_FILE_SIZE", 200 * 1024 * 1024)
EVIDENCE_MAX_FILES_PER_UPLOAD = env_int("EVIDENCE_MAX_FILES_PER_UPLOAD", 20)
# Bigger pictures are refused: decoding one for a preview or a PDF would cost a worker gigabytes.
EVIDENCE_MAX_IMAGE_PIXELS = env_int("EVIDENCE_MAX_IMAGE_PIXELS", 100_000_000)
if EVIDENCE_MAX_FILE_SIZE < 1 or EVIDENCE_MAX_FILES_PER_UPLOAD < 1:
    raise ImproperlyConfigured("EVIDENCE_MAX_FILE_SIZE and EVIDENCE_MAX_FILES_PER_UPLOAD must be at least 1")
FILE_UPLOAD_HANDLERS = [
    "portfolio.uploads.EvidenceUploadHandler",
    "portfolio.uploads.MemoryUploadHandler",
    "portfolio.uploads.HashingTemporaryFileUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# Email. With no EMAIL_HOST, messages are written as files under var/mail (nothing to install);
# set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS) for SMTP.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "NVQ Portfolio <no-reply@localhost>")
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env_path("EMAIL_FILE_PATH", VAR_DIR / "mail")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# HTTPS, cookies and browser policies. With DEBUG on (`make run` serves plain http on 127.0.0.1)
# nothing here forces HTTPS; with DEBUG off every request is HTTPS and no cookie goes out in the clear.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True) and not DEBUG
# Behind a proxy that ends TLS, Django sees plain http: name the header the proxy sets to "https"
# (e.g. HTTP_X_FORWARDED_PROTO), or SECURE_SSL_REDIRECT redirects for ever. Trust it only if the
# proxy always sets or strips that header itself.
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER", "").strip().upper()
if _proxy_ssl_header:
    if not _proxy_ssl_header.startswith("HTTP_") or not _proxy_ssl_header.replace("_", "").isalnum():
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must name a request header as Django sees it, "
            f"e.g. HTTP_X_FORWARDED_PROTO; got {_proxy_ssl_header!r}"
        )
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https")
if DEBUG:
    SECURE_HSTS_SECONDS = 0
else:
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Preloading is a promise to browsers that is slow to take back: only on purpose.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]  # "SECURE_HSTS_PRELOAD is not set": off on purpose
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # forms carry the token; no script reads the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Idle timeout: each request saves the session, pushing its expiry SESSION_IDLE_MINUTES ahead; a
# session left alone for longer is gone, and its person must log in again.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
if SESSION_IDLE_MINUTES < 1:
    raise ImproperlyConfigured("SESSION_IDLE_MINUTES must be at least 1")
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True

# Content Security Policy (django-csp): only this site's own files. No inline script runs unless it
# carries the request's nonce (`{{ request.csp_nonce }}`); no inline style at all. Evidence files
# get their own stricter policy (portfolio.serving).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # data: for Bootstrap's inline SVG icons
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Repeated failed logins (django-axes): after AXES_FAILURE_LIMIT failures for one username from one
# address, that pair is refused for 15 minutes, counted from the latest attempt, whether or not the
# username exists. The address is the one the audit trail records (AUDIT_TRUST_X_FORWARDED_FOR).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT must be at least 1")
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "portfolio.middleware.client_ip"

# Celery. REDIS_URL selects Redis; otherwise kombu's filesystem transport under var/ (no server).
REDIS_URL = env_str("REDIS_URL", "")
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660)
CELERY_BROKER_FOLDER = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A message not acknowledged within this many seconds goes back on the queue: that is how a
    # task whose worker died mid-run gets done. Longer than the hard time limit, so a task still
    # running is not handed to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 60),
        # How often a worker looks for such messages: kombu's default works out at every 100 s.
        "unacked_restore_interval": env_int("CELERY_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": 1,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "control", "processed"):
        (CELERY_BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# An export job whose worker has not reported progress for this long is taken to be dead: a
# redelivered message or a person's "Try again" may then take it over.
EXPORT_LEASE_SECONDS = env_int("EXPORT_LEASE_SECONDS", 120)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every layout step at INFO: several lines per report section.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}
