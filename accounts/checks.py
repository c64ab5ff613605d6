"""Start-up checks of the billing configuration (`manage.py check`, and wsgi/asgi start-up).

Live mode talks to Cloudflare and loads Stripe.js from js.stripe.com; sandbox mode talks to the
local emulator. Anything missing, or a mix of the two, is an error that says what to set.
"""

import re
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# A header as request.META names it: X-Forwarded-Proto is HTTP_X_FORWARDED_PROTO.
META_HEADER = re.compile(r"HTTP_[A-Z0-9_]+")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 - names, not a bind


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


@checks.register("billing", deploy=False)
def check_billing_settings(app_configs=None, **kwargs):
    mode_errors = _sandbox_errors() if settings.BILLING_SANDBOX else _live_errors()
    return mode_errors + _budget_errors() + _encryption_key_errors() + _proxy_header_errors()


def _budget_errors():
    budget, reserve = settings.CLOUDFLARE_API_BUDGET, settings.CLOUDFLARE_API_BUDGET_RESERVE
    if budget > 0 and 0 <= reserve < budget and settings.CLOUDFLARE_API_BUDGET_WINDOW > 0:
        return []
    return [
        checks.Error(
            f"CLOUDFLARE_API_BUDGET={budget} with CLOUDFLARE_API_BUDGET_RESERVE={reserve} and "
            f"CLOUDFLARE_API_BUDGET_WINDOW={settings.CLOUDFLARE_API_BUDGET_WINDOW} leaves no "
            "calls for status checks.",
            hint="Use a positive budget and window, and a reserve (for creates) below the budget.",
            id="billing.E008",
        )
    ]


def _encryption_key_errors():
    keys = settings.CREDENTIALS_ENCRYPTION_KEYS
    bad = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:  # not 32 url-safe base64-encoded bytes
            bad.append(str(position))
    if not bad:
        return []
    # Positions, not values: even a wrong key may be a real one pasted into the wrong variable.
    return [
        checks.Error(
            f"CREDENTIALS_ENCRYPTION_KEY: key {', '.join(bad)} of {len(keys)} is not a Fernet key "
            "(32 url-safe base64-encoded bytes).",
            hint='Make one with python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"; several keys are comma-separated.',
            id="billing.E009",
        )
    ]


def _proxy_header_errors():
    header = settings.SECURE_PROXY_SSL_HEADER
    if header is None or (
        len(header) == 2 and META_HEADER.fullmatch(header[0]) and header[1].strip()
    ):
        return []
    return [
        checks.Error(
            f"DJANGO_SECURE_PROXY_SSL_HEADER={','.join(header)!r} is not a header name and the "
            "value that means HTTPS.",
            hint="Set it to the header as Django names it, a comma and the value, e.g. "
            "HTTP_X_FORWARDED_PROTO,https (for X-Forwarded-Proto: https), or unset it.",
            id="billing.E010",
        )
    ]


def _sandbox_errors():
    errors = []
    if _host(settings.CLOUDFLARE_BASE_URL) == "api.cloudflare.com":
        errors.append(
            checks.Error(
                "BILLING_SANDBOX is true but CLOUDFLARE_BASE_URL points at Cloudflare.",
                hint="Unset CLOUDFLARE_BASE_URL to use the sandbox, or set BILLING_SANDBOX=false.",
                id="billing.E101",
            )
        )
    if _host(settings.STRIPE_JS_URL) == "js.stripe.com":
        errors.append(
            checks.Error(
                "BILLING_SANDBOX is true but STRIPE_JS_URL loads the real Stripe.js, which cannot "
                "confirm the sandbox's payments.",
                hint="Unset STRIPE_JS_URL to use the sandbox stand-in, or BILLING_SANDBOX=false.",
                id="billing.E102",
            )
        )
    return errors


def _live_errors():
    errors = []
    token = settings.CLOUDFLARE_API_TOKEN
    email, key = settings.CLOUDFLARE_EMAIL, settings.CLOUDFLARE_API_KEY
    if not token and not (email and key):
        errors.append(
            checks.Error(
                "No Cloudflare credentials are configured.",
                hint="Set CLOUDFLARE_API_TOKEN (an API token with AI Gateway Write), or both "
                "CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY.",
                id="billing.E001",
            )
        )
    if bool(email) != bool(key):
        missing = "CLOUDFLARE_API_KEY" if email else "CLOUDFLARE_EMAIL"
        errors.append(
            checks.Error(
                "The global API key needs both CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY.",
                hint=f"Set {missing} too, or unset both and use CLOUDFLARE_API_TOKEN.",
                id="billing.E002",
            )
        )
    if token == settings.SANDBOX_API_TOKEN:
        errors.append(
            checks.Error(
                "CLOUDFLARE_API_TOKEN is the sandbox's token but BILLING_SANDBOX is false.",
                hint="Set a real Cloudflare API token, or BILLING_SANDBOX=true for the emulator.",
                id="billing.E003",
            )
        )
    base_url = urlsplit(settings.CLOUDFLARE_BASE_URL)
    if base_url.scheme != "https" or (base_url.hostname or "") in LOCAL_HOSTS:
        errors.append(
            checks.Error(
                f"CLOUDFLARE_BASE_URL={settings.CLOUDFLARE_BASE_URL!r} is not a live HTTPS API.",
                hint="Unset it to use https://api.cloudflare.com/client/v4, or set "
                "BILLING_SANDBOX=true to use the local emulator.",
                id="billing.E004",
            )
        )
    publishable_key = settings.STRIPE_PUBLISHABLE_KEY
    if not publishable_key.startswith(("pk_live_", "pk_test_")) or (
        publishable_key == settings.SANDBOX_PUBLISHABLE_KEY
    ):
        errors.append(
            checks.Error(
                "Live mode needs the publishable key of the Stripe account that owns Cloudflare's "
                "PaymentIntents.",
                hint="Set STRIPE_PUBLISHABLE_KEY=pk_live_... (Stripe.js can only confirm a "
                "PaymentIntent with that account's key).",
                id="billing.E005",
            )
        )
    if settings.STRIPE_JS_URL != settings.STRIPE_LIVE_JS_URL:
        errors.append(
            checks.Error(
                f"STRIPE_JS_URL={settings.STRIPE_JS_URL!r}: live mode must load Stripe.js from "
                f"{settings.STRIPE_LIVE_JS_URL}.",
                hint="Unset STRIPE_JS_URL: Stripe requires Stripe.js to load from its own host.",
                id="billing.E006",
            )
        )
    if settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        errors.append(
            checks.Error(
                "DJANGO_SECRET_KEY is not set.",
                hint="Set DJANGO_SECRET_KEY to a long random value (python -c 'import secrets; "
                "print(secrets.token_urlsafe(50))').",
                id="billing.E007",
            )
        )
    return errors


def raise_on_configuration_errors() -> None:
    """Refuse to serve with a broken billing configuration (gunicorn does not run checks)."""
    errors = [e for e in check_billing_settings() if e.is_serious()]
    if errors:
        lines = "\n".join(f"  {e.id}: {e.msg} HINT: {e.hint}" for e in errors)
        raise ImproperlyConfigured(f"Billing configuration errors:\n{lines}")
