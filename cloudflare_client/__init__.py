"""A typed client for Cloudflare's AI Gateway billing API. Plain Python: no Django in here.

    client = CloudflareClient(Credentials(api_token="..."))
    created = client.topups.create(account_id, amount_cents=5000)

Every answer is parsed into a frozen dataclass (`types`), every failure is one of the
`CloudflareError` subclasses (`errors`), and `transport` holds the timeouts and retry policy.
One module per resource of the API. The reads a cache keeps also have a `*_result` form, which
hands on Cloudflare's `result` as sent once the module's `parse_*` function accepts it: the
cache stores that and parses it with the same function when it reads it back.
"""

from typing import Any

from cloudflare_client.auto_topup import AutoTopUps
from cloudflare_client.balance import Balance
from cloudflare_client.errors import (
    ApiMessage,
    CloudflareAuthError,
    CloudflareBudgetExhausted,
    CloudflareBusy,
    CloudflareConfigurationError,
    CloudflareError,
    CloudflareNotFound,
    CloudflareOutcomeUnknown,
    CloudflareRateLimited,
    CloudflareSlow,
    CloudflareUnavailable,
    CloudflareValidationError,
)
from cloudflare_client.invoices import Invoices
from cloudflare_client.topups import TopUps
from cloudflare_client.transport import LIVE_BASE_URL, CallGate, Transport
from cloudflare_client.types import (
    AutoTopUp,
    Credentials,
    CreditBalance,
    Invoice,
    InvoiceHistory,
    InvoiceLine,
    InvoicePreview,
    PaymentMethod,
    TopUpCreated,
    TopUpLimits,
    TopUpStatus,
    UsageBucket,
)
from cloudflare_client.usage import Usage


class CloudflareClient:
    """One credential against one base URL; one attribute per resource."""

    def __init__(self, credentials: Credentials, **transport_options: Any) -> None:
        self.transport = Transport(credentials, **transport_options)
        self.topups = TopUps(self.transport)
        self.balance = Balance(self.transport)
        self.invoices = Invoices(self.transport)
        self.usage = Usage(self.transport)
        self.auto_topup = AutoTopUps(self.transport)


__all__ = [
    "LIVE_BASE_URL",
    "ApiMessage",
    "AutoTopUp",
    "CallGate",
    "CloudflareAuthError",
    "CloudflareBudgetExhausted",
    "CloudflareBusy",
    "CloudflareClient",
    "CloudflareConfigurationError",
    "CloudflareError",
    "CloudflareNotFound",
    "CloudflareOutcomeUnknown",
    "CloudflareRateLimited",
    "CloudflareSlow",
    "CloudflareUnavailable",
    "CloudflareValidationError",
    "Credentials",
    "CreditBalance",
    "Invoice",
    "InvoiceHistory",
    "InvoiceLine",
    "InvoicePreview",
    "PaymentMethod",
    "TopUpCreated",
    "TopUpLimits",
    "TopUpStatus",
    "TopUps",
    "UsageBucket",
]
