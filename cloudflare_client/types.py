"""Typed values: what the client sends with and what Cloudflare's answers are parsed into."""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudflare_client.errors import CloudflareConfigurationError

STATUS_COMPLETED = "completed"
STATUS_PENDING = "pending"


@dataclass(frozen=True)
class Credentials:
    """Either an API token (preferred) or the legacy email + global API key."""

    api_token: str = field(default="", repr=False)
    email: str = ""
    api_key: str = field(default="", repr=False)

    def __post_init__(self):
        if not self.api_token and not (self.email and self.api_key):
            raise CloudflareConfigurationError(
                "Set CLOUDFLARE_API_TOKEN, or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY."
            )

    def headers(self) -> dict[str, str]:
        if self.api_token:
            return {"Authorization": f"Bearer {self.api_token}"}
        return {"X-Auth-Email": self.email, "X-Auth-Key": self.api_key}


@dataclass(frozen=True)
class TopUpCreated:
    payment_intent_id: str
    client_secret: str | None = field(repr=False)
    onboarding: bool
    brand: str | None
    last4: str | None

    @property
    def needs_browser_confirmation(self) -> bool:
        return self.client_secret is not None


@dataclass(frozen=True)
class TopUpStatus:
    payment_intent_id: str
    status: str

    @property
    def is_completed(self) -> bool:
        return self.status == STATUS_COMPLETED


@dataclass(frozen=True)
class TopUpLimits:
    currency: str
    min_cents: int
    max_cents: int
