"""Start-up checks of the billing configuration (`manage.py check`, and wsgi/asgi start-up).

Live mode talks to Cloudflare and loads Stripe.js from js.stripe.com; sandbox mode talks to the
local emulator. Anything missing, or a mix of the two, is an error that says what to set.
"""

import re
from email.utils import parseaddr
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

# A header as request.META names it: X-Forwarded-Proto is HTTP_X_FORWARDED_PROTO.
META_HEADER = re.compile(r"HTTP_[A-Z0-9_]+")
# pk_live_ and the key itself: .env.example's bare prefix is no key.
LIVE_PUBLISHABLE_KEY = re.compile(r"pk_live_[A-Za-z0-9_]+")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 - names, not a bind
# Reserved for documentation (RFC 2606): .env.example's placeholders, never a real server.
PLACEHOLDER_DOMAINS = (".example.com", ".example.org", ".example.net")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


@checks.register("billing", deploy=False)
def check_billing_settings(app_configs=None, **kwargs):
    mode_errors = _sandbox_errors() if settings.BILLING_SANDBOX else _live_errors()
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


def _live_errors():
    return (
        _live_cloudflare_errors()
        + _live_stripe_errors()
        + _live_secret_key_errors()
        + _live_site_errors()
        + _live_email_errors()
    )


def _live_cloudflare_errors():
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
    return errors


def _live_stripe_errors():
    errors = []
    publishable_key = settings.STRIPE_PUBLISHABLE_KEY
    if publishable_key.startswith("pk_test_") and publishable_key != (
        settings.SANDBOX_PUBLISHABLE_KEY
    ):
        errors.append(
            checks.Error(
                "STRIPE_PUBLISHABLE_KEY is a test key (pk_test_...): it cannot confirm "
                "Cloudflare's PaymentIntents, which are live.",
                hint="Set STRIPE_PUBLISHABLE_KEY=pk_live_... (the publishable key of the Stripe "
                "account that owns Cloudflare's PaymentIntents), or BILLING_SANDBOX=true.",
                id="billing.E016",
            )
        )
    elif not LIVE_PUBLISHABLE_KEY.fullmatch(publishable_key):
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
    return errors


SIGNING_KEY_HINT = (
    "Set DJANGO_SECRET_KEY to a long random value (python -c 'import secrets; "
    "print(secrets.token_urlsafe(50))')."
)


def _live_secret_key_errors():
    if settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY:
        return [
            checks.Error("DJANGO_SECRET_KEY is not set.", hint=SIGNING_KEY_HINT, id="billing.E007")
        ]
    if settings.SECRET_KEY.startswith("change-me"):
        return [
            checks.Error(
                "DJANGO_SECRET_KEY is .env.example's placeholder (change-me...).",
                hint=SIGNING_KEY_HINT,
                id="billing.E020",
            )
        ]
    return []


def _live_site_errors():
    """The site's own address: the host names, SITE_URL and CSRF origins."""
    errors = []
    hosts = settings.ALLOWED_HOSTS
    if all(host.lower() in LOCAL_HOSTS for host in hosts):
        errors.append(
            checks.Error(
                f"DJANGO_ALLOWED_HOSTS={','.join(hosts)!r} names only this machine (the default).",
                hint="Set DJANGO_ALLOWED_HOSTS to the host names people reach the site at, e.g. "
                "DJANGO_ALLOWED_HOSTS=billing.example.com.",
                id="billing.E011",
            )
        )
    site = urlsplit(settings.SITE_URL)
    domain, port = split_domain_port(site.netloc.rpartition("@")[2])
    if site.scheme != "https" or not domain or (site.hostname or "") in LOCAL_HOSTS:
        errors.append(
            checks.Error(
                f"SITE_URL={settings.SITE_URL!r} is not the site's public HTTPS address (links "
                "in emails point there).",
                hint="Set SITE_URL to the address people reach the site at, e.g. "
                "SITE_URL=https://billing.example.com.",
                id="billing.E012",
            )
        )
        return errors  # hosts and origins are compared with SITE_URL once it is right
    if not validate_host(domain, hosts):
        errors.append(
            checks.Error(
                f"DJANGO_ALLOWED_HOSTS does not include {domain}, the host of SITE_URL: every "
                "page there would be refused (400).",
                hint=f"Add it: DJANGO_ALLOWED_HOSTS={','.join([*hosts, domain])}.",
                id="billing.E015",
            )
        )
    # As browsers send it in the Origin header: no default port.
    origin = f"https://{domain}" + (f":{port}" if port and port != "443" else "")
    if not _csrf_trusted(origin):
        errors.append(
            checks.Error(
                f"DJANGO_CSRF_TRUSTED_ORIGINS does not cover {origin}, the origin of SITE_URL: "
                "forms posted from it may be refused (403) behind a proxy.",
                hint=f"Add it: DJANGO_CSRF_TRUSTED_ORIGINS="
                f"{','.join([*settings.CSRF_TRUSTED_ORIGINS, origin])}.",
                id="billing.E014",
            )
        )
    return errors


def _csrf_trusted(origin: str) -> bool:
    """Whether CsrfViewMiddleware accepts this Origin by CSRF_TRUSTED_ORIGINS alone: an exact
    entry, or a wildcard one (https://*.example.com) of the same scheme."""
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    scheme, netloc = urlsplit(origin)[:2]
    return any(
        entry.scheme == scheme and is_same_domain(netloc, entry.netloc.lstrip("*"))
        for entry in (urlsplit(value) for value in trusted if "*" in value)
    )


def _live_email_errors():
    errors = []
    if not settings.EMAIL_URL_SET:
        errors.append(
            checks.Error(
                "EMAIL_URL is not set: low-balance alerts could not be sent.",
                hint="Set EMAIL_URL to the mail server, e.g. "
                "EMAIL_URL=smtp+tls://user:password@<your mail server>:587 (or smtp://localhost:25 "
                "for a mail server on this machine).",
                id="billing.E013",
            )
        )
    elif _placeholder(settings.EMAIL_HOST or ""):
        errors.append(
            checks.Error(
                f"EMAIL_URL's host {settings.EMAIL_HOST} is a placeholder (RFC 2606 reserves "
                "example.com, .org and .net for documentation): no mail would be sent.",
                hint="Set EMAIL_URL to your mail server, e.g. "
                "EMAIL_URL=smtp+tls://user:password@<your mail server>:587 (or "
                "smtp://localhost:25 for a mail server on this machine).",
                id="billing.E019",
            )
        )
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    domain = sender.rpartition("@")[2].lower() if "@" in sender else ""
    if (
        not domain
        or domain in LOCAL_HOSTS
        or f".{domain}".endswith(".localhost")
        or (_placeholder(domain))
    ):
        site = _host(settings.SITE_URL)
        example = site if site and site not in LOCAL_HOSTS else "your-domain"
        errors.append(
            checks.Error(
                f"DEFAULT_FROM_EMAIL={settings.DEFAULT_FROM_EMAIL!r} is not an address on a real "
                "domain: mail servers refuse to send from it, so alerts and password reset "
                "emails would not arrive.",
                hint="Set it to an address on the site's domain that EMAIL_URL's server may send "
                f"from, e.g. DEFAULT_FROM_EMAIL=AI Gateway billing <billing@{example}>.",
                id="billing.E017",
            )
        )
    return errors


def _placeholder(domain: str) -> bool:
    """A domain reserved for examples (RFC 2606), the domain itself or one under it."""
    return f".{domain.rstrip('.').lower()}".endswith(PLACEHOLDER_DOMAINS)


def raise_on_configuration_errors() -> None:
    """Refuse to serve with a broken billing configuration (gunicorn does not run checks)."""
    errors = [e for e in check_billing_settings() if e.is_serious()]
    if errors:
        lines = "\n".join(f"  {e.id}: {e.msg} HINT: {e.hint}" for e in errors)
        raise ImproperlyConfigured(f"Billing configuration errors:\n{lines}")
