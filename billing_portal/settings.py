"""Settings for the billing portal.

Everything that differs between a laptop and production comes from the environment (or a `.env`
file beside manage.py), using the variable names Cloudflare's own tools use. Sandbox mode
(`BILLING_SANDBOX=true`) points every integration at the local emulator; it is off by default so a
production deploy never talks to the emulator by accident. Contradictory or missing live settings
are reported by the system checks in `accounts/checks.py`, which also run when the WSGI app starts.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from billing_portal.csp import content_security_policy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Only when there is one: without it the environment comes from the process, and django-environ
# would log that it is missing on every start.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

BILLING_SANDBOX = env.bool("BILLING_SANDBOX", default=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Only ever used when sandbox mode is on; a live deploy without DJANGO_SECRET_KEY fails its checks.
INSECURE_DEV_SECRET_KEY = "django-insecure-sandbox-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env("DJANGO_SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
# Previous keys, still accepted for what they signed (sessions, reset links) during a rotation.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # WhiteNoise serves static files under runserver too, exactly as in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "accounts.apps.AccountsConfig",
    "notifications.apps.NotificationsConfig",
    "topups.apps.TopupsConfig",
    "finance.apps.FinanceConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # After the headers above (none reads the Host of /healthz: it is exempt from the HTTPS
    # redirect), before the first that does.
    "billing_portal.health.HealthzMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
    # Cloudflare reads made for a page are bounded (accounts/cloudflare.py).
    "accounts.middleware.CloudflarePageCalls",
]

ROOT_URLCONF = "billing_portal.urls"
WSGI_APPLICATION = "billing_portal.wsgi.application"

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
                "accounts.context_processors.billing_mode",
                "accounts.context_processors.navigation",
                "accounts.context_processors.account_bar",
            ],
            "builtins": ["accounts.templatetags.billing"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue up instead of failing with "database is locked"; IMMEDIATE makes a
    # transaction take the write lock up front: SQLite's stand-in for SELECT ... FOR UPDATE.
    # WAL lets pages read while a worker writes, and a commit syncs one file instead of two.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    )
# Each worker thread keeps its connection between requests instead of opening one per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 for new and re-hashed passwords; older hashes still verify and are upgraded at sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses sign-in while locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes, failures kept in the database so every worker sees them):
# after AXES_FAILURE_LIMIT failures for one username from one address, that pair is locked out
# for the cool-off, answered with 429 and a page that says so.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "accounts.lockout.sign_in_locked_out"
AXES_RESET_ON_SUCCESS = True
# Off: its only extra is a start-up banner on stderr, which cron would mail on every run.
AXES_VERBOSE = False
# Failure and lockout warnings name the username and client address, to be acted on (axes masks
# them by default); the password is masked whatever this says.
AXES_SENSITIVE_PARAMETERS: list[str] = []
# The address is the client's as the proxies in front saw it (see accounts/lockout.py): with
# DJANGO_PROXY_COUNT=0 it is REMOTE_ADDR and X-Forwarded-For, which anyone can write, is ignored.
# Not django-ipware: its proxy count leaves out the proxy that is REMOTE_ADDR, and its lenient mode
# lets a client's malformed entry shift which address is taken.
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.sign_in_client_address"
PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("DJANGO_PROXY_COUNT must be 0 (no proxy) or more.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "topups:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# `collectstatic` writes hashed, compressed copies; WhiteNoise serves them with far-future caching.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "billing_portal.storage.StaticFilesStorage"},
}

# --- HTTPS and headers ------------------------------------------------------------------------
# Everywhere but the local sandbox the site is HTTPS only. Behind a proxy that terminates TLS,
# set DJANGO_SECURE_PROXY_SSL_HEADER (e.g. "HTTP_X_FORWARDED_PROTO,https") and make sure the
# proxy overwrites that header.
HTTPS_ONLY = env.bool("DJANGO_HTTPS_ONLY", default=not BILLING_SANDBOX)
# Spaces stripped: " https" would never equal the header's value. The shape is checked in
# accounts/checks.py (a malformed one would be a 500 on every request).
SECURE_PROXY_SSL_HEADER = (
    tuple(part.strip() for part in env.tuple("DJANGO_SECURE_PROXY_SSL_HEADER", default=())) or None
)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is opt-in: once on the browsers' built-in list, a domain stays HTTPS-only for
# months after it asks to leave. So `check --deploy`'s advice to preload (W021) is silenced.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=HTTPS_ONLY)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Cloudflare -------------------------------------------------------------------------------
CLOUDFLARE_LIVE_BASE_URL = "https://api.cloudflare.com/client/v4"
SANDBOX_HOST = env("SANDBOX_HOST", default="127.0.0.1")
SANDBOX_API_PORT = env.int("SANDBOX_API_PORT", default=8787)
SANDBOX_URL = f"http://{SANDBOX_HOST}:{SANDBOX_API_PORT}"
LOCALSTRIPE_URL = f"http://{SANDBOX_HOST}:{env.int('LOCALSTRIPE_PORT', default=8420)}"
# Credentials the sandbox accepts; see sandbox/config.py.
SANDBOX_API_TOKEN = "sandbox-token"  # noqa: S105 - the emulator's public token
SANDBOX_GLOBAL_KEY = "sandbox-global-key"

CLOUDFLARE_BASE_URL = env(
    "CLOUDFLARE_BASE_URL",
    default=f"{SANDBOX_URL}/client/v4" if BILLING_SANDBOX else CLOUDFLARE_LIVE_BASE_URL,
).rstrip("/")
CLOUDFLARE_API_TOKEN = env(
    "CLOUDFLARE_API_TOKEN", default=SANDBOX_API_TOKEN if BILLING_SANDBOX else ""
)
CLOUDFLARE_EMAIL = env("CLOUDFLARE_EMAIL", default="")
CLOUDFLARE_API_KEY = env("CLOUDFLARE_API_KEY", default="")
# Accounts of other Cloudflare organisations may carry their own credential, sealed with these
# Fernet keys (comma-separated; the first seals, any opens: see accounts/credentials.py).
# In sandbox mode a fixed, public key lets `make run` store the demo's webhook secrets; a live
# deploy has no default: without a key of its own, it stores no secret at all.
SANDBOX_ENCRYPTION_KEY = "c2FuZGJveC1vbmx5LW5ldmVyLWluLXByb2R1Y3Rpb24="
CREDENTIALS_ENCRYPTION_KEYS = env.list(
    "CREDENTIALS_ENCRYPTION_KEY", default=[SANDBOX_ENCRYPTION_KEY] if BILLING_SANDBOX else []
)
# The account `manage.py add_account` adds when none is named.
CLOUDFLARE_ACCOUNT_ID = env(
    "CLOUDFLARE_ACCOUNT_ID",
    default="023e105f4ecef8ad9ca31a8372d0c353" if BILLING_SANDBOX else "",
)
CLOUDFLARE_CONNECT_TIMEOUT = env.float("CLOUDFLARE_CONNECT_TIMEOUT", default=3.05)
CLOUDFLARE_READ_TIMEOUT = env.float("CLOUDFLARE_READ_TIMEOUT", default=20.0)
# Reads made for a page: one attempt this long, and at most this many threads of a process
# waiting on them at once; the others answer from the database (accounts/cloudflare.py).
CLOUDFLARE_PAGE_READ_TIMEOUT = env.float("CLOUDFLARE_PAGE_READ_TIMEOUT", default=4.0)
CLOUDFLARE_PAGE_READ_SLOTS = env.int("CLOUDFLARE_PAGE_READ_SLOTS", default=2)
# One budget per credential, shared by every worker through the database (accounts/budget.py).
# Cloudflare allows about 1,200 calls per 5 minutes; fixed windows can be spent back to back, so
# the budget stays at half of that. The reserve is kept for creates: polling never spends it.
CLOUDFLARE_API_BUDGET = env.int("CLOUDFLARE_API_BUDGET", default=600)
CLOUDFLARE_API_BUDGET_RESERVE = env.int("CLOUDFLARE_API_BUDGET_RESERVE", default=100)
# Reads that can wait (invoices, usage, balance) stop once a window holds this many calls: the
# rest goes to the status of top-ups people are waiting on.
CLOUDFLARE_API_BUDGET_DEFERRABLE = env.int("CLOUDFLARE_API_BUDGET_DEFERRABLE", default=300)
CLOUDFLARE_API_BUDGET_WINDOW = env.int("CLOUDFLARE_API_BUDGET_WINDOW", default=300)
# Used when the limits endpoint does not answer, with Cloudflare's minimum (TOPUP_MIN_CENTS).
TOPUP_MAX_CENTS = env.int("TOPUP_MAX_CENTS", default=1_000_000)
# At most this many top-ups started per account and hour (a runaway script, a stolen session).
TOPUP_CAP_PER_HOUR = env.int("TOPUP_CAP_PER_HOUR", default=10)
# A top-up still pending after this long needs a person: it is marked stale for finance.
TOPUP_STALE_AFTER_MINUTES = env.int("TOPUP_STALE_AFTER_MINUTES", default=120)
# A top-up needing finance (the desk's queue) this long is notified (topup.waiting_for_finance),
# once, by the hourly reconcile_invoices.
FINANCE_WAIT_HOURS = env.int("FINANCE_WAIT_HOURS", default=24)
if FINANCE_WAIT_HOURS < 1:
    raise ImproperlyConfigured("FINANCE_WAIT_HOURS must be 1 or more.")
# How many status checks one request (or the refresh command) sends to Cloudflare at once.
TOPUP_REFRESH_CONCURRENCY = env.int("TOPUP_REFRESH_CONCURRENCY", default=4)

# --- Stripe.js (the browser half of the payment) ----------------------------------------------
STRIPE_LIVE_JS_URL = "https://js.stripe.com/v3/"
SANDBOX_PUBLISHABLE_KEY = "pk_test_sandbox"
STRIPE_PUBLISHABLE_KEY = env(
    "STRIPE_PUBLISHABLE_KEY", default=SANDBOX_PUBLISHABLE_KEY if BILLING_SANDBOX else ""
)
STRIPE_JS_URL = env(
    "STRIPE_JS_URL",
    default=f"{SANDBOX_URL}/stripe-js/v3/" if BILLING_SANDBOX else STRIPE_LIVE_JS_URL,
)

CONTENT_SECURITY_POLICY = content_security_policy(
    stripe_js_url=STRIPE_JS_URL,
    sandbox_origins=(SANDBOX_URL, LOCALSTRIPE_URL) if BILLING_SANDBOX else (),
)

# --- Email (notifications, password reset) ----------------------------------------------------
# The sandbox prints mail to the console; live mode sends through EMAIL_URL (smtp://...) and
# refuses to start without it. Empty (`EMAIL_URL=`) is unset. A password may be in it, so only
# whether it is set and, when it cannot be read, why (EMAIL_URL_PROBLEM) are kept of the URL:
# accounts/checks.py reports them, where raising here would be a traceback naming neither.
_email_url = env("EMAIL_URL", default="").strip()
EMAIL_URL_SET = bool(_email_url)
EMAIL_URL_PROBLEM = ""
if BILLING_SANDBOX and not EMAIL_URL_SET:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    try:
        EMAIL_CONFIG = env.email_url_config(_email_url or "smtp://localhost:25")
    except ImproperlyConfigured:  # "Invalid email schema"
        EMAIL_URL_PROBLEM = "does not start with a scheme django-environ knows"
    except ValueError:  # a port that is not a number, an unbalanced [ (never str(exc): secrets)
        EMAIL_URL_PROBLEM = (
            "has a port that is not a number, or a '/', '?' or '#' in its user or password"
        )
    else:
        if (
            EMAIL_CONFIG["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
            and not EMAIL_CONFIG["EMAIL_HOST"]
        ):
            EMAIL_URL_PROBLEM = "names no mail server host"
        vars().update(EMAIL_CONFIG)  # django-environ's documented way: EMAIL_HOST, EMAIL_PORT, ...
del _email_url
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="AI Gateway billing <billing@localhost>")
# People may reset a forgotten password by email only where a mail server is configured.
PASSWORD_RESET_BY_EMAIL = EMAIL_URL_SET
# Seconds each step of talking to the mail server may take: a mail server that hangs must not
# hold a sender (or a password reset page) for long.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
# Where links in emails point: the site's address as people reach it.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # One JSON object a line, as gunicorn's own lines and its access log.
        "json": {"()": "billing_portal.log_formats.JsonFormatter"},
    },
    "filters": {"redact_secrets": {"()": "billing_portal.log_filters.RedactSecrets"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs full URLs at DEBUG; keep it quiet so nothing sensitive leaks by accident.
        "urllib3": {"level": "WARNING"},
        # runserver's request log: it prints full URLs, so it goes through the redacting handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
