"""The status of an invoice the sandbox's books hold but no API create made: only `paid` is
`completed`; the contract has no other answer than `pending` for open, draft, void or
uncollectible invoices. (The books hold only paid invoices over HTTP, so these are set directly;
no call reaches localstripe.)"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from sandbox.cloudflare.account import AccountEmulator
from sandbox.cloudflare.billing import BillingEmulator
from sandbox.cloudflare.ledger import AccountBook, InvoiceEntry
from sandbox.config import DEMO_ACCOUNT_ID, SandboxConfig
from sandbox.payments import Payments


@pytest.mark.parametrize(
    ("invoice_status", "answer"),
    [
        ("paid", "completed"),
        ("open", "pending"),
        ("draft", "pending"),
        ("void", "pending"),
        ("uncollectible", "pending"),
    ],
)
def test_only_a_paid_invoice_is_completed(invoice_status, answer):
    async def ask() -> dict:
        config = SandboxConfig(localstripe_port=9)  # never called
        payments = Payments(config.localstripe_url)
        books = AccountEmulator(config, payments)
        book = AccountBook(DEMO_ACCOUNT_ID, 0, 0, 0)
        book.invoices.append(
            InvoiceEntry("in_dashboard", 5000, 0, "manual", "top-up", status=invoice_status)
        )
        books.books = {DEMO_ACCOUNT_ID: book}
        try:
            return await BillingEmulator(config, payments, books).topup_status(
                DEMO_ACCOUNT_ID, {"payment_intent_id": "in_dashboard"}
            )
        finally:
            await payments.close()

    # A thread of its own: in the whole suite, Playwright's sync API keeps an event loop running
    # in this one, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as thread:
        answered = thread.submit(asyncio.run, ask()).result()
    assert answered == {"payment_intent_id": "in_dashboard", "status": answer}
