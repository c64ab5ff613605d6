"""Start-up checks of the billing configuration (`manage.py check`, and wsgi/asgi start-up).

Live mode talks to Cloudflare and loads Stripe.js from js.stripe.com; sandbox mode talks to the
local emulator. Anything missing, or a mix of the two, is an error that says what to set.
"""

import re

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from accounts.live_checks import host_of, live_errors

# A header as request.META names it: X-Forwarded-Proto is HTTP_X_FORWARDED_PROTO.
META_HEADER = re.compile(r"HTTP_[A-Z0-9_]+")


@checks.register("billing", deploy=False)
def check_billing_settings(app_configs=None, **kwargs):
    mode_errors = _sandbox_errors() if settings.BILLING_SANDBOX else live_errors()
    return (
        mode_errors
        + _budget_errors()
        + _encryption_key_errors()
        + _proxy_header_errors()
        + _email_url_errors()
    )


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


def _email_url_errors():
    """An EMAIL_URL that cannot be read (settings keep why, never the URL: it may hold a
    password); in either mode, since the sandbox sends through one too when it is set."""
    if not settings.EMAIL_URL_PROBLEM:
        return []
    return [
        checks.Error(
            f"EMAIL_URL {settings.EMAIL_URL_PROBLEM}.",
            hint="Set it as scheme://user:password@host:port, e.g. "
            "EMAIL_URL=smtp+tls://user:password@<your mail server>:587 (smtp, smtps, smtp+tls, "
            "smtp+ssl), a '/', '?', '#' or '%' in the user or password percent-encoded (%2F, "
            "%3F, %23, %25).",
            id="billing.E018",
        )
    ]


def _sandbox_errors():
    return _sandbox_endpoint_errors() + _sandbox_credential_errors()


def _sandbox_endpoint_errors():
    errors = []
    if host_of(settings.CLOUDFLARE_BASE_URL) == "api.cloudflare.com":
        errors.append(
            checks.Error(
                "BILLING_SANDBOX is true but CLOUDFLARE_BASE_URL points at Cloudflare.",
                hint="Unset CLOUDFLARE_BASE_URL to use the sandbox, or set BILLING_SANDBOX=false.",
                id="billing.E101",
            )
        )
    if host_of(settings.STRIPE_JS_URL) == "js.stripe.com":
        errors.append(
            checks.Error(
                "BILLING_SANDBOX is true but STRIPE_JS_URL loads the real Stripe.js, which cannot "
                "confirm the sandbox's payments.",
                hint="Unset STRIPE_JS_URL to use the sandbox stand-in, or BILLING_SANDBOX=false.",
                id="billing.E102",
            )
        )
    return errors


def _sandbox_credential_errors():
    """Live credentials beside BILLING_SANDBOX=true: a production environment switched to the
    sandbox by mistake, which would send them to the emulator and serve plain HTTP."""
    errors = []
    # The emulator accepts only its own credentials, so any other one is taken for a real one.
    foreign = [
        name
        for name, value, own in (
            ("CLOUDFLARE_API_TOKEN", settings.CLOUDFLARE_API_TOKEN, settings.SANDBOX_API_TOKEN),
            ("CLOUDFLARE_API_KEY", settings.CLOUDFLARE_API_KEY, settings.SANDBOX_GLOBAL_KEY),
        )
        if value not in ("", own)
    ]
    if foreign:
        errors.append(
            checks.Error(
                f"BILLING_SANDBOX is true but {' and '.join(foreign)} is not the sandbox's: a "
                "real credential would go to the emulator, and the site would serve plain HTTP.",
                hint=f"Set BILLING_SANDBOX=false for Cloudflare, or unset {', '.join(foreign)} "
                "to use the sandbox.",
                id="billing.E103",
            )
        )
    if settings.STRIPE_PUBLISHABLE_KEY.startswith("pk_live_"):
        errors.append(
            checks.Error(
                "BILLING_SANDBOX is true but STRIPE_PUBLISHABLE_KEY is a live key (pk_live_...).",
                hint="Set BILLING_SANDBOX=false for live payments, or unset "
                "STRIPE_PUBLISHABLE_KEY to use the sandbox's.",
                id="billing.E104",
            )
        )
    return errors


def raise_on_configuration_errors() -> None:
    """Refuse to serve with a broken billing configuration (gunicorn does not run checks)."""
    errors = [e for e in check_billing_settings() if e.is_serious()]
    if errors:
        lines = "\n".join(f"  {e.id}: {e.msg} HINT: {e.hint}" for e in errors)
        raise ImproperlyConfigured(f"Billing configuration errors:\n{lines}")
