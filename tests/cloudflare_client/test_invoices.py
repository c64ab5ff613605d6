"""The invoice history against the sandbox (5 invoices a page): never cut without saying so,
read incrementally down to what is already known, and searched past the page limit when one
invoice is looked for."""

import math

import pytest

from cloudflare_client import InvoiceHistory, invoices
from sandbox.cloudflare.account import INVOICES_PER_PAGE
from tests.conftest import DEMO_ACCOUNT_ID
from tests.topups.steps import paid_at_cloudflare

A = DEMO_ACCOUNT_ID


def test_a_history_longer_than_the_page_limit_says_it_is_not_complete(cf, demo, monkeypatch):
    whole = cf.invoices.history(A)
    assert isinstance(whole, InvoiceHistory)
    assert whole.complete
    assert len(whole) > INVOICES_PER_PAGE  # the demo past spans two pages
    demo.control("DELETE", "requests")
    monkeypatch.setattr(invoices, "MAX_PAGES", 1)

    cut = cf.invoices.history(A)

    assert not cut.complete
    assert list(cut) == list(whole)[:INVOICES_PER_PAGE]
    assert len(demo.requests("invoices")) == 1


def test_an_incremental_read_stops_at_the_first_page_holding_a_known_invoice(
    cf, demo, account, sandbox_settings
):
    known = frozenset(invoice.id for invoice in cf.invoices.history(A))
    new = paid_at_cloudflare(account, demo)
    demo.control("DELETE", "requests")

    fresh = cf.invoices.history(A, known=known)

    assert fresh.invoices[0].id == new
    assert len(fresh) == INVOICES_PER_PAGE
    assert not fresh.complete  # what lies beyond is what was known
    assert len(demo.requests("invoices")) == 1


def test_invoices_of_the_same_second_as_the_newest_known_are_not_missed(cf, demo):
    """Invoices made in the same second may be listed in any order: the read goes on to one
    older than the newest known, not just to the first known."""

    def page(*invoices, has_more=True):
        result = {"invoices": list(invoices), "pagination": {"has_more": has_more}}
        return {"success": True, "result": result}

    def invoice(invoice_id, created):
        amounts = {"amount_due": 100, "amount_paid": 100, "amount_remaining": 0}
        return {"id": invoice_id, **amounts, "currency": "usd", "created": created}

    demo.fault("invoices", "body", body=page(invoice("in_known", 1000), invoice("in_a", 1000)))
    demo.fault("invoices", "body", body=page(invoice("in_b", 1000), invoice("in_old", 900)))

    fresh = cf.invoices.history(A, known=frozenset({"in_known", "in_old"}))

    assert [i.id for i in fresh] == ["in_known", "in_a", "in_b", "in_old"]
    assert len(demo.requests("invoices")) == 2


def test_one_invoice_is_looked_for_past_the_page_limit(cf, demo, monkeypatch):
    whole = list(cf.invoices.history(A))
    oldest = whole[-1]
    monkeypatch.setattr(invoices, "MAX_PAGES", 1)
    demo.control("DELETE", "requests")

    found = cf.invoices.history(A, find=oldest.id, back_to=oldest.created)

    assert found.get(oldest.id) == oldest
    assert len(demo.requests("invoices")) == math.ceil(len(whole) / INVOICES_PER_PAGE)
    demo.control("DELETE", "requests")
    # Nothing older than `back_to` can be it: the search stops there.
    newest = whole[0]
    missing = cf.invoices.history(A, find="in_missing", back_to=newest.created)
    assert missing.get("in_missing") is None
    assert missing.reaches(newest.created)
    assert len(demo.requests("invoices")) == 1


def test_an_answer_that_repeats_itself_is_not_read_forever(cf, demo):
    same = {"id": "in_same", "amount_due": 100, "amount_paid": 100, "amount_remaining": 0}
    page = {"invoices": [{**same, "currency": "usd"}], "pagination": {"has_more": True}}
    demo.fault("invoices", "body", status=200, count=5, body={"success": True, "result": page})

    history = cf.invoices.history(A, find="in_missing")

    assert ([invoice.id for invoice in history], history.complete) == (["in_same"], False)
    assert len(demo.requests("invoices")) == 2


@pytest.mark.parametrize("kind", ["all", "manual"])
def test_the_history_still_iterates_as_a_list_of_invoices(cf, demo, kind):
    history = cf.invoices.history(A, type=kind)
    assert len(list(history)) == len(history) == len(history.invoices)


def test_an_invoice_without_an_id_is_not_found_by_a_missing_id():
    without_id = invoices.parse_invoice(
        {"amount_due": 500, "amount_paid": 500, "amount_remaining": 0, "currency": "USD"}
    )
    history = InvoiceHistory((without_id,), complete=True)

    assert history.get(None) is None
