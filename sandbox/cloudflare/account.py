"""The account's side of Cloudflare's billing API: credit balance, auto top-up settings, usage
history and invoices, all read from the account's books (sandbox.cloudflare.ledger).

Shapes follow Cloudflare's published schemas (`aig-billing_GetCreditBalanceResult`, ...), every
amount in cents. Writes to `topup/config` answer 403, as Cloudflare documents for API tokens,
unless the sandbox setting `topup_config_writes` accepts them.
"""

import time
from datetime import UTC, datetime
from decimal import Decimal

import stripe

from sandbox.cloudflare import contract
from sandbox.cloudflare.ledger import (
    HOUR,
    AccountBook,
    AutoTopUpConfig,
    InvoiceEntry,
    auto_invoice,
    demo_books,
)
from sandbox.config import SandboxConfig
from sandbox.payments import Payments, mint_invoice_id

INVOICES_PER_PAGE = 5  # small, so that the demo past spans several pages
MAX_USAGE_BUCKETS = 24 * 92  # about three months of hours
DEMO_CARD = "4242424242424242"


def _number(value: Decimal):
    """A JSON number as Cloudflare sends it: an int when whole, else a fraction of a cent."""
    return int(value) if value == value.to_integral_value() else float(round(value, 4))


class AccountEmulator:
    def __init__(self, config: SandboxConfig, payments: Payments):
        self.config = config
        self.payments = payments
        self.books: dict[str, AccountBook] = {}

    async def open_books(self) -> None:
        """Fresh books for every account: a demo past, or empty ones (tests)."""
        now = int(time.time())
        if self.config.demo_history:
            self.books = demo_books(self.config.accounts, now, mint_invoice_id)
            await self._save_demo_card(self.config.accounts[0])
        else:
            self.books = {
                account_id: AccountBook(account_id, now - now % HOUR, Decimal(0), Decimal(0))
                for account_id in self.config.accounts
            }

    async def _save_demo_card(self, account_id: str) -> None:
        customer = await self.payments.customer_for(account_id)
        stripe_v1 = self.payments.stripe.v1
        method = await stripe_v1.payment_methods.create_async(
            params={
                "type": "card",
                "card": {"number": DEMO_CARD, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            }
        )
        await stripe_v1.payment_methods.attach_async(method.id, params={"customer": customer})
        await stripe_v1.customers.update_async(
            customer, params={"invoice_settings": {"default_payment_method": method.id}}
        )

    # --- reads ---------------------------------------------------------------------------------

    async def credit_balance(self, account_id: str) -> dict:
        book = await self._current_book(account_id)
        method = await self.payments.default_card(account_id)
        return {
            "balance": _number(book.balance_at(int(time.time()))),
            "has_default_payment_method": method is not None,
            "payment_method": method,
            "topup_config": book.auto_topup.as_result(),
            "first_topup_success": any(i.kind == "manual" for i in book.invoices),
        }

    async def set_balance(
        self, account_id: str, balance: Decimal, hourly_rate: Decimal | None = None
    ) -> dict:
        """A control, not Cloudflare's: see AccountBook.set_balance."""
        book = await self._current_book(account_id)
        book.set_balance(balance, int(time.time()), hourly_rate)
        return await self.credit_balance(account_id)

    async def topup_config(self, account_id: str) -> dict:
        return (await self._current_book(account_id)).auto_topup.as_result()

    async def usage_history(self, account_id: str, query) -> dict:
        book = await self._current_book(account_id)
        window = query.get("value_grouping_window")
        if window not in ("hour", "day"):
            raise contract.invalid(
                contract.INVALID_QUERY, "value_grouping_window must be hour or day"
            )
        # Cloudflare's published schema makes both times optional; without them the sandbox
        # answers the current calendar month so far (our client always sends both).
        now = int(time.time())
        try:
            start_ms = int(query.get("start_time") or month_start(now) * 1000)
            end_ms = int(query.get("end_time") or now * 1000)
        except ValueError:
            raise contract.invalid(
                contract.INVALID_QUERY, "start_time and end_time are Unix milliseconds"
            ) from None
        step = HOUR if window == "hour" else 24 * HOUR
        start, end = start_ms // 1000, min(end_ms // 1000, now)
        start -= start % step
        if end <= start or (end - start) // step > MAX_USAGE_BUCKETS:
            raise contract.invalid(contract.INVALID_QUERY, "the time range is empty or too long")
        history = []
        for bucket in range(start, end, step):
            # The current bucket holds what was spent so far, as the balance counts it.
            spent = book.usage_between(bucket, min(bucket + step, now))
            history.append(
                {
                    "id": f"{account_id[:8]}-{window}-{bucket}",
                    "aggregated_value": _number(spent),
                    "start_time": bucket * 1000,
                    "end_time": (bucket + step) * 1000,
                }
            )
        return {"history": history}

    async def invoice_history(self, account_id: str, query, pdf_url) -> dict:
        book = await self._current_book(account_id)
        kind = query.get("type", "all")
        if kind not in ("all", "manual", "auto"):
            raise contract.invalid(contract.INVALID_QUERY, "type must be auto, manual or all")
        try:
            page = int(query.get("page", "1"))
        except ValueError:
            page = 0
        if page < 1:
            raise contract.invalid(contract.INVALID_QUERY, "page must be a positive integer")
        chosen = sorted(
            (i for i in book.invoices if kind == "all" or i.kind == kind),
            key=lambda i: i.created,
            reverse=True,
        )
        first = (page - 1) * INVOICES_PER_PAGE
        return {
            "invoices": [
                self._invoice(i, pdf_url) for i in chosen[first : first + INVOICES_PER_PAGE]
            ],
            "pagination": {
                "has_more": first + INVOICES_PER_PAGE < len(chosen),
                "page": page,
                "per_page": INVOICES_PER_PAGE,
                "total_count": len(chosen),
            },
        }

    @staticmethod
    def _invoice(entry: InvoiceEntry, pdf_url) -> dict:
        amount = _number(entry.amount)
        paid = entry.status == "paid"
        return {
            "id": entry.id,
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount,
            "currency": "usd",
            "status": entry.status,
            "created": entry.created,
            "created_by": entry.created_by,
            "description": entry.description,
            "invoice_origin": entry.kind,
            "invoice_pdf": pdf_url(entry.id),
            "attempt_count": 1,
            "attempted": True,
            "auto_advance": False,
        }

    async def invoice_preview(self, account_id: str) -> dict:
        """The upcoming invoice: this month's usage so far, paid for from the credit balance."""
        book = await self._current_book(account_id)
        now = int(time.time())
        start, end = month_start(now), next_month_start(now)
        spend = book.usage_between(start, now)
        unit_dollars = Decimal("0.00002")  # per request, so that quantity is believable
        return {
            "id": f"upcoming_{account_id[:8]}",
            "amount_due": 0,
            "amount_paid": 0,
            "amount_remaining": 0,
            "currency": "usd",
            "period_start": start,
            "period_end": end,
            "status": "draft",
            "invoice_lines": [
                {
                    "amount": _number(spend),
                    "currency": "usd",
                    "description": "AI Gateway usage",
                    "quantity": int(spend / 100 / unit_dollars),
                    "period": {"start": start, "end": end},
                    "pricing": {"unit_amount_decimal": str(unit_dollars)},
                    "pretax_credit_amounts": [
                        {
                            "amount": _number(spend),
                            "type": "credit_balance_transaction",
                            "credit_balance_transaction": f"cbtxn_{account_id[:12]}",
                            "discount": None,
                        }
                    ],
                }
            ],
        }

    def invoice(self, account_id: str, invoice_id: str) -> InvoiceEntry | None:
        book = self.books.get(account_id)
        return next((i for i in book.invoices if i.id == invoice_id), None) if book else None

    # --- auto top-up settings --------------------------------------------------------------------

    async def set_topup_config(self, account_id: str, body) -> dict:
        book = await self._current_book(account_id)
        self._refuse_unless_writes_allowed()
        if not isinstance(body, dict):
            raise contract.invalid(contract.INVALID_BODY, "Request body must be a JSON object")
        amount, threshold = body.get("amount"), body.get("threshold")
        if type(amount) is not int or amount < 1000:
            raise contract.invalid(contract.INVALID_AMOUNT, "amount must be at least 1000 cents")
        if type(threshold) is not int or threshold < 500:
            raise contract.invalid(contract.INVALID_AMOUNT, "threshold must be at least 500 cents")
        book.auto_topup.amount, book.auto_topup.threshold = amount, threshold
        book.auto_topup.disabled_reason = book.auto_topup.error = None
        book.auto_checked_until = int(time.time())
        return {"amount": amount, "threshold": threshold}

    async def delete_topup_config(self, account_id: str) -> None:
        book = await self._current_book(account_id)
        self._refuse_unless_writes_allowed()
        book.auto_topup = AutoTopUpConfig()

    def _refuse_unless_writes_allowed(self) -> None:
        if not self.config.topup_config_writes:
            raise contract.ApiError(
                403,
                (
                    (
                        contract.DASHBOARD_ONLY,
                        "Auto top-up can only be changed from the Cloudflare dashboard: API "
                        "tokens, OAuth and service credentials are not allowed",
                    ),
                ),
            )

    # --- keeping the books current ---------------------------------------------------------------

    async def _current_book(self, account_id: str) -> AccountBook:
        """The account's books with every completed top-up and due auto top-up entered."""
        if account_id not in self.config.accounts:
            raise contract.account_forbidden()
        book = self.books[account_id]
        await self._enter_completed_topups(account_id, book)
        await self._run_auto_topup(account_id, book)
        return book

    async def _enter_completed_topups(self, account_id: str, book: AccountBook) -> None:
        now = time.time()
        for record in list(self.payments.topups.values()):
            if record.account_id != account_id or record.invoiced:
                continue
            intent = await self.payments.retrieve_current(record.payment_intent)
            charge = intent.to_dict().get("latest_charge")
            paid_at = charge.get("created", 0) if isinstance(charge, dict) else 0
            if intent.status == "succeeded" and now - paid_at >= self.config.settle_seconds:
                record.invoiced = True
                book.invoices.append(
                    InvoiceEntry(
                        id=record.invoice_id,
                        amount=Decimal(intent.amount),
                        created=int(paid_at),
                        kind="manual",
                        description="AI Gateway credits top-up",
                    )
                )

    async def _run_auto_topup(self, account_id: str, book: AccountBook) -> None:
        for hour in book.auto_topup_moments(int(time.time())):
            if not book.auto_topup.active:
                break
            try:
                paid = await self.payments.charge_default_card(
                    account_id, book.auto_topup.amount, description="auto top-up"
                )
            except stripe.CardError as exc:
                paid = False
                book.auto_topup.error = exc.user_message or "Your card was declined."
            if not paid:
                book.auto_topup.error = book.auto_topup.error or "No card is saved."
                book.auto_topup.disabled_reason = "payment_failed"
                book.auto_topup.last_failed_at = hour
                break
            book.invoices.append(auto_invoice(mint_invoice_id(), book.auto_topup.amount, hour))


def month_start(moment: int) -> int:
    day = datetime.fromtimestamp(moment, tz=UTC)
    return int(day.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp())


def next_month_start(moment: int) -> int:
    return month_start(month_start(moment) + 32 * 24 * HOUR)
