"""Settings for the whole project, read from the environment only.

Every variable is listed in README.md and .env.example. With no environment at all the app
runs on its embedded defaults: a SQLite file, an embedded Redis and the built-in Tuya simulator.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config import embedded_redis
from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite file, embedded Redis socket, private media


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


DEBUG = env_bool("DEBUG", default=True)

# The dev fallback keeps the zero-setup run working; production refuses it (see the check below).
_DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY") or _DEV_SECRET_KEY
# Old keys still accepted for signatures (sessions, password resets) while a new SECRET_KEY takes over.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")


def _dev_fernet_key(seed: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"field-encryption:{seed}".encode()).digest()).decode()


# Fernet keys for secrets at rest (Tuya access secrets, local keys, PINs). The first key encrypts;
# all of them decrypt, so a new key can be put first while old rows are re-encrypted.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")

if not DEBUG:
    # Production mode: nothing that debug would make up may be missing. One error that names every gap, so an
    # operator fixes them all at once instead of one restart per variable.
    _missing = [
        name
        for name, is_missing in (
            ("SECRET_KEY", SECRET_KEY == _DEV_SECRET_KEY),
            ("FIELD_ENCRYPTION_KEYS", not FIELD_ENCRYPTION_KEYS),
            ("ALLOWED_HOSTS", not ALLOWED_HOSTS),
        )
        if is_missing
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"DEBUG is off (production mode), so these must be set: {', '.join(_missing)}. "
            "See README.md, 'Running in production'."
        )
elif not FIELD_ENCRYPTION_KEYS:
    FIELD_ENCRYPTION_KEYS = [_dev_fernet_key(SECRET_KEY)]
for _position, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key.encode())
    except ValueError:  # the message names the position only, never the key
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS: key {_position} is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None

# HTTPS and cookies: on by default in production, each switchable for a deployment that needs otherwise.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers often probe over plain HTTP on the inside
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a proxy that terminates TLS: the header (and value) by which it says the request came over HTTPS, e.g.
# "X-Forwarded-Proto=https". Opt-in only: trusted blindly, a client could claim HTTPS itself.
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    _header, _, _value = _proxy_ssl_header.partition("=")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip() or "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# __Host- cookies must be Secure, for path / and without a Domain: no sibling subdomain can set or shadow them.
if SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
if CSRF_COOKIE_SECURE:
    CSRF_COOKIE_NAME = "__Host-csrftoken"
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the page (hx-headers on <body>); no script reads the cookie
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",  # wraps the template loaders so "page.html#fragment" names load
    "django_rq",
    "axes",
    "django_otp",  # the second sign-in factor (signin/): devices and the session's "verified" mark
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # one-time recovery codes
    "django_otp_webauthn",  # passkeys and security keys, as a django-otp device
    "ninja",  # the API's docs page and its Swagger UI files, served from here (no CDN)
    "tenants",
    "audit",  # the audit trail, written by both apps and the middleware
    "locks",
    "locks.simulator",
    "bookings",  # calendar feeds, the arrival guarantee, guest messages and pages (above tenants and locks services)
    "webhooks",  # owners' signed webhooks: endpoints, messages, deliveries (below the services that emit them)
    "api",
    "signin",  # the second step of signing in: verify, enrol, recovery codes, remembered devices, members' resets
]

MIDDLEWARE = [
    "config.middleware.RequestId",  # first, so that every response and log line of a request has its id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, before anything that reads a session
    "config.middleware.ContentSecurityPolicy",  # early: its header goes on every page, refusals included
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the browser's Accept-Language; after sessions, before common
    "django.middleware.common.CommonMiddleware",
    "api.idempotency.ApiRequests",  # /api/v1/ only: body size, Idempotency-Key, problem details for 404/405
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "signin.middleware.FactorPassedInSession",  # before django-otp's, which forgets a device it finds gone
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): passed a second factor in this session
    "config.middleware.UserLanguage",  # a signed-in user's chosen language wins over the browser's
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.SessionTimeout",  # after messages: it says why the user must sign in again
    "config.middleware.SuperuserOnly",  # the django-rq dashboard
    # After the timeouts (an expired session signs in again first) and the dashboard's refusal (no factor needed
    # to be refused, and the refusal is audited as before).
    "signin.middleware.SecondFactorRequired",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns its lockout into the locked-out page
]

ROOT_URLCONF = "config.urls"
# A refused form (no or a stale CSRF token) is audited as `access.refused` and gets a plain 403 page.
CSRF_FAILURE_VIEW = "locks.error_views.csrf_failure"

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
                "tenants.context.organisation_context",
                "locks.alert_views.badge_counts",
                "config.middleware.csp_nonce",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env_str("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and simulator processes share the file: WAL lets readers run beside a writer, and writers
    # wait for each other instead of failing. Tests use a file too (not :memory:) so threads and forked
    # workers see the same data.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # One file per test run, so two runs in one checkout never share (or delete) each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

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

# The proxies in front of the app: their addresses, or networks of proxies only (CIDR; a listed address is taken for a
# proxy, so never a clients' network), or "*" for every peer (then one proxy: only the right-most entry is believed).
# Only a request from one of them has its X-Forwarded-For believed (tenants.signals.client_ip: the audit trail and
# sign-in lockouts); gunicorn reads the same variable, with the same default, for X-Forwarded-Proto. Invalid entries
# stop the start, as in gunicorn.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
for _entry in FORWARDED_ALLOW_IPS:
    if _entry != "*":
        try:
            ipaddress.ip_network(_entry)
        except ValueError as error:
            raise ImproperlyConfigured(f"FORWARDED_ALLOW_IPS: {error}") from None

# Brute force (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one username from one address, that pair is
# refused (429, audited as auth.locked_out) for AXES_COOLOFF_MINUTES. Username and address together, so nobody can
# lock a real user out from elsewhere. Failed sign-ins are audited by tenants/signals.py; axes keeps only its counts.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the cool-off ends on time, even if the user keeps trying
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit trail already
AXES_CLIENT_IP_CALLABLE = "tenants.signals.client_ip"  # the client behind FORWARDED_ALLOW_IPS, as the audit trail
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# The second factor (signin/). django-otp's own per-device throttling is off: wrong codes are counted per user by
# signin.services (AXES_FAILURE_LIMIT in a row sign the user out and refuse them for AXES_COOLOFF_TIME, as wrong
# passwords do), and its growing delays would refuse a right code typed a second after a wrong one.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a TOTP secret or its QR code, even to superusers
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Doors")
# "Remember this device": a signed cookie that skips the second step for this many days (a factor reset or a password
# change ends every one of them at once).
MFA_REMEMBER_DAYS = env_int("MFA_REMEMBER_DAYS", 30)
MFA_REMEMBER_COOKIE_SECURE = env_bool("MFA_REMEMBER_COOKIE_SECURE", not DEBUG)
# Passkeys and security keys: a second factor only, never a sign-in without the password (that would skip axes).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = env_str("OTP_WEBAUTHN_RP_NAME", "Doors")
# The relying party is the host the browser sees; its origins must be listed: by default https:// on every allowed
# host in production, http://localhost:8000 in development (browsers refuse passkeys on a bare IP like 127.0.0.1).
OTP_WEBAUTHN_RP_ID_CALLABLE = "signin.webauthn.relying_party_id"
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("OTP_WEBAUTHN_ALLOWED_ORIGINS") or (
    ["http://localhost:8000"] if DEBUG else [f"https://{host.lstrip('.')}" for host in ALLOWED_HOSTS if host != "*"]
)

# Sessions end after SESSION_IDLE_TIMEOUT_SECONDS without a request or SESSION_ABSOLUTE_TIMEOUT_SECONDS after signing
# in (config.middleware.SessionTimeout), and when a user's last membership is removed (tenants/signals.py).
SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 8 * 3600)
# A member's idle timeout depends on their role in the organisation they work in: the desk's shared screens idle out
# first. These are the defaults; an owner may set their organisation's own (tenants.models.Organisation, within
# IDLE_MINUTES_RANGE). SESSION_IDLE_TIMEOUT_SECONDS stays the timeout of a user with no membership (a superuser).
SESSION_IDLE_TIMEOUT_FRONT_DESK_MINUTES = env_int("SESSION_IDLE_TIMEOUT_FRONT_DESK_MINUTES", 15)
SESSION_IDLE_TIMEOUT_MANAGER_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MANAGER_MINUTES", 30)  # owners and managers
SESSION_IDLE_TIMEOUT_VIEWER_MINUTES = env_int("SESSION_IDLE_TIMEOUT_VIEWER_MINUTES", 60)
SESSION_IDLE_MINUTES_RANGE = (5, 720)  # what an organisation may choose, and where these defaults must be
for _name in ("FRONT_DESK", "MANAGER", "VIEWER"):
    _minutes = globals()[f"SESSION_IDLE_TIMEOUT_{_name}_MINUTES"]
    if not SESSION_IDLE_MINUTES_RANGE[0] <= _minutes <= SESSION_IDLE_MINUTES_RANGE[1]:
        raise ImproperlyConfigured(f"SESSION_IDLE_TIMEOUT_{_name}_MINUTES must be from 5 to 720, got {_minutes}")
SESSION_ABSOLUTE_TIMEOUT_SECONDS = env_int("SESSION_ABSOLUTE_TIMEOUT_SECONDS", 24 * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT_SECONDS
# Revealing a PIN, opening a door remotely, making an API key and changing members need a sign-in or a password
# confirmed again (tenants/reauth.py) within this many seconds.
REAUTH_SECONDS = env_int("REAUTH_SECONDS", 300)

# Content-Security-Policy (config.middleware.ContentSecurityPolicy): report-only while trying out a change.
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY")

LANGUAGE_CODE = "en"
# The languages of the pages and of the guests' messages; each but English has a catalogue in locale/ (README:
# Languages). A property's and a guest's language are one of these codes.
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("de", "Deutsch"), ("es", "Español"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `manage.py collectstatic` copies every static file here; WhiteNoise serves them from the app processes.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing one (dev and tests never collect)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves compressed files with content hashes in their names (cached for a year), from the manifest
    # that collectstatic writes. Debug (dev.py run, the tests) finds files where they are, no collectstatic needed.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Redis for RQ and the shared Tuya token store. Unset means the embedded redis-server (config/embedded_redis.py)
# on a unix socket in VAR_DIR, which `dev.py run` and `dev.py test` start.
REDIS_URL = env_str("REDIS_URL") or f"unix://{embedded_redis.socket_path(VAR_DIR)}"

# Queues in priority order: a worker started on all six takes unlocks first. Jobs are serialised as JSON,
# never pickle, so nothing that can write to Redis can make a worker run arbitrary code.
# `maintenance` (alert scans, health checks, reconcile, purges) ahead of `sync`, so a backlog of event syncs never
# delays them; `webhooks` last and alone in production's workers: a slow receiver must not hold up codes or syncs.
_QUEUE_TIMEOUTS = {"unlock": 15, "codes": 120, "maintenance": 600, "sync": 600, "media": 120, "webhooks": 60}
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": timeout, "SERIALIZER": "rq.serializers.JSONSerializer"}
    for name, timeout in _QUEUE_TIMEOUTS.items()
}
RQ = {"COMMIT_MODE": "auto"}  # we enqueue from transaction.on_commit ourselves, plus an outbox sweeper
RQ_SHOW_ADMIN_LINK = True

# Tuya Open API. TUYA_ENDPOINT is a region name (cn, us, us-east, eu, eu-west, in) or a URL.
TUYA_ENDPOINT = env_str("TUYA_ENDPOINT", "eu")
TUYA_ACCESS_ID = env_str("TUYA_ACCESS_ID")
TUYA_ACCESS_SECRET = env_str("TUYA_ACCESS_SECRET")
TUYA_TIMEOUT_SECONDS = float(env_str("TUYA_TIMEOUT_SECONDS", "15"))
# What a cloud account's endpoint may be. Workers call it, so whoever connects a cloud project chooses where this
# server sends requests: by default in production only Tuya's regions. TUYA_ALLOW_URL_ENDPOINTS also takes http(s)
# URLs (a private cloud, the simulator); TUYA_ALLOW_PRIVATE_ENDPOINTS lets them be (or resolve to) private, loopback
# or link-local addresses, which a server must otherwise never be made to call. Both on in development and tests.
TUYA_ALLOW_URL_ENDPOINTS = env_bool("TUYA_ALLOW_URL_ENDPOINTS", DEBUG)
TUYA_ALLOW_PRIVATE_ENDPOINTS = env_bool("TUYA_ALLOW_PRIVATE_ENDPOINTS", DEBUG)
# The Tuya cloud simulator mounted in this app at /tuya-sim/ (and cloud accounts with endpoint "embedded"): for
# development, tests and demos only. It is unauthenticated and writes its own world, so production leaves it off.
EMBEDDED_SIMULATOR = env_bool("EMBEDDED_SIMULATOR", DEBUG)
# Where a cloud account with endpoint "embedded" finds the simulator mounted in this app (dev.py sets the port).
EMBEDDED_SIMULATOR_URL = env_str("EMBEDDED_SIMULATOR_URL", "http://127.0.0.1:8000/tuya-sim")
# Tuya's message service (push: `manage.py tuya_push`, locks/push.py): enrollment progress, doorbells, alarms and online
# changes within seconds instead of at the next sync. TUYA_PUSH_URL empty = each cloud account's region
# (wss://mqe.tuya<region>.com:8285/); accounts with endpoint "embedded" use the simulator's (dev.py sets the port).
TUYA_PUSH_ENABLED = env_bool("TUYA_PUSH_ENABLED", True)
TUYA_PUSH_URL = env_str("TUYA_PUSH_URL")
EMBEDDED_SIMULATOR_PUSH_URL = env_str("EMBEDDED_SIMULATOR_PUSH_URL", "ws://127.0.0.1:8285/")

# The code lifecycle: how often a job re-reads a password's status while the lock takes it, and for how long
# before it leaves the rest to the sweeper (the spec's Zigbee flow polls for 25 s).
CODE_POLL_SECONDS = float(env_str("CODE_POLL_SECONDS", "2"))
CODE_POLL_WINDOW_SECONDS = float(env_str("CODE_POLL_WINDOW_SECONDS", "25"))
# Enrolling a fingerprint or card: how often the cloud is asked whether it has appeared, and for how long.
ENROLL_POLL_SECONDS = float(env_str("ENROLL_POLL_SECONDS", "2"))
ENROLL_WINDOW_SECONDS = float(env_str("ENROLL_WINDOW_SECONDS", "180"))

# Sending a guest their door code (tenants/notify.py): a backend class per channel, by dotted path. The default
# writes each message to a 0600 file under VAR_DIR/outbox/<channel>/: messages carry PINs, which must never reach
# logs or stdout (so no console backend). "tenants.notify.DjangoMail" sends e-mail through EMAIL_BACKEND.
CODE_EMAIL_BACKEND = env_str("CODE_EMAIL_BACKEND", "tenants.notify.FileOutbox")
CODE_SMS_BACKEND = env_str("CODE_SMS_BACKEND", "tenants.notify.FileOutbox")

# Alerts (locks/alerts.py) are e-mailed once per incident through Django's mail (SMTP by default; alerts never
# carry a PIN or a secret) to ALERT_EMAIL_TO, or when that is empty to the organisation's owners and managers.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "doors@localhost")
ALERT_EMAIL_TO = env_list("ALERT_EMAIL_TO")

# Events and their photos (locks/events.py, locks/media.py). Photos are private: they live in the "private_media"
# storage, outside STATIC and any public MEDIA_URL, never at a URL of their own, and are served only through a
# permission-checked view. On this machine's disk by default; on S3-compatible object storage with
# PRIVATE_MEDIA_STORAGE=s3, so that several machines share them (README "Scaling out").
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT") or VAR_DIR / "private")
PRIVATE_MEDIA_STORAGE = env_str("PRIVATE_MEDIA_STORAGE", "filesystem")
if PRIVATE_MEDIA_STORAGE == "filesystem":
    STORAGES["private_media"] = {
        "BACKEND": "config.storage.WholeFileSystemStorage",
        "OPTIONS": {
            "location": PRIVATE_MEDIA_ROOT,
            "file_permissions_mode": 0o600,  # this user's alone
            "directory_permissions_mode": 0o700,
        },
    }
elif PRIVATE_MEDIA_STORAGE == "s3":
    if not env_str("PRIVATE_MEDIA_S3_BUCKET"):
        raise ImproperlyConfigured("PRIVATE_MEDIA_STORAGE=s3 needs PRIVATE_MEDIA_S3_BUCKET.")
    _s3_options = {
        "bucket_name": env_str("PRIVATE_MEDIA_S3_BUCKET"),
        "endpoint_url": env_str("PRIVATE_MEDIA_S3_ENDPOINT_URL"),
        "region_name": env_str("PRIVATE_MEDIA_S3_REGION"),
        # Unset: boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a shared profile, an instance role).
        "access_key": env_str("PRIVATE_MEDIA_S3_ACCESS_KEY_ID"),
        "secret_key": env_str("PRIVATE_MEDIA_S3_SECRET_ACCESS_KEY"),
    }
    STORAGES["private_media"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **{name: value for name, value in _s3_options.items() if value},
            "default_acl": "private",  # readable with the bucket's credentials only, whatever the bucket's default
            # The app streams each photo after its permission check: a signed URL (url()) is never handed out.
            "querystring_auth": True,
        },
    }
else:
    raise ImproperlyConfigured(f"PRIVATE_MEDIA_STORAGE must be filesystem or s3, got {PRIVATE_MEDIA_STORAGE!r}")
# The public API (/api/v1/): requests per key per minute (0 = no limit), and the largest request body.
API_RATE_LIMIT_PER_MINUTE = int(env_str("API_RATE_LIMIT_PER_MINUTE", "600"))
API_MAX_BODY_BYTES = int(env_str("API_MAX_BODY_BYTES", str(64 * 1024)))

EVENTS_SYNC_INTERVAL_SECONDS = int(env_str("EVENTS_SYNC_INTERVAL_SECONDS", "60"))
# The call budget of each API of each cloud project (Tuya limits them one by one), shared by every process
# (locks/cloud/budget.py): set it to the project's quota. Door codes and unlocks may use all of it; pushed syncs
# 75 %, safety-net polling 50 %, health and reconcile 35 %. A "too frequent" answer halves that API's for
# TUYA_BUDGET_SHRINK_SECONDS. 0 = no budget.
TUYA_CALLS_PER_SECOND = float(env_str("TUYA_CALLS_PER_SECOND", "10"))
TUYA_BUDGET_SHRINK_SECONDS = int(env_str("TUYA_BUDGET_SHRINK_SECONDS", "60"))
# A quiet lock whose cloud project's message service (push) is connected tells us of its events itself; it is
# polled only this often as a safety net, and one with an event in the last EVENTS_ACTIVE_SECONDS every
# EVENTS_ACTIVE_POLL_SECONDS (push already syncs it at each event; the poll catches a record the cloud pushed no
# message for). A lock whose project has no live push connection is polled every EVENTS_SYNC_INTERVAL_SECONDS.
EVENTS_SAFETY_NET_SECONDS = int(env_str("EVENTS_SAFETY_NET_SECONDS", str(6 * 3600)))
EVENTS_ACTIVE_SECONDS = int(env_str("EVENTS_ACTIVE_SECONDS", "3600"))
EVENTS_ACTIVE_POLL_SECONDS = int(env_str("EVENTS_ACTIVE_POLL_SECONDS", "900"))
# Drift repair: every lock's passwords compared with ours this often (a round: one call a lock, at maintenance
# priority). A fleet of 100k locks would ask ~170 calls/s at 600 s (bench/fleet_bench.py): set hours there.
RECONCILE_INTERVAL_SECONDS = int(env_str("RECONCILE_INTERVAL_SECONDS", "600"))
# Lock-wide rounds (events sync, health, reconcile) enqueue one job per this many locks (locks/rounds.py).
LOCK_ROUND_CHUNK = int(env_str("LOCK_ROUND_CHUNK", "50"))
EVENTS_SYNC_OVERLAP_SECONDS = int(env_str("EVENTS_SYNC_OVERLAP_SECONDS", "900"))
EVENTS_SYNC_LOOKBACK_DAYS = int(env_str("EVENTS_SYNC_LOOKBACK_DAYS", "30"))
MEDIA_MAX_BYTES = int(env_str("MEDIA_MAX_BYTES", str(10 * 1024 * 1024)))
MEDIA_FETCH_TIMEOUT_SECONDS = float(env_str("MEDIA_FETCH_TIMEOUT_SECONDS", "15"))

# Webhooks (webhooks/): owners' endpoints are called by the `webhooks` workers, so whoever registers one chooses
# where this server sends requests. Off (production), an endpoint must be https and public: its host may not be, or
# resolve to, a private, loopback or link-local address, checked when it is saved and again on every connection.
# On in development and tests (a receiver on 127.0.0.1). An endpoint failing every delivery for this many days is
# disabled and its organisation's owners are told.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", DEBUG)
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 5)

# Calendar feeds (bookings/): owners paste an iCalendar URL, so whoever adds one chooses where this server sends
# requests. Off (production), a feed's host may not be, or resolve to, a private, loopback or link-local address,
# checked when it is saved and again on every connection and redirect. On in development and tests (a server on
# 127.0.0.1). A body larger than FEED_MAX_BYTES or slower than the timeout fails the sync with that reason.
FEED_ALLOW_PRIVATE_URLS = env_bool("FEED_ALLOW_PRIVATE_URLS", DEBUG)
FEED_MAX_BYTES = env_int("FEED_MAX_BYTES", 5 * 1024 * 1024)
FEED_FETCH_TIMEOUT_SECONDS = float(env_str("FEED_FETCH_TIMEOUT_SECONDS", "20"))

# Links that leave the app (a guest's page in their message, a unit's calendar export) are made by workers, with no
# request to take the host from: this is the address guests and channel managers reach the app at.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The pages opened without signing in (a guest's page, a unit's calendar export): requests per minute per client
# address and per link (0 = no limit); past it 429 with Retry-After (bookings/public_limits.py).
GUEST_PAGE_RATE_LIMIT_PER_MINUTE = env_int("GUEST_PAGE_RATE_LIMIT_PER_MINUTE", 30)

# Logs go to stderr: one JSON object per line in production (LOG_FORMAT=json), readable lines in debug; each record
# carries the id of its request (config.middleware.RequestId) or RQ job. See config/logs.py.
LOG_FORMAT = env_str("LOG_FORMAT") or ("plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}")
LOGGING = logging_config(LOG_FORMAT, env_str("LOG_LEVEL", "INFO"))
