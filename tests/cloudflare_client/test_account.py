"""The account resources of the client against the sandbox over real HTTP: every page of the
invoice history, Decimal cents end to end, and the 403 Cloudflare answers API tokens that try
to change auto top-up."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from cloudflare_client import CloudflareAuthError, CreditBalance
from sandbox.cloudflare.account import INVOICES_PER_PAGE
from tests.conftest import DEMO_ACCOUNT_ID
from tests.topups.steps import paid_at_cloudflare

A = DEMO_ACCOUNT_ID


def test_balance_is_decimal_cents(cf, demo):
    balance = cf.balance.get(A)
    assert isinstance(balance, CreditBalance)
    assert isinstance(balance.balance_cents, Decimal)
    assert balance.balance_cents > 0
    assert (balance.payment_method.brand, balance.payment_method.last4) == ("visa", "4242")
    assert balance.auto_topup.active


def test_invoice_history_reads_every_page(cf, demo):
    invoices = cf.invoices.history(A)
    per_page = INVOICES_PER_PAGE
    assert len(invoices) > per_page  # more than one page
    assert len(demo.requests("invoices")) == math.ceil(len(invoices) / per_page)
    assert len({i.id for i in invoices}) == len(invoices)
    assert {i.invoice_origin for i in cf.invoices.history(A, type="auto")} == {"auto"}


def test_a_paid_top_up_is_found_in_the_invoices_by_its_id(cf, sandbox, sandbox_settings, account):
    payment_intent_id = paid_at_cloudflare(account, sandbox, amount_cents=3000)
    (invoice,) = cf.invoices.history(A, type="manual")
    assert (invoice.id, invoice.amount_paid_cents, invoice.status) == (
        payment_intent_id,
        Decimal(3000),
        "paid",
    )


def test_usage_and_preview(cf, demo):
    end = datetime.now(tz=UTC)
    days = cf.usage.history(A, window="day", start=end - timedelta(days=30), end=end)
    preview = cf.invoices.preview(A)
    assert len(days) >= 30
    assert all(isinstance(b.spend_cents, Decimal) for b in days)
    assert days[0].start < days[1].start
    assert preview.lines[0].unit_amount_dollars == Decimal("0.00002")


def test_changing_auto_top_up_with_a_token_is_refused(cf, sandbox):
    with pytest.raises(CloudflareAuthError) as info:
        cf.auto_topup.set(A, amount_cents=5000, threshold_cents=1000)
    assert info.value.status_code == 403
    sandbox.configure(topup_config_writes=True)
    cf.auto_topup.set(A, amount_cents=5000, threshold_cents=1000)
    assert cf.auto_topup.get(A).threshold_cents == 1000
    cf.auto_topup.delete(A)
    assert not cf.auto_topup.get(A).configured


def test_minimums_are_checked_before_any_call(cf, sandbox):
    with pytest.raises(ValueError, match="minimums"):
        cf.auto_topup.set(A, amount_cents=999, threshold_cents=1000)
    assert sandbox.requests() == []
