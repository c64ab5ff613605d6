"""Cloudflare's invoices of the account: the history (newest first, page by page) and the
upcoming one.

Contract: Cloudflare's API reference (https://developers.cloudflare.com/api/, AI Gateway billing)
and the published schemas `aig-billing_GetInvoiceHistoryResult` and
`aig-billing_GetInvoicePreviewResult`. A top-up made here appears in the history under its
`payment_intent_id` (documented as the invoice id).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from cloudflare_client.parsing import (
    MalformedResult,
    accepted_by,
    cents,
    optional,
    require,
    require_object,
    required_timestamp,
    timestamp,
)
from cloudflare_client.topups import billing_path
from cloudflare_client.transport import Transport
from cloudflare_client.types import (
    CreditAmount,
    Invoice,
    InvoiceHistory,
    InvoiceLine,
    InvoicePreview,
)

INVOICE_TYPES = ("all", "manual", "auto")
# A read of the whole history stops here, and says so (`complete` is False): a guard against an
# answer that always says has_more, and a bound on what one read spends of the API budget.
MAX_PAGES = 50


class Invoices:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def history(self, account_id: str, **options: Any) -> InvoiceHistory:
        """The account's invoices, parsed: `history_result` says which."""
        items, complete = self.history_result(account_id, **options)
        return InvoiceHistory(tuple(parse_invoice(item) for item in items), complete)

    # Reference: GET /accounts/{account_id}/ai-gateway/billing/invoice-history
    def history_result(
        self,
        account_id: str,
        *,
        type: str = "all",
        known: frozenset[str] = frozenset(),
        find: str | None = None,
        back_to: datetime | None = None,
        first_page: int = 1,
    ) -> tuple[list[Any], bool]:
        """The account's invoices as Cloudflare's objects, as sent (each accepted by
        parse_invoice), and whether they are all of them (InvoiceHistory's `complete`).
        Newest first as Cloudflare orders them, page by page to the oldest — or sooner: after
        the first page that reaches back past the newest invoice of `known` (ids read before:
        the rest was read then; invoices of the same second may come in any order), after the
        page holding `find`, after the page that reaches back past `back_to`, or after
        MAX_PAGES pages (unless `find` or `back_to` bounds the read: one invoice is looked
        for). A page that brings nothing new ends it too."""
        if type not in INVOICE_TYPES:
            raise ValueError(f"type must be one of {', '.join(INVOICE_TYPES)}")
        items: list[Any] = []
        invoices: list[Invoice] = []
        seen: set[str] = set()
        page = first_page
        while True:
            path = billing_path(account_id, f"invoice-history?type={type}&page={page}")
            result = self._transport.read("GET", path, parse=accepted_by(parse_history_page))
            batch, has_more = parse_history_page(result)
            ids = {invoice.id for invoice in batch if invoice.id}
            if batch and ids and ids <= seen:  # the same page again: pagination is broken
                return items, False
            items.extend(result["invoices"])
            invoices.extend(batch)
            seen |= ids
            if not has_more or not batch:
                return items, not has_more
            newest_known = next((i for i in invoices if i.id in known), None)
            caught_up = newest_known is not None and (
                newest_known.created is None or _reaches(batch, newest_known.created)
            )
            reached = back_to is not None and _reaches(batch, back_to)
            limit = find is None and back_to is None and page - first_page + 1 >= MAX_PAGES
            if caught_up or find in ids or reached or limit:
                return items, False
            page += 1

    # Reference: GET /accounts/{account_id}/ai-gateway/billing/invoice-preview
    def preview(self, account_id: str) -> InvoicePreview:
        path = billing_path(account_id, "invoice-preview")
        return self._transport.read("GET", path, parse=parse_preview)


def _reaches(batch: list[Invoice], moment: datetime) -> bool:
    return any(invoice.created and invoice.created < moment for invoice in batch)


def parse_history_page(result: object) -> tuple[list[Invoice], bool]:
    result = require_object(result)
    raw = require(result, "invoices", (list,))
    pagination = require(result, "pagination", (dict,))
    return [parse_invoice(item) for item in raw], require(pagination, "has_more", (bool,))


def parse_invoice(item: object) -> Invoice:
    item = require_object(item)
    return Invoice(
        id=optional(item, "id", (str,)),
        **_amounts(item),
        status=optional(item, "status", (str,)),
        created=timestamp(item.get("created")),
        created_by=optional(item, "created_by", (str,)),
        description=optional(item, "description", (str,)),
        invoice_origin=optional(item, "invoice_origin", (str,)),
        invoice_pdf=optional(item, "invoice_pdf", (str,)),
        attempt_count=optional(item, "attempt_count", (int,)),
        attempted=optional(item, "attempted", (bool,)),
        auto_advance=optional(item, "auto_advance", (bool,)),
    )


def parse_preview(result: object) -> InvoicePreview:
    result = require_object(result)
    return InvoicePreview(
        id=require(result, "id", (str,)),
        **_amounts(result),
        period_start=required_timestamp(result, "period_start"),
        period_end=required_timestamp(result, "period_end"),
        status=require(result, "status", (str,)),
        lines=tuple(_parse_line(line) for line in require(result, "invoice_lines", (list,))),
    )


class _Amounts(TypedDict):
    amount_due_cents: Decimal
    amount_paid_cents: Decimal
    amount_remaining_cents: Decimal
    currency: str


def _amounts(invoice: dict[str, Any]) -> _Amounts:
    """The amounts every invoice carries, in cents, and their currency."""
    return {
        "amount_due_cents": cents(invoice, "amount_due"),
        "amount_paid_cents": cents(invoice, "amount_paid"),
        "amount_remaining_cents": cents(invoice, "amount_remaining"),
        "currency": require(invoice, "currency", (str,)).lower(),
    }


def _parse_line(line: object) -> InvoiceLine:
    line = require_object(line)
    period = require(line, "period", (dict,))
    pricing = require(line, "pricing", (dict,))
    return InvoiceLine(
        amount_cents=cents(line, "amount"),
        currency=require(line, "currency", (str,)).lower(),
        description=optional(line, "description", (str,)),
        quantity=Decimal(require(line, "quantity", (int, Decimal))),
        period_start=required_timestamp(period, "start"),
        period_end=required_timestamp(period, "end"),
        unit_amount_dollars=_dollars(pricing.get("unit_amount_decimal")),
        pretax_credit_amounts=tuple(
            CreditAmount(
                amount_cents=cents(credit, "amount"),
                type=require(credit, "type", (str,)),
                credit_balance_transaction=optional(credit, "credit_balance_transaction", (str,)),
                discount=optional(credit, "discount", (str,)),
            )
            for credit in map(require_object, line.get("pretax_credit_amounts") or [])
        ),
    )


def _dollars(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedResult("'unit_amount_decimal' is not a number") from exc
