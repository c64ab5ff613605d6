"""The account resources' answers become typed values in Decimal cents: nulls, fractional cents
and broken shapes, straight from the published schemas. (Their HTTP round trips are tested
against the sandbox once it emulates these endpoints.)"""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cloudflare_client.auto_topup import parse_auto_topup
from cloudflare_client.balance import parse_balance
from cloudflare_client.invoices import parse_history_page, parse_preview
from cloudflare_client.parsing import MalformedResult
from cloudflare_client.usage import parse_usage


def from_json(text: str):
    """What the transport hands a parser: JSON numbers with fractions read as Decimal."""
    return json.loads(text, parse_float=Decimal)


NO_AUTO_TOPUP = {
    "amount": None,
    "threshold": None,
    "disabledReason": None,
    "error": None,
    "lastFailedAt": None,
}


def test_balance_in_fractional_cents_is_exact():
    balance = parse_balance(
        from_json(
            '{"balance": 640.19, "has_default_payment_method": true,'
            ' "payment_method": {"brand": "visa", "last4": "4242"},'
            ' "topup_config": {"amount": 2000, "threshold": 500, "disabledReason": null,'
            ' "error": null, "lastFailedAt": null}, "first_topup_success": true}'
        )
    )
    assert balance.balance_cents == Decimal("640.19")  # $6.40, not $640
    assert (balance.payment_method.brand, balance.payment_method.last4) == ("visa", "4242")
    assert balance.auto_topup.active
    assert (balance.auto_topup.amount_cents, balance.auto_topup.threshold_cents) == (2000, 500)


def test_balance_with_nothing_on_file():
    balance = parse_balance(
        {
            "balance": 0,
            "has_default_payment_method": False,
            "payment_method": None,
            "topup_config": NO_AUTO_TOPUP,
        }
    )
    assert balance.payment_method is None
    assert balance.first_topup_success is None
    assert not balance.auto_topup.configured


@pytest.mark.parametrize(
    "broken",
    [
        {"has_default_payment_method": False, "payment_method": None, "topup_config": {}},
        {"balance": "640.19", "has_default_payment_method": False, "payment_method": None},
        {"balance": True, "has_default_payment_method": False, "payment_method": None},
    ],
    ids=["no-balance", "balance-as-text", "balance-as-bool"],
)
def test_a_broken_balance_is_refused(broken):
    with pytest.raises(MalformedResult):
        parse_balance({"topup_config": NO_AUTO_TOPUP, **broken})


def test_auto_topup_that_failed_says_why_and_when():
    config = parse_auto_topup(
        {
            "amount": 5000,
            "threshold": 1000,
            "disabledReason": "payment_failed",
            "error": "Your card was declined.",
            "lastFailedAt": 1767225600,
        }
    )
    assert not config.active
    assert config.configured
    assert config.last_failed_at == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(MalformedResult, match="lastFailedAt"):
        parse_auto_topup({key: None for key in NO_AUTO_TOPUP if key != "lastFailedAt"})


def test_invoice_history_page_with_optional_fields_null():
    invoices, has_more = parse_history_page(
        from_json(
            '{"invoices": [{"amount_due": 5000, "amount_paid": 5000, "amount_remaining": 0,'
            ' "currency": "USD", "id": "in_1", "status": "paid", "created": 1767225600,'
            ' "invoice_pdf": "https://pay.example/in_1.pdf", "description": null},'
            ' {"amount_due": 2500.5, "amount_paid": 0, "amount_remaining": 2500.5,'
            ' "currency": "usd"}],'
            ' "pagination": {"has_more": true, "page": 1, "per_page": 2, "total_count": 3}}'
        )
    )
    assert has_more is True
    paid, bare = invoices
    assert (paid.id, paid.status, paid.amount_paid_cents, paid.currency) == (
        "in_1",
        "paid",
        Decimal(5000),
        "usd",
    )
    assert paid.created == datetime(2026, 1, 1, tzinfo=UTC)
    assert (bare.id, bare.status, bare.created, bare.invoice_pdf) == (None, None, None, None)
    assert bare.amount_remaining_cents == Decimal("2500.5")


def test_invoice_preview_lines_keep_prices_in_dollars_and_amounts_in_cents():
    preview = parse_preview(
        from_json(
            '{"id": "upcoming", "amount_due": 0, "amount_paid": 0, "amount_remaining": 0,'
            ' "currency": "usd", "period_start": 1767225600, "period_end": 1769904000,'
            ' "status": "draft", "invoice_lines": [{"amount": 5, "currency": "usd",'
            ' "description": null, "quantity": 1000, "period": {"start": 1767225600,'
            ' "end": 1769904000}, "pricing": {"unit_amount_decimal": "0.00005"},'
            ' "pretax_credit_amounts": [{"amount": 5, "type": "credit_balance_transaction",'
            ' "credit_balance_transaction": "cbtxn_1", "discount": null}]}]}'
        )
    )
    (line,) = preview.lines
    assert line.amount_cents == Decimal(5)  # $0.05
    assert line.unit_amount_dollars == Decimal("0.00005")
    assert line.pretax_credit_amounts[0].credit_balance_transaction == "cbtxn_1"
    assert preview.period_end == datetime(2026, 2, 1, tzinfo=UTC)


def test_usage_buckets_in_milliseconds_and_fractional_cents():
    (bucket,) = parse_usage(
        from_json(
            '{"history": [{"id": "b1", "aggregated_value": 12.3456,'
            ' "start_time": 1767225600000, "end_time": 1767229200000}]}'
        )
    )
    assert bucket.spend_cents == Decimal("12.3456")
    assert (bucket.start, bucket.end) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(MalformedResult):
        parse_usage({"history": [{"id": "b1", "aggregated_value": 1}]})
