"""The one exception family of the client: callers never see `requests` or raw envelopes.

`retryable` says whether asking again later is safe. `user_message` is a sentence safe to show a
person; the exception's own text is for logs and may hold internal detail.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiMessage:
    """One entry of the envelope's `errors` or `messages` list."""

    code: int
    message: str


class CloudflareError(Exception):
    """Base of every failure the client raises."""

    retryable = False
    default_message = "Cloudflare's billing API could not complete the request."

    def __init__(
        self,
        message: str = "",
        *,
        status_code: int | None = None,
        errors: tuple[ApiMessage, ...] = (),
    ) -> None:
        self.status_code = status_code
        self.errors = errors
        super().__init__(message or self.default_message)

    @property
    def user_message(self) -> str:
        return self.default_message


class CloudflareConfigurationError(CloudflareError):
    default_message = "The Cloudflare credentials for this account are not configured."


class CloudflareAuthError(CloudflareError):
    """401/403: the token or key is wrong, or lacks "AI Gateway Write" on this account."""

    default_message = "Cloudflare refused the credentials for this account."


class CloudflareValidationError(CloudflareError):
    """Cloudflare understood the request and refused it (4xx or `success: false`)."""

    default_message = "Cloudflare refused the request."

    @property
    def user_message(self) -> str:
        """Cloudflare's own words: they say what to change (e.g. the amount)."""
        messages = [error.message for error in self.errors if error.message]
        return " ".join(messages) or self.default_message


class CloudflareNotFound(CloudflareValidationError):
    """404 with Cloudflare's envelope: the id asked about is not known (to this account)."""


class CloudflareRateLimited(CloudflareError):
    """429: the token's request budget is spent; the request was not processed."""

    retryable = True
    default_message = "Cloudflare is rate limiting this account; try again shortly."

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
        errors: tuple[ApiMessage, ...] = (),
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code, errors=errors)


class CloudflareBudgetExhausted(CloudflareRateLimited):
    """Not sent: this portal's own share of the API budget is spent, or Cloudflare asked everyone
    to wait (a recent 429). Nothing reached Cloudflare, so nothing was charged."""


class CloudflareUnavailable(CloudflareError):
    """Cloudflare could not be reached or gave an answer that cannot be read (a read, or a write
    that provably never left this machine)."""

    retryable = True
    default_message = "Cloudflare's billing API is not reachable right now."


class CloudflareSlow(CloudflareUnavailable):
    """A read got no answer within its timeout (every attempt of it)."""

    default_message = "Cloudflare is slow to answer right now."


class CloudflareBusy(CloudflareSlow):
    """Not sent: as many reads as this process allows are already waiting on Cloudflare, which
    means it is slow to answer. Nothing reached Cloudflare."""


class CloudflareOutcomeUnknown(CloudflareError):
    """A money-moving call was sent and its answer was lost: the card may or may not be charged."""

    default_message = (
        "Cloudflare did not confirm whether the top-up went through. Your card may or may not "
        "have been charged."
    )
