"""Live mode refuses to start with missing or contradictory settings, and says what to set."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from accounts.checks import check_billing_settings, raise_on_configuration_errors
from tests.sandbox_process import ROOT


@pytest.fixture
def live(settings):
    settings.BILLING_SANDBOX = False
    settings.CLOUDFLARE_BASE_URL = "https://api.cloudflare.com/client/v4"
    settings.CLOUDFLARE_API_TOKEN = "real-token"
    settings.CLOUDFLARE_EMAIL = settings.CLOUDFLARE_API_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = "pk_live_123"
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    settings.SECRET_KEY = "a-real-secret-key-" + "x" * 40
    settings.ALLOWED_HOSTS = ["billing.example.com"]
    settings.SITE_URL = "https://billing.example.com"
    settings.CSRF_TRUSTED_ORIGINS = ["https://billing.example.com"]
    settings.EMAIL_URL_SET = True
    settings.DEFAULT_FROM_EMAIL = "AI Gateway billing <billing@billing.test>"
    settings.EMAIL_HOST = "smtp.billing.test"
    return settings


def ids(settings_obj=None):
    return sorted(error.id for error in check_billing_settings())


def test_complete_live_configuration_passes(live):
    assert ids() == []
    raise_on_configuration_errors()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"CLOUDFLARE_API_TOKEN": ""}, ["billing.E001"]),
        (
            {"CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_EMAIL": "a@b.c"},
            ["billing.E001", "billing.E002"],
        ),
        ({"CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_EMAIL": "a@b.c", "CLOUDFLARE_API_KEY": "k"}, []),
        ({"CLOUDFLARE_API_TOKEN": "sandbox-token"}, ["billing.E003"]),
        ({"CLOUDFLARE_BASE_URL": "http://127.0.0.1:8787/client/v4"}, ["billing.E004"]),
        ({"CLOUDFLARE_BASE_URL": "http://api.cloudflare.com/client/v4"}, ["billing.E004"]),
        ({"STRIPE_PUBLISHABLE_KEY": ""}, ["billing.E005"]),
        ({"STRIPE_PUBLISHABLE_KEY": "sk_live_oops"}, ["billing.E005"]),
        ({"STRIPE_PUBLISHABLE_KEY": "pk_test_sandbox"}, ["billing.E005"]),
        ({"STRIPE_PUBLISHABLE_KEY": "pk_live_"}, ["billing.E005"]),  # .env.example's, no key
        ({"STRIPE_PUBLISHABLE_KEY": "pk_test_51AbcDef"}, ["billing.E016"]),
        ({"STRIPE_JS_URL": "http://127.0.0.1:8787/stripe-js/v3/"}, ["billing.E006"]),
        (
            {"SECRET_KEY": "django-insecure-sandbox-only-key-never-use-in-production"},
            ["billing.E007"],
        ),
        ({"ALLOWED_HOSTS": ["127.0.0.1", "localhost"]}, ["billing.E011", "billing.E015"]),
        ({"ALLOWED_HOSTS": ["other.example.com"]}, ["billing.E015"]),
        ({"ALLOWED_HOSTS": [".example.com"]}, []),
        ({"ALLOWED_HOSTS": ["billing.example.com", "10.0.0.5"]}, []),
        # The default SITE_URL: nothing more is said about hosts or origins until it is right.
        ({"SITE_URL": "http://127.0.0.1:8000"}, ["billing.E012"]),
        ({"SITE_URL": "http://billing.example.com"}, ["billing.E012"]),
        ({"SITE_URL": "https://localhost"}, ["billing.E012"]),
        ({"SITE_URL": "billing.example.com"}, ["billing.E012"]),
        ({"EMAIL_URL_SET": False}, ["billing.E013"]),
        # The default, which real mail servers refuse to send from; no address; a placeholder.
        ({"DEFAULT_FROM_EMAIL": "AI Gateway billing <billing@localhost>"}, ["billing.E017"]),
        ({"DEFAULT_FROM_EMAIL": "AI Gateway billing"}, ["billing.E017"]),
        ({"DEFAULT_FROM_EMAIL": "billing@mail.example.com"}, ["billing.E017"]),
        ({"DEFAULT_FROM_EMAIL": "billing@billing.test"}, []),
        # .env.example's placeholders, and the RFC 2606 domains they are under.
        ({"EMAIL_HOST": "smtp.example.com"}, ["billing.E019"]),
        ({"EMAIL_HOST": "example.net"}, ["billing.E019"]),
        ({"EMAIL_HOST": "localhost"}, []),
        ({"SECRET_KEY": "change-me-to-a-long-random-string"}, ["billing.E020"]),
        ({"SECRET_KEY": "change-me" + "x" * 50}, ["billing.E020"]),
        ({"CSRF_TRUSTED_ORIGINS": []}, ["billing.E014"]),
        ({"CSRF_TRUSTED_ORIGINS": ["http://billing.example.com"]}, ["billing.E014"]),
        ({"CSRF_TRUSTED_ORIGINS": ["https://billing.example.com:8443"]}, ["billing.E014"]),
        ({"CSRF_TRUSTED_ORIGINS": ["https://*.example.com"]}, []),
        ({"CSRF_TRUSTED_ORIGINS": ["https://*.example.org"]}, ["billing.E014"]),
        (
            {
                "SITE_URL": "https://billing.example.com:8443/portal",
                "CSRF_TRUSTED_ORIGINS": ["https://billing.example.com:8443"],
            },
            [],
        ),
    ],
)
def test_live_mode_errors(live, changes, expected):
    for name, value in changes.items():
        setattr(live, name, value)
    assert ids() == expected


def test_publishable_key_error_says_what_to_set(live):
    live.STRIPE_PUBLISHABLE_KEY = ""
    with pytest.raises(ImproperlyConfigured) as info:
        raise_on_configuration_errors()
    message = str(info.value)
    assert "STRIPE_PUBLISHABLE_KEY" in message
    assert "Stripe account that owns Cloudflare's PaymentIntents" in message


def test_a_test_publishable_key_in_live_mode_says_it_cannot_confirm_live_payments(live):
    live.STRIPE_PUBLISHABLE_KEY = "pk_test_51AbcDef"
    with pytest.raises(ImproperlyConfigured) as info:
        raise_on_configuration_errors()
    message = str(info.value)
    assert "STRIPE_PUBLISHABLE_KEY=pk_live_" in message
    assert "cannot confirm" in message


@pytest.mark.parametrize(
    ("changes", "variable", "advice"),
    [
        (
            {"ALLOWED_HOSTS": ["127.0.0.1", "localhost"]},
            "DJANGO_ALLOWED_HOSTS",
            "billing.example.com",
        ),
        ({"ALLOWED_HOSTS": ["other.example.com"]}, "DJANGO_ALLOWED_HOSTS", "billing.example.com"),
        ({"SITE_URL": "http://127.0.0.1:8000"}, "SITE_URL", "https://"),
        ({"EMAIL_URL_SET": False}, "EMAIL_URL", "smtp://"),
        (
            {"DEFAULT_FROM_EMAIL": "AI Gateway billing <billing@localhost>"},
            "DEFAULT_FROM_EMAIL",
            "<billing@billing.example.com>",
        ),
        (
            {"SITE_URL": "https://pay.example.com:8443/x", "ALLOWED_HOSTS": ["pay.example.com"]},
            "DJANGO_CSRF_TRUSTED_ORIGINS",
            "https://pay.example.com:8443",
        ),
    ],
)
def test_each_site_error_says_what_to_set(live, changes, variable, advice):
    for name, value in changes.items():
        setattr(live, name, value)
    with pytest.raises(ImproperlyConfigured) as info:
        raise_on_configuration_errors()
    message = str(info.value)
    assert f"{variable}=" in message
    assert advice in message


def test_sandbox_mode_refuses_live_endpoints(settings):
    settings.BILLING_SANDBOX = True
    settings.CLOUDFLARE_BASE_URL = "https://api.cloudflare.com/client/v4"
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    assert ids() == ["billing.E101", "billing.E102"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"CLOUDFLARE_API_TOKEN": "a-real-looking-token-" + "x" * 19}, ["billing.E103"]),
        ({"CLOUDFLARE_API_TOKEN": ""}, []),
        (
            {"CLOUDFLARE_EMAIL": "sandbox@example.com", "CLOUDFLARE_API_KEY": "sandbox-global-key"},
            [],
        ),
        ({"CLOUDFLARE_EMAIL": "ops@example.com", "CLOUDFLARE_API_KEY": "f" * 37}, ["billing.E103"]),
        ({"STRIPE_PUBLISHABLE_KEY": "pk_live_51Abc"}, ["billing.E104"]),
        ({"STRIPE_PUBLISHABLE_KEY": "pk_test_sandbox"}, []),
    ],
)
def test_sandbox_mode_refuses_live_credentials(settings, changes, expected):
    """A production environment switched to the sandbox by mistake would send its real token to
    the emulator and serve plain HTTP: it does not start."""
    settings.BILLING_SANDBOX = True
    settings.CLOUDFLARE_API_TOKEN = "sandbox-token"
    settings.CLOUDFLARE_EMAIL = settings.CLOUDFLARE_API_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_sandbox"
    for name, value in changes.items():
        setattr(settings, name, value)
    errors = check_billing_settings()
    assert sorted(e.id for e in errors) == expected
    for error in errors:
        assert "BILLING_SANDBOX" in error.msg
        assert "x" * 19 not in error.msg + error.hint  # a token is a secret, even a wrong one


def test_manage_py_check_refuses_a_sandbox_with_a_live_token():
    result = _run(["manage.py", "check"], BILLING_SANDBOX="true", CLOUDFLARE_API_TOKEN="t" * 40)
    assert result.returncode != 0
    assert "billing.E103" in result.stderr


def _run(args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLOUDFLARE_", "STRIPE_", "BILLING_", "DJANGO_"))
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "billing_portal.settings", **env},
    )


def test_manage_py_check_fails_in_unconfigured_live_mode():
    result = _run(["manage.py", "check"])
    assert result.returncode != 0
    assert "billing.E001" in result.stderr
    assert "CLOUDFLARE_API_TOKEN" in result.stderr


def test_wsgi_refuses_to_start_in_unconfigured_live_mode():
    result = _run(["-c", "import billing_portal.wsgi"])
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "STRIPE_PUBLISHABLE_KEY" in result.stderr


def test_sandbox_mode_is_off_by_default_and_on_when_asked():
    assert "billing.E001" in _run(["manage.py", "check"]).stderr
    assert _run(["manage.py", "check"], BILLING_SANDBOX="true").returncode == 0


@pytest.mark.parametrize(
    ("budget", "reserve", "window"), [(0, 0, 300), (100, 100, 300), (100, -1, 300), (100, 10, 0)]
)
def test_a_budget_that_leaves_no_status_checks_is_an_error(settings, budget, reserve, window):
    settings.CLOUDFLARE_API_BUDGET = budget
    settings.CLOUDFLARE_API_BUDGET_RESERVE = reserve
    settings.CLOUDFLARE_API_BUDGET_WINDOW = window
    assert [e.id for e in check_billing_settings()] == ["billing.E008"]


@pytest.mark.parametrize("keys", [["notakey"], [Fernet.generate_key().decode(), "notakey"]])
def test_an_encryption_key_that_is_not_a_fernet_key_is_an_error(settings, keys):
    settings.CREDENTIALS_ENCRYPTION_KEYS = keys
    errors = check_billing_settings()
    assert [e.id for e in errors] == ["billing.E009"]
    assert "CREDENTIALS_ENCRYPTION_KEY" in errors[0].msg
    assert "notakey" not in errors[0].msg + errors[0].hint  # a key is a secret, even a wrong one


def test_fernet_keys_pass(settings):
    settings.CREDENTIALS_ENCRYPTION_KEYS = [Fernet.generate_key().decode() for _ in range(2)]
    assert check_billing_settings() == []


def test_manage_py_check_names_a_malformed_encryption_key():
    result = _run(
        ["manage.py", "check"], BILLING_SANDBOX="true", CREDENTIALS_ENCRYPTION_KEY="notakey"
    )
    assert result.returncode != 0
    assert "billing.E009" in result.stderr
    assert "CREDENTIALS_ENCRYPTION_KEY" in result.stderr


@pytest.mark.parametrize(
    "header",
    [
        ("X-Forwarded-Proto: https",),  # nginx's syntax, not a name and a value
        ("HTTP_X_FORWARDED_PROTO",),  # no value
        ("X-Forwarded-Proto", "https"),  # the header as sent, which request.META never holds
        ("HTTP_X_FORWARDED_PROTO", ""),
        ("HTTP_X_FORWARDED_PROTO", "https", "http"),
    ],
)
def test_a_malformed_proxy_ssl_header_is_an_error(settings, header):
    settings.SECURE_PROXY_SSL_HEADER = header
    errors = check_billing_settings()
    assert [e.id for e in errors] == ["billing.E010"]
    assert "DJANGO_SECURE_PROXY_SSL_HEADER" in errors[0].msg


@pytest.mark.parametrize("header", [None, ("HTTP_X_FORWARDED_PROTO", "https")])
def test_no_proxy_ssl_header_or_a_well_formed_one_passes(settings, header):
    settings.SECURE_PROXY_SSL_HEADER = header
    assert check_billing_settings() == []


@pytest.mark.parametrize(
    ("value", "returncode"),
    [
        ("X-Forwarded-Proto: https", 1),
        ("HTTP_X_FORWARDED_PROTO", 1),
        ("HTTP_X_FORWARDED_PROTO,https", 0),
    ],
)
def test_manage_py_check_names_a_malformed_proxy_ssl_header(value, returncode):
    result = _run(
        ["manage.py", "check"], BILLING_SANDBOX="true", DJANGO_SECURE_PROXY_SSL_HEADER=value
    )
    assert result.returncode == returncode, result.stderr
    assert ("DJANGO_SECURE_PROXY_SSL_HEADER" in result.stderr) == bool(returncode)


def test_spaces_around_the_proxy_ssl_header_parts_are_ignored():
    # " https" would never equal the header's value: every request would look like plain HTTP.
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    result = _run(
        ["manage.py", "shell", "-c", code],
        BILLING_SANDBOX="true",
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO, https",
    )
    assert result.stdout.splitlines()[-1] == "('HTTP_X_FORWARDED_PROTO', 'https')", result.stderr


def test_a_value_signed_with_the_previous_secret_key_is_still_accepted():
    # What keeps sessions and password-reset links alive while DJANGO_SECRET_KEY is rotated.
    old, new = "old-secret-key-" + "o" * 40, "new-secret-key-" + "n" * 40
    code = (
        "from django.core import signing; "
        f"print(signing.loads(signing.dumps('still signed in', key={old!r})))"
    )
    result = _run(
        ["manage.py", "shell", "-c", code],
        BILLING_SANDBOX="true",
        DJANGO_SECRET_KEY=new,
        DJANGO_SECRET_KEY_FALLBACKS=f"{old},another-old-key-" + "a" * 40,
    )
    assert result.stdout.splitlines()[-1] == "still signed in", result.stderr


# --- EMAIL_URL: empty is unset, a malformed one is a named error (never a traceback) ------------

SETTING = "from django.conf import settings; print(settings.{})"


def test_an_empty_email_url_is_unset():
    # .env.example's style for a variable left out: `EMAIL_URL=`.
    sandbox = _run(
        ["manage.py", "shell", "-c", SETTING.format("EMAIL_BACKEND")],
        BILLING_SANDBOX="true",
        EMAIL_URL="",
    )
    assert sandbox.stdout.splitlines()[-1] == "django.core.mail.backends.console.EmailBackend", (
        sandbox.stderr
    )
    live = _run(["manage.py", "check"], EMAIL_URL="")
    assert "billing.E013" in live.stderr
    assert "Traceback" not in live.stderr


def test_mail_gives_up_after_email_timeout_seconds():
    show = ["manage.py", "shell", "-c", SETTING.format("EMAIL_TIMEOUT")]
    default = _run(show, BILLING_SANDBOX="true")
    three = _run(show, BILLING_SANDBOX="true", EMAIL_TIMEOUT="3")
    assert default.stdout.splitlines()[-1] == "10.0", default.stderr
    assert three.stdout.splitlines()[-1] == "3.0", three.stderr


MALFORMED_EMAIL_URLS = [
    "smtp//oops",  # no scheme
    "smpt://mail.billing.test:25",  # a scheme django-environ does not know
    "smtp+tls://alerts:pw/with?odd#chars@mail.billing.test:587",  # unencoded '/', '?', '#'
    "smtp://mail.billing.test:twenty-five",
    "smtp://",  # no host
]


@pytest.mark.parametrize("url", MALFORMED_EMAIL_URLS)
def test_manage_py_check_names_a_malformed_email_url(url):
    result = _run(["manage.py", "check"], BILLING_SANDBOX="true", EMAIL_URL=url)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "billing.E018" in result.stderr
    assert "EMAIL_URL" in result.stderr
    # It may carry a password: never echoed, not even a part of it.
    assert url not in result.stderr
    assert "pw/with" not in result.stderr
    assert "chars" not in result.stderr


def test_wsgi_names_a_malformed_email_url_instead_of_a_traceback_from_settings():
    result = _run(["-c", "import billing_portal.wsgi"], EMAIL_URL="smtp//oops")
    assert "billing.E018" in result.stderr
    assert "Invalid email schema" not in result.stderr


def test_an_unencoded_at_sign_in_the_email_password_is_read_as_meant():
    # urllib splits the host off at the last '@': user and password keep theirs.
    code = "; ".join(
        [
            "from django.conf import settings",
            "print(settings.EMAIL_HOST, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)",
        ]
    )
    result = _run(
        ["manage.py", "shell", "-c", code],
        BILLING_SANDBOX="true",
        EMAIL_URL="smtp+tls://alerts@billing.test:p@ss@mail.billing.test:587",
    )
    assert result.stdout.splitlines()[-1] == "mail.billing.test alerts@billing.test p@ss", (
        result.stderr
    )


def test_an_unedited_copy_of_env_example_does_not_start_and_names_each_placeholder():
    example = (ROOT / ".env.example").read_text().splitlines()
    values = dict(line.split("=", 1) for line in example if line and not line.startswith("#"))
    result = _run(["manage.py", "check"], **values | {"DATABASE_URL": "sqlite:///:memory:"})
    assert result.returncode != 0
    for error, variable in [
        ("billing.E001", "CLOUDFLARE_API_TOKEN"),
        ("billing.E005", "STRIPE_PUBLISHABLE_KEY"),
        ("billing.E017", "DEFAULT_FROM_EMAIL"),
        ("billing.E019", "EMAIL_URL"),
        ("billing.E020", "DJANGO_SECRET_KEY"),
    ]:
        assert f"({error}) " in result.stderr
        assert variable in result.stderr
    assert "user:password@smtp.example.com" not in result.stderr  # EMAIL_URL: never echoed
