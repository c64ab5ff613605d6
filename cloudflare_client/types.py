"""Typed values: what the client sends with and what Cloudflare's answers are parsed into."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from cloudflare_client.errors import CloudflareConfigurationError

STATUS_COMPLETED = "completed"
STATUS_PENDING = "pending"


@dataclass(frozen=True)
class Credentials:
    """Either an API token (preferred) or the legacy email + global API key."""

    api_token: str = field(default="", repr=False)
    email: str = ""
    api_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
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


# --- the account's balance, invoices and usage: every amount is Decimal cents -----------------


@dataclass(frozen=True)
class PaymentMethod:
    brand: str
    last4: str


@dataclass(frozen=True)
class AutoTopUp:
    """Cloudflare's auto top-up: when the balance falls below `threshold_cents`, it charges
    `amount_cents` to the default card. All fields may be null (not configured)."""

    amount_cents: Decimal | None
    threshold_cents: Decimal | None
    disabled_reason: str | None
    error: str | None
    last_failed_at: datetime | None

    @property
    def configured(self) -> bool:
        return self.amount_cents is not None and self.threshold_cents is not None

    @property
    def active(self) -> bool:
        return self.configured and not self.disabled_reason


@dataclass(frozen=True)
class CreditBalance:
    balance_cents: Decimal
    has_default_payment_method: bool
    payment_method: PaymentMethod | None
    auto_topup: AutoTopUp
    first_topup_success: bool | None


@dataclass(frozen=True)
class Invoice:
    id: str | None
    amount_due_cents: Decimal
    amount_paid_cents: Decimal
    amount_remaining_cents: Decimal
    currency: str
    status: str | None
    created: datetime | None
    created_by: str | None
    description: str | None
    invoice_origin: str | None
    invoice_pdf: str | None
    attempt_count: int | None
    attempted: bool | None
    auto_advance: bool | None


@dataclass(frozen=True)
class InvoiceHistory:
    """Invoices as read, newest first, and whether they are all of them: `complete` is False
    when the read stopped before Cloudflare's oldest page (at the page limit, or once what it
    was asked for was read). Iterates as the invoices."""

    invoices: tuple[Invoice, ...]
    complete: bool

    def __iter__(self) -> Iterator[Invoice]:
        return iter(self.invoices)

    def __len__(self) -> int:
        return len(self.invoices)

    def get(self, invoice_id: str | None) -> Invoice | None:
        """The invoice with that id; none for no id (an invoice without one is nobody's)."""
        if invoice_id is None:
            return None
        return next((invoice for invoice in self.invoices if invoice.id == invoice_id), None)

    def reaches(self, moment: datetime) -> bool:
        """Whether every invoice made since `moment` is here: all were read, or one older."""
        return self.complete or any(i.created and i.created < moment for i in self.invoices)


@dataclass(frozen=True)
class CreditAmount:
    amount_cents: Decimal
    type: str
    credit_balance_transaction: str | None
    discount: str | None


@dataclass(frozen=True)
class InvoiceLine:
    amount_cents: Decimal
    currency: str
    description: str | None
    quantity: Decimal
    period_start: datetime
    period_end: datetime
    unit_amount_dollars: Decimal | None  # `unit_amount_decimal`: a string, in dollars
    pretax_credit_amounts: tuple[CreditAmount, ...]


@dataclass(frozen=True)
class InvoicePreview:
    id: str
    amount_due_cents: Decimal
    amount_paid_cents: Decimal
    amount_remaining_cents: Decimal
    currency: str
    period_start: datetime
    period_end: datetime
    status: str
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True)
class UsageBucket:
    id: str
    spend_cents: Decimal
    start: datetime
    end: datetime
