"""Per-account Cloudflare credentials, for people who manage several Cloudflare organisations.

Stored sealed with Fernet (AES-128-CBC and HMAC-SHA256, from `cryptography`) under
CREDENTIALS_ENCRYPTION_KEY, which lives in the environment and never in the database: a copy
of the database alone reveals nothing. Several comma-separated keys allow rotation: the first
seals, any of them opens, and `manage.py reseal_credentials` re-seals everything with the first.

Nothing here logs, and no exception carries a secret: Credentials keeps its secrets out of repr.
"""

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from cloudflare_client import CloudflareConfigurationError, Credentials

NO_KEY = "Set CREDENTIALS_ENCRYPTION_KEY to store credentials for an account."
NO_KEY_TO_OPEN = (
    "This account's stored credential cannot be opened: CREDENTIALS_ENCRYPTION_KEY is not set "
    "(set it to the key the credential was stored with)."
)
CANNOT_OPEN = (
    "This account's stored credential cannot be opened with the configured keys: "
    "CREDENTIALS_ENCRYPTION_KEY does not hold the key it was stored with."
)


def encryption_configured() -> bool:
    return bool(settings.CREDENTIALS_ENCRYPTION_KEYS)


def _fernet(*, missing: str = NO_KEY_TO_OPEN) -> MultiFernet:
    if not encryption_configured():
        raise CloudflareConfigurationError(missing)
    try:
        return MultiFernet([Fernet(key) for key in settings.CREDENTIALS_ENCRYPTION_KEYS])
    except ValueError as exc:  # not 32 url-safe base64-encoded bytes
        raise CloudflareConfigurationError(
            "CREDENTIALS_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated."
        ) from exc


def seal(credentials: Credentials) -> str:
    if credentials.api_token:
        fields = {"api_token": credentials.api_token}
    else:
        fields = {"email": credentials.email, "api_key": credentials.api_key}
    return seal_text(json.dumps(fields))


def unseal(sealed: str) -> Credentials:
    return Credentials(**json.loads(open_sealed(sealed)))


def seal_text(secret: str) -> str:
    """Any secret sealed as the credentials are (a webhook's signing secret, a Slack URL)."""
    return _fernet(missing=NO_KEY).encrypt(secret.encode()).decode()


def open_sealed(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise CloudflareConfigurationError(CANNOT_OPEN) from None


def reseal(sealed: str) -> str:
    """The same credentials sealed with the first key (after a rotation)."""
    try:
        return _fernet().rotate(sealed.encode()).decode()
    except InvalidToken:
        raise CloudflareConfigurationError(CANNOT_OPEN) from None
