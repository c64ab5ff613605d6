"""The account's reads are asked of Cloudflare at most once per age, whoever asks, and come back
from the database as the same typed values."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import CachedRead
from accounts.snapshots import (
    account_balance,
    account_daily_usage,
    account_invoices,
    account_snapshots_expire,
)
from cloudflare_client import CreditBalance

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
    invoices = account_invoices(account=account)
    assert days.value == account_daily_usage(account=account).value
    assert invoices.value == account_invoices(account=account).value
    assert len(demo.requests("usage")) == 1
    assert invoices.value[0].created is not None


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
    account, admin_user, sandbox, sandbox_settings
):
    from tests.topups.steps import paid_at_cloudflare
    from topups.models import TopUp
    from topups.services.status import topup_refresh_status

    assert account_balance(account=account).value.balance_cents == 0
    topup = TopUp.objects.create(
        account=account,
        created_by=admin_user,
        amount_cents=5000,
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
    import threading

    demo.configure(latency_ms=800)
    reading = threading.Thread(target=account_balance, kwargs={"account": account})
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
