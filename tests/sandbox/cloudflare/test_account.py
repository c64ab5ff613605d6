"""The account's endpoints of the sandbox over HTTP: credit balance, auto top-up settings,
usage and invoices, read from one consistent set of books, in Cloudflare's published shapes."""

import math
import time

import pytest
import requests

from sandbox.cloudflare import contract
from tests.conftest import DEMO_ACCOUNT_ID, STAGING_ACCOUNT_ID
from tests.sandbox.helpers import (
    ENVELOPE_KEYS,
    TOKEN,
    assert_cloudflare_error,
    assert_sandbox_error,
    billing,
    create,
    pay,
    status,
)

BALANCE_KEYS = {
    "balance",
    "has_default_payment_method",
    "payment_method",
    "topup_config",
    "first_topup_success",
}
CONFIG_KEYS = {"amount", "threshold", "disabledReason", "error", "lastFailedAt"}
INVOICE_KEYS = {
    "id",
    "amount_due",
    "amount_paid",
    "amount_remaining",
    "currency",
    "status",
    "created",
    "created_by",
    "description",
    "invoice_origin",
    "invoice_pdf",
    "attempt_count",
    "attempted",
    "auto_advance",
}


def get(sandbox, path, account=DEMO_ACCOUNT_ID, **params):
    response = requests.get(
        billing(sandbox, path, account), headers=TOKEN, params=params, timeout=10
    )
    return response


def result(response):
    assert response.status_code == 200, response.text
    payload = response.json()
    assert list(payload) == ENVELOPE_KEYS
    assert payload["success"] is True
    return payload["result"]


def usage(sandbox, window, days, account=DEMO_ACCOUNT_ID):
    now = int(time.time() * 1000)
    return get(
        sandbox,
        "usage-history",
        account,
        value_grouping_window=window,
        start_time=now - days * 86_400_000,
        end_time=now,
    )


def test_a_fresh_account_has_nothing(sandbox):
    balance = result(get(sandbox, "credit-balance"))
    assert set(balance) == BALANCE_KEYS
    assert balance["balance"] == 0
    assert (balance["has_default_payment_method"], balance["payment_method"]) == (False, None)
    assert balance["topup_config"] == dict.fromkeys(CONFIG_KEYS)
    assert result(get(sandbox, "topup/config")) == dict.fromkeys(CONFIG_KEYS)


def test_a_completed_top_up_raises_the_balance_and_is_a_paid_manual_invoice(sandbox):
    top_up = create(sandbox, {"amount": 2500}).json()["result"]
    pay(sandbox, top_up["client_secret"]).raise_for_status()

    balance = result(get(sandbox, "credit-balance"))
    history = result(get(sandbox, "invoice-history", type="manual"))

    assert balance["balance"] == 2500
    assert balance["payment_method"] == {"brand": "visa", "last4": "4242"}
    assert balance["first_topup_success"] is True
    (invoice,) = history["invoices"]
    assert set(invoice) == INVOICE_KEYS
    assert invoice["id"] == top_up["payment_intent_id"]
    assert (invoice["status"], invoice["amount_paid"], invoice["invoice_origin"]) == (
        "paid",
        2500,
        "manual",
    )
    assert result(get(sandbox, "invoice-history", type="auto"))["invoices"] == []
    pdf = requests.get(invoice["invoice_pdf"], timeout=10)
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    assert top_up["payment_intent_id"].encode() in pdf.content


def test_an_unpaid_top_up_is_neither_balance_nor_invoice(sandbox):
    create(sandbox)
    assert result(get(sandbox, "credit-balance"))["balance"] == 0
    assert result(get(sandbox, "invoice-history"))["invoices"] == []


def test_auto_top_up_writes_are_refused_as_cloudflare_refuses_api_tokens(sandbox):
    url = billing(sandbox, "topup/config")
    body = {"amount": 5000, "threshold": 1000}
    errors = assert_sandbox_error(
        requests.post(url, json=body, headers=TOKEN, timeout=10), 403, contract.DASHBOARD_ONLY
    )
    assert "dashboard" in errors[0]["message"]
    assert_sandbox_error(
        requests.delete(url, headers=TOKEN, timeout=10), 403, contract.DASHBOARD_ONLY
    )
    assert result(get(sandbox, "topup/config"))["amount"] is None


def test_auto_top_up_writes_when_the_sandbox_accepts_them(sandbox):
    sandbox.configure(topup_config_writes=True)
    url = billing(sandbox, "topup/config")

    written = requests.post(
        url, json={"amount": 5000, "threshold": 1000}, headers=TOKEN, timeout=10
    )

    assert result(written) == {"amount": 5000, "threshold": 1000}
    assert result(get(sandbox, "topup/config"))["threshold"] == 1000
    too_low = requests.post(url, json={"amount": 5000, "threshold": 499}, headers=TOKEN, timeout=10)
    assert_sandbox_error(too_low, 400, contract.INVALID_AMOUNT)
    assert requests.delete(url, headers=TOKEN, timeout=10).json()["result"] is None
    assert result(get(sandbox, "topup/config")) == dict.fromkeys(CONFIG_KEYS)


def test_auto_top_up_charges_the_saved_card_when_the_balance_is_below_the_threshold(sandbox):
    """Live, not seeded: a card is saved by a first top-up, then a threshold above the balance
    fires auto top-up at once: the card is charged in localstripe and a paid auto invoice
    raises the balance. It fires at most once an hour, however often the balance is read."""
    first = create(sandbox, {"amount": 2500}).json()["result"]
    pay(sandbox, first["client_secret"]).raise_for_status()
    sandbox.configure(topup_config_writes=True)
    config = {"amount": 2000, "threshold": 5000}
    requests.post(billing(sandbox, "topup/config"), json=config, headers=TOKEN, timeout=10)

    balance = result(get(sandbox, "credit-balance"))
    again = result(get(sandbox, "credit-balance"))
    (auto,) = result(get(sandbox, "invoice-history", type="auto"))["invoices"]

    assert balance["balance"] == again["balance"] == 2500 + 2000
    assert (auto["status"], auto["amount_paid"], auto["invoice_origin"]) == ("paid", 2000, "auto")
    assert balance["topup_config"]["disabledReason"] is None
    charges = stripe_charges(sandbox)
    assert sorted(c["amount"] for c in charges if c["status"] == "succeeded") == [2000, 2500]


def test_auto_top_up_without_a_saved_card_is_disabled_with_its_reason(sandbox):
    sandbox.configure(topup_config_writes=True)
    config = {"amount": 2000, "threshold": 5000}
    requests.post(billing(sandbox, "topup/config"), json=config, headers=TOKEN, timeout=10)

    state = result(get(sandbox, "topup/config"))

    assert (state["disabledReason"], state["error"]) == ("payment_failed", "No card is saved.")
    assert state["lastFailedAt"] is not None
    assert result(get(sandbox, "credit-balance"))["balance"] == 0
    assert result(get(sandbox, "invoice-history", type="auto"))["invoices"] == []


def stripe_charges(sandbox) -> list[dict]:
    """The charges localstripe holds: what was really taken from the card."""
    response = requests.get(
        f"{sandbox.localstripe_url}/v1/charges",
        auth=("sk_test_sandbox", ""),
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["data"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"value_grouping_window": "week", "start_time": 0, "end_time": 1},
        {"value_grouping_window": "day", "start_time": "yesterday", "end_time": 1},
    ],
    ids=["nothing", "bad-window", "bad-time"],
)
def test_usage_history_needs_a_window_and_times_in_milliseconds(sandbox, params):
    assert_sandbox_error(get(sandbox, "usage-history", **params), 400, contract.INVALID_QUERY)


def test_usage_history_without_times_is_this_month_so_far(demo):
    """Cloudflare's schema (and its SDKs) make both times optional."""
    history = result(get(demo, "usage-history", value_grouping_window="day"))["history"]
    today = time.gmtime()
    assert len(history) == today.tm_mday
    assert time.gmtime(history[0]["start_time"] / 1000).tm_mday == 1


@pytest.mark.parametrize(
    "path", ["credit-balance", "topup/config", "invoice-history", "invoice-preview"]
)
def test_account_endpoints_need_credentials_and_access(sandbox, path):
    url = billing(sandbox, path)
    assert_cloudflare_error(requests.get(url, timeout=10), 403, contract.AUTH_ERROR)
    other = billing(sandbox, path, account="f" * 32)
    assert_cloudflare_error(
        requests.get(other, headers=TOKEN, timeout=10), 403, contract.ACCOUNT_FORBIDDEN
    )


# --- the demo past ---------------------------------------------------------------------------


def test_the_demo_account_has_a_believable_past(demo):
    balance = result(get(demo, "credit-balance"))
    history = result(get(demo, "invoice-history"))
    manual = result(get(demo, "invoice-history", type="manual"))["invoices"]
    automatic = result(get(demo, "invoice-history", type="auto"))["pagination"]["total_count"]

    assert balance["payment_method"] == {"brand": "visa", "last4": "4242"}
    assert (balance["topup_config"]["amount"], balance["topup_config"]["threshold"]) == (5000, 1000)
    assert 0 < balance["balance"] < 100_000
    assert len(manual) == 3
    assert automatic >= 1
    assert history["pagination"]["total_count"] == 3 + automatic
    assert all(i["status"] == "paid" for i in history["invoices"])
    created = [i["created"] for i in history["invoices"]]
    assert created == sorted(created, reverse=True)


def test_invoice_history_comes_in_pages(demo):
    first = result(get(demo, "invoice-history", page=1))
    per_page = first["pagination"]["per_page"]
    assert len(first["invoices"]) == per_page
    total = first["pagination"]["total_count"]
    assert total > per_page
    pages = [
        result(get(demo, "invoice-history", page=p))
        for p in range(1, math.ceil(total / per_page) + 1)
    ]
    ids = [i["id"] for page in pages for i in page["invoices"]]
    assert len(ids) == len(set(ids)) == total
    assert pages[-1]["pagination"]["has_more"] is False


def test_usage_is_spent_every_hour_in_fractional_cents(demo):
    days = result(usage(demo, "day", 30))["history"]
    hours = result(usage(demo, "hour", 2))["history"]

    assert 30 <= len(days) <= 31
    assert 47 <= len(hours) <= 49
    assert all(b["aggregated_value"] > 0 for b in days[:-1])
    assert any(isinstance(b["aggregated_value"], float) for b in hours)
    assert hours[1]["start_time"] - hours[0]["start_time"] == 3_600_000
    assert set(days[0]) == {"id", "aggregated_value", "start_time", "end_time"}
    # The same hour costs the same however often it is asked.
    assert result(usage(demo, "hour", 2))["history"][:-1] == hours[:-1]


def test_today_is_spent_so_far_as_the_balance_counts_it(demo):
    """The current day's (and hour's) bucket holds what was spent until now, not the whole day
    ahead: the usage adds up with the balance, which pages reconstruct from it."""
    now = int(time.time() * 1000)
    midnight = now - now % 86_400_000
    day = result(
        get(demo, "usage-history", value_grouping_window="day", start_time=midnight, end_time=now)
    )
    hours = result(
        get(demo, "usage-history", value_grouping_window="hour", start_time=midnight, end_time=now)
    )
    (today,) = day["history"]
    so_far = sum(bucket["aggregated_value"] for bucket in hours["history"])
    assert today["aggregated_value"] == pytest.approx(so_far, abs=0.01)


def test_the_staging_account_spends_little_and_has_no_card(demo):
    balance = result(get(demo, "credit-balance", STAGING_ACCOUNT_ID))
    assert balance["payment_method"] is None
    assert balance["topup_config"]["amount"] is None


def test_the_upcoming_invoice_is_this_months_usage(demo):
    preview = result(get(demo, "invoice-preview"))
    (line,) = preview["invoice_lines"]
    assert preview["status"] == "draft"
    assert preview["period_start"] < time.time() < preview["period_end"]
    assert line["pricing"] == {"unit_amount_decimal": "0.00002"}
    assert line["amount"] > 0
    assert line["pretax_credit_amounts"][0]["amount"] == line["amount"]


def every_invoice(sandbox, account=DEMO_ACCOUNT_ID) -> list[dict]:
    first = result(get(sandbox, "invoice-history", account))
    pages = math.ceil(first["pagination"]["total_count"] / first["pagination"]["per_page"])
    return first["invoices"] + [
        invoice
        for page in range(2, pages + 1)
        for invoice in result(get(sandbox, "invoice-history", account, page=page))["invoices"]
    ]


def test_status_answers_for_every_invoice_of_the_books_as_for_a_dashboard_top_up(demo):
    """Cloudflare's status call knows every top-up of its books: those made in its own dashboard
    (the demo past's manual invoices) and auto top-ups, not only those created through the API."""
    invoices = every_invoice(demo)
    assert {i["invoice_origin"] for i in invoices} == {"manual", "auto"}

    for invoice in invoices:
        answer = result(status(demo, invoice["id"]))
        assert list(answer) == ["payment_intent_id", "status"]
        assert answer == {"payment_intent_id": invoice["id"], "status": "completed"}


def test_status_of_an_id_the_books_never_held_is_still_404(demo):
    (staging_invoice,) = every_invoice(demo, STAGING_ACCOUNT_ID)
    assert result(status(demo, staging_invoice["id"], STAGING_ACCOUNT_ID))["status"] == "completed"

    for unknown in ("in_doesnotexist", staging_invoice["id"]):  # the second: another account's
        errors = assert_sandbox_error(status(demo, unknown), 404, contract.TOPUP_NOT_FOUND)
        assert errors[0]["message"] == f"No top-up found for payment_intent_id {unknown}"
