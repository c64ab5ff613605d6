"""The Django side of `cloudflare_client`: settings and an account row in, a client out.

A client (and its pooled HTTP sessions) is kept per thread and per configuration, so a worker
reuses connections to Cloudflare instead of opening one per call. Every client spends its
credential's API budget, held in the database (accounts.budget).
"""

import threading

from django.conf import settings

from accounts.budget import DatabaseBudget, credential_fingerprint
from accounts.credentials import unseal
from cloudflare_client import CloudflareClient, CloudflareConfigurationError, Credentials

_per_thread = threading.local()


def credentials_from_settings(credential: str = "api_token") -> Credentials:
    """The credential an account is configured to use, read from settings (the environment)."""
    if credential == "global_key":
        if not (settings.CLOUDFLARE_EMAIL and settings.CLOUDFLARE_API_KEY):
            raise CloudflareConfigurationError(
                "This account uses the global API key: set CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY."
            )
        return Credentials(email=settings.CLOUDFLARE_EMAIL, api_key=settings.CLOUDFLARE_API_KEY)
    if not settings.CLOUDFLARE_API_TOKEN:
        raise CloudflareConfigurationError(
            "This account uses an API token: set CLOUDFLARE_API_TOKEN."
        )
    return Credentials(api_token=settings.CLOUDFLARE_API_TOKEN)


def credentials_for_account(account) -> Credentials:
    if account.credential == account.Credential.STORED:
        return unseal(account.sealed_credential)
    return credentials_from_settings(account.credential)


def client_for_account(account) -> CloudflareClient:
    """A client with the credential `account.credential` names. Raises
    CloudflareConfigurationError when that credential is not configured (or cannot be opened).
    Each credential spends its own API budget: Cloudflare counts per token."""
    credentials = credentials_for_account(account)
    options = {
        "base_url": settings.CLOUDFLARE_BASE_URL,
        "connect_timeout": settings.CLOUDFLARE_CONNECT_TIMEOUT,
        "read_timeout": settings.CLOUDFLARE_READ_TIMEOUT,
    }
    key = (credentials, *options.values())
    clients = _per_thread.__dict__.setdefault("clients", {})
    if key not in clients:
        gate = DatabaseBudget(credential_fingerprint(credentials, settings.CLOUDFLARE_BASE_URL))
        clients[key] = CloudflareClient(credentials, gate=gate, **options)
    return clients[key]
