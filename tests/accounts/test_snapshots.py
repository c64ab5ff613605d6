"""The account's reads are asked of Cloudflare at most once per age, whoever asks, and come back
from the database as the same typed values."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import CachedRead
from accounts.snapshots import (
    Snapshot,
    account_balance,
    account_cached_invoice,
    account_daily_usage,
    account_invoice,
    account_invoices,
    account_invoices_reread,
    account_snapshots_expire,
    snapshot_of_all,
)
from cloudflare_client import CreditBalance, invoices
from sandbox.cloudflare.account import INVOICES_PER_PAGE
from tests.topups.steps import paid_at_cloudflare

pytestmark = pytest.mark.django_db


def test_balance_is_asked_once_per_minute_and_read_back_typed(account, demo):
    first = account_balance(account=account)
    again = account_balance(account=account)

    assert isinstance(again.value, CreditBalance)
    assert again.value == first.value  # rebuilt from the database, field for field
    assert isinstance(again.value.balance_cents, Decimal)
    assert len(demo.requests("balance")) == 1

    CachedRead.objects.update(fetched_at=timezone.now() - timedelta(seconds=61))
    account_balance(account=account)
    assert len(demo.requests("balance")) == 2


def test_usage_and_invoices_keep_their_types(account, demo):
    days = account_daily_usage(account=account)
    held = account_invoices(account=account)
    assert days.value == account_daily_usage(account=account).value
    assert held.value == account_invoices(account=account).value
    assert len(demo.requests("usage")) == 1
    assert held.value.invoices[0].created is not None


def test_the_database_holds_cloudflares_result_read_back_with_the_clients_parse(account, demo):
    from cloudflare_client.balance import parse_balance
    from cloudflare_client.usage import parse_usage

    balance, days = account_balance(account=account), account_daily_usage(account=account)

    held = {row.kind: row.value for row in CachedRead.objects.all()}
    assert parse_balance(held["balance"]) == balance.value
    assert parse_usage(held["usage_day"]) == days.value
    assert isinstance(held["usage_day"]["history"][0]["aggregated_value"], Decimal | int)


def test_a_failed_read_shows_the_last_answer_with_its_time_and_backs_off(account, demo):
    first = account_balance(account=account)
    read_at = timezone.now() - timedelta(minutes=5)
    CachedRead.objects.update(fetched_at=read_at)
    demo.fault("balance", "500", count=3)

    stale = account_balance(account=account)

    assert stale.value == first.value
    assert stale.fetched_at == read_at  # the last read that succeeded, not the failed try
    assert stale.failed_at is not None
    account_balance(account=account)
    assert len(demo.requests("balance")) == 1 + 3  # urllib3 retried; the next view waits

    CachedRead.objects.update(attempt_until=timezone.now())  # the back-off is over
    fresh = account_balance(account=account)
    assert len(demo.requests("balance")) == 1 + 3 + 1
    assert fresh.failed_at is None
    assert fresh.fetched_at > read_at


def test_a_read_in_flight_is_not_asked_again_however_long_it_takes(account, demo):
    account_balance(account=account)
    CachedRead.objects.update(
        fetched_at=timezone.now() - timedelta(minutes=5),
        attempt_until=timezone.now() + timedelta(seconds=60),  # another worker is asking
    )
    assert account_balance(account=account).failed_at is None
    assert len(demo.requests("balance")) == 1


def test_the_page_says_when_the_balance_was_read_and_that_a_later_try_failed(
    account, demo, admin_user, client
):
    from django.urls import reverse

    account_balance(account=account)
    CachedRead.objects.update(fetched_at=timezone.now() - timedelta(minutes=5))
    demo.fault("balance", "500", count=3)
    client.force_login(admin_user)

    page = client.get(reverse("accounts:overview", args=[account.account_id])).content.decode()

    assert "Cloudflare could not be asked just now" in page
    assert "As of <time" in page


def test_nothing_before_the_first_answer(account, sandbox, sandbox_settings):
    sandbox.fault("balance", "500", count=3)
    assert account_balance(account=account) is None


def test_expiring_asks_again_at_the_next_view(account, demo):
    account_balance(account=account)
    account_snapshots_expire(account=account)
    account_balance(account=account)
    assert len(demo.requests("balance")) == 2


def test_a_completed_top_up_makes_the_next_view_ask_for_the_balance_again(
    account, make_topup, sandbox, sandbox_settings
):
    from tests.topups.steps import paid_at_cloudflare
    from topups.services.status import topup_refresh_status

    assert account_balance(account=account).value.balance_cents == 0
    topup = make_topup(
        state="processing",
        payment_intent_id=paid_at_cloudflare(account, sandbox),
    )

    topup_refresh_status(topup=topup)

    assert topup.state == "completed"
    assert account_balance(account=account).value.balance_cents == 5000


@pytest.mark.django_db(transaction=True)
def test_an_expiry_during_a_read_is_not_lost(account, demo):
    """A top-up completes while a balance read is in flight: that read's answer may predate the
    top-up, so the next view asks again."""
    from tests.concurrency import thread_with_own_connection

    demo.configure(latency_ms=800)
    reading = thread_with_own_connection(account_balance, account=account)
    reading.start()
    while not demo.requests("balance"):
        pass
    account_snapshots_expire(account=account)
    reading.join()
    demo.configure(latency_ms=0)

    account_balance(account=account)

    assert len(demo.requests("balance")) == 2


def test_a_read_refused_for_want_of_a_slot_is_no_failure(account, demo, settings):
    """Nothing was sent: no back-off, nothing said to have failed, the next view may ask."""
    from accounts.cloudflare import page_calls

    settings.CLOUDFLARE_PAGE_READ_SLOTS = 1
    settings.CLOUDFLARE_PAGE_READ_TIMEOUT = 0.3  # and no read starts after that
    with page_calls():
        time.sleep(0.4)
        assert account_balance(account=account) is None  # refused before being sent
    assert demo.requests("balance") == []
    row = CachedRead.objects.get(kind="balance")
    assert (row.attempt_until, row.failed_at) == (None, None)
    assert account_balance(account=account) is not None


# --- invoices: read incrementally, never cut without saying so ---------------------------------


def _age(kind="invoices"):
    CachedRead.objects.filter(kind=kind).update(fetched_at=timezone.now() - timedelta(minutes=6))


def test_invoices_are_read_incrementally_down_to_what_is_known(account, demo):
    held = account_invoices(account=account).value
    assert held.complete
    assert len(held) > INVOICES_PER_PAGE
    new = paid_at_cloudflare(account, demo)
    demo.control("DELETE", "requests")
    _age()

    fresh = account_invoices(account=account).value

    assert len(demo.requests("invoices")) == 1  # the newest page, not all of them
    assert [i.id for i in fresh] == [new, *(i.id for i in held)]
    assert fresh.complete


def test_a_completed_top_up_adds_its_invoice_instead_of_expiring_the_list(
    account, make_topup, demo
):
    from topups.services.status import topup_refresh_status

    held = account_invoices(account=account).value
    balance = account_balance(account=account).value.balance_cents
    topup = make_topup(
        state="processing",
        payment_intent_id=paid_at_cloudflare(account, demo),
    )
    demo.control("DELETE", "requests")

    topup_refresh_status(topup=topup)
    known = account_invoices(account=account).value

    assert demo.requests("invoices") == []
    noted = known.get(topup.payment_intent_id)
    assert (noted.status, noted.amount_paid_cents, noted.created) == (
        "paid",
        Decimal(5000),
        topup.completed_at,
    )
    assert list(known)[1:] == list(held)
    assert known.complete
    assert account_balance(account=account).value.balance_cents > balance  # asked again
    _age()
    read = account_invoices(account=account).value
    assert len(demo.requests("invoices")) == 1
    assert read.get(topup.payment_intent_id).invoice_pdf  # Cloudflare's own, now
    assert len(read) == len(known)


def test_a_history_cut_at_the_page_limit_says_so_and_one_invoice_is_looked_for_further(
    account, demo, monkeypatch
):
    whole = list(account_invoices(account=account).value)
    oldest = whole[-1]
    CachedRead.objects.filter(kind="invoices").delete()
    monkeypatch.setattr(invoices, "MAX_PAGES", 1)
    demo.control("DELETE", "requests")

    cut = account_invoices(account=account).value
    found = account_invoice(account=account, invoice_id=oldest.id, made_after=oldest.created)
    again = account_invoice(account=account, invoice_id=oldest.id, made_after=oldest.created)

    assert not cut.complete
    assert len(cut) == INVOICES_PER_PAGE
    assert found == again == oldest
    assert len(demo.requests("invoices")) == 1 + 2  # the newest page, then the search; no more
    assert account_invoices(account=account).value.complete  # the search read to the end


def test_a_full_re_read_reads_every_page_whatever_the_age(account, demo):
    account_invoices(account=account)
    demo.control("DELETE", "requests")

    reread = account_invoices_reread(account=account)

    assert len(demo.requests("invoices")) == 2
    assert reread.value.complete


def _as_0005_held(invoice) -> dict:
    """The client's dataclass as JSON: cents as strings, times in ISO 8601."""
    import dataclasses
    from datetime import datetime

    def dumped(value):
        if isinstance(value, Decimal):
            return str(value)
        return value.isoformat() if isinstance(value, datetime) else value

    return {f.name: dumped(getattr(invoice, f.name)) for f in dataclasses.fields(invoice)}


def test_invoices_cached_before_as_a_list_are_kept_and_read_again(account, demo):
    import importlib

    from django.apps import apps

    migrations = [
        importlib.import_module(f"accounts.migrations.{name}")
        for name in ("0006_invoices_incremental", "0007_limits_cached_read")
    ]
    held = account_invoices(account=account).value
    listed = [_as_0005_held(invoice) for invoice in held]
    CachedRead.objects.filter(kind="invoices").update(value=listed)
    demo.control("DELETE", "requests")

    for migration in migrations:
        migration.forwards(apps, None)

    assert account_cached_invoice(account=account, invoice_id=held.invoices[0].id)
    kept = account_invoices(account=account).value
    assert len(demo.requests("invoices")) == 1  # the newest page, read again
    assert list(kept) == list(held)
    assert not kept.complete  # not known to be, until every page is read again


def test_thirty_invoices_held_and_one_new_is_one_page_read_not_six(account, demo):
    for _ in range(29 - len(account_invoices(account=account).value)):
        paid_at_cloudflare(account, demo, amount_cents=1000)
    time.sleep(1.1)  # the sandbox's invoices of one second may come in any order
    paid_at_cloudflare(account, demo, amount_cents=1000)
    _age()
    assert len(account_invoices(account=account).value) == 30
    time.sleep(1.1)
    new = paid_at_cloudflare(account, demo)
    demo.control("DELETE", "requests")
    _age()

    fresh = account_invoices(account=account).value

    assert len(demo.requests("invoices")) == 1
    assert (fresh.invoices[0].id, len(fresh), fresh.complete) == (new, 31, True)


def test_reads_shown_together_are_as_of_the_oldest_and_failed_when_any_failed():
    now = timezone.now()
    old, new = Snapshot([], now - timedelta(minutes=20)), Snapshot([], now, failed_at=now)

    both = snapshot_of_all(old, new)

    assert (both.fetched_at, both.failed_at) == (old.fetched_at, now)
    assert snapshot_of_all(old, old).failed_at is None
    assert snapshot_of_all(old, None) is None
