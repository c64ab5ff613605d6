"""The live-mode half of the billing configuration checks (accounts.checks runs them): the
Cloudflare and Stripe settings, the secret key, the site's address and hosts, and the mail.
Each error names the variable to set."""

import re
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

# pk_live_ and the key itself: .env.example's bare prefix is no key.
LIVE_PUBLISHABLE_KEY = re.compile(r"pk_live_[A-Za-z0-9_]+")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 - names, not a bind
# Reserved for documentation (RFC 2606): .env.example's placeholders, never a real server.
PLACEHOLDER_DOMAINS = (".example.com", ".example.org", ".example.net")


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def live_errors():
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
                "EMAIL_URL is not set: email notifications could not be sent.",
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
        site = host_of(settings.SITE_URL)
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
