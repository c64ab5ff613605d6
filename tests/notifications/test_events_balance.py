"""Each read of the balance from Cloudflare (accounts.signals.balance_read) is checked against
the account's thresholds: one `balance.low` per threshold crossed, whoever reads it and however
many read at once, re-armed by a read at or above it; auto top-up's trouble is told once per
failure and disabling. A receiver's failure never breaks the page that read the balance."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.cloudflare import client_for_account
from accounts.models import CloudflareAccount
from accounts.signals import balance_read
from accounts.snapshots import account_balance, account_snapshots_expire
from cloudflare_client import AutoTopUp, CreditBalance, PaymentMethod, UsageBucket
from notifications import balance as balance_events
from notifications.models import BalanceThreshold, Notification
from tests.concurrency import at_once
from tests.conftest import DEMO_ACCOUNT_ID

pytestmark = pytest.mark.django_db
OVERVIEW = reverse("accounts:overview", kwargs={"account_id": DEMO_ACCOUNT_ID})
NO_AUTO_TOPUP = AutoTopUp(None, None, None, None, None)


def balance(cents, auto_topup=NO_AUTO_TOPUP, card=None) -> CreditBalance:
    return CreditBalance(
        balance_cents=Decimal(cents),
        has_default_payment_method=card is not None,
        payment_method=card,
        auto_topup=auto_topup,
        first_topup_success=True,
    )


def read(account, cents, daily=None, **fields):
    """What accounts.snapshots sends after each balance read from Cloudflare."""
    account = CloudflareAccount.objects.get(pk=account.pk)
    balance_read.send(
        sender=CloudflareAccount, account=account, balance=balance(cents, **fields), daily=daily
    )


def days_spending(cents) -> list[UsageBucket]:
    """The last eight whole days, each spending `cents`."""
    now = datetime.now(tz=UTC)
    return [
        UsageBucket(f"d{n}", Decimal(cents), now - timedelta(days=n), now - timedelta(days=n - 1))
        for n in range(8, 0, -1)
    ]


def told() -> list[int]:
    """The thresholds (cents) told about by `balance.low`, in the order told."""
    low = Notification.objects.filter(type="balance.low").order_by("pk")
    return [notification.data["threshold_cents"] for notification in low]


def keys_told(type_: str) -> list[str]:
    keys = Notification.objects.filter(type=type_).order_by("pk").values_list("key", flat=True)
    return list(keys)


@pytest.fixture
def thresholds(account):
    return {
        cents: BalanceThreshold.objects.create(account=account, cents=cents)
        for cents in (10000, 2500, 500)
    }


def test_each_threshold_crossed_is_told_once_and_re_armed_above(account, thresholds):
    read(account, 5000)
    read(account, 4000)  # the same crossing
    assert told() == [10000]

    read(account, 2000)
    read(account, 300)
    assert told() == [10000, 2500, 500]

    read(account, 2500)  # at $25: re-armed for $25 and $5, still below $100
    assert list(
        BalanceThreshold.objects.filter(crossed_at__isnull=False).values_list("cents", flat=True)
    ) == [10000]
    read(account, 12000)
    assert not BalanceThreshold.objects.filter(crossed_at__isnull=False).exists()

    read(account, 100)  # one fall across all three: one notification each
    assert told() == [10000, 2500, 500, 10000, 2500, 500]
    assert len({n.key for n in Notification.objects.all()}) == 6


def test_the_notification_carries_the_balance_and_the_runway(account, thresholds):
    visa = PaymentMethod("visa", "4242")
    read(account, "1999.5", days_spending(500), card=visa)

    notification = Notification.objects.get(data__threshold_cents=2500)
    crossing = thresholds[2500]
    crossing.refresh_from_db()
    assert notification.key == f"balance.low:{crossing.pk}:{crossing.crossed_at.isoformat()}"
    data = notification.data
    runs_out_at = datetime.fromisoformat(data.pop("runs_out_at"))
    assert data == {
        "threshold_cents": 2500,
        "crossed_at": crossing.crossed_at.isoformat(),
        "balance_cents": 1999,  # whole cents, down: below $20.00
        "card": {"brand": "visa", "last4": "4242"},
        "auto_topup_active": False,
        "runway": "days",
        "runway_days": 4.0,
        "burn_cents_per_day": 500,
    }
    assert runs_out_at - crossing.crossed_at == timedelta(days=3.999)


def test_a_balance_whose_usage_is_unknown_or_run_out_says_so(account, thresholds):
    read(account, 2000)  # no usage read yet
    read(account, -320)
    lower = Notification.objects.filter(data__threshold_cents__lt=10000).order_by("pk")
    unknown, run_out = (n.data for n in lower)
    assert (unknown["runway"], unknown["runway_days"], unknown["burn_cents_per_day"]) == (
        "unknown",
        None,
        None,
    )
    assert (run_out["runway"], run_out["runway_days"], run_out["balance_cents"]) == (
        "run_out",
        0,
        -320,
    )


def test_an_account_without_thresholds_is_told_nothing(account):
    read(account, 0)
    assert Notification.objects.count() == 0


def test_a_crossing_rolled_back_is_neither_marked_nor_told(account, thresholds):
    def read_then_fail():
        with transaction.atomic():
            read(account, 3000)
            assert told() == [10000]
            raise RuntimeError("the reader's transaction fails")

    with pytest.raises(RuntimeError, match="transaction fails"):
        read_then_fail()

    assert Notification.objects.count() == 0
    assert not BalanceThreshold.objects.filter(crossed_at__isnull=False).exists()
    read(account, 3000)
    assert told() == [10000]


@pytest.mark.django_db(transaction=True)
def test_workers_reading_the_low_balance_at_once_tell_each_crossing_once(account, thresholds):
    at_once(lambda _: read(account, 2000), 6)

    assert sorted(told()) == [2500, 10000]
    assert BalanceThreshold.objects.filter(crossed_at__isnull=False).count() == 2


def test_a_balance_read_from_cloudflare_is_checked_once(account, thresholds, sandbox_settings):
    account_balance(account=account)  # the sandbox's fresh account has nothing
    account_balance(account=account)  # from the database: not a read from Cloudflare
    account_snapshots_expire(account=account)
    account_balance(account=account)  # read again, the same crossing

    assert told() == [10000, 2500, 500]


def test_a_receiver_that_fails_never_breaks_the_page_and_the_next_read_tells(
    client, admin_user, account, thresholds, sandbox, sandbox_settings, monkeypatch, caplog
):
    sandbox.control("POST", "balance", {"balance": 3000})
    client.force_login(admin_user)

    def broken(**kwargs):
        raise ZeroDivisionError("a bug in the runway")

    with monkeypatch.context() as patched, caplog.at_level(logging.ERROR, "accounts.snapshots"):
        patched.setattr(balance_events, "runway", broken)
        response = client.get(OVERVIEW)

    assert response.status_code == 200
    assert "$30.00" in response.content.decode()
    assert "the balance read's receiver balance_thresholds_on_read failed" in caplog.text
    assert "ZeroDivisionError: a bug in the runway" in caplog.text
    assert Notification.objects.count() == 0
    assert not BalanceThreshold.objects.filter(crossed_at__isnull=False).exists()

    account_snapshots_expire(account=account)
    assert client.get(OVERVIEW).status_code == 200
    assert told() == [10000]


# --- auto top-up's trouble ------------------------------------------------------------------

FAILED_AT = datetime(2026, 3, 10, 14, tzinfo=UTC)


def trouble(error="Your card was declined.", reason="payment_failed", failed_at=FAILED_AT):
    return AutoTopUp(Decimal(2000), Decimal(5000), reason, error, failed_at)


def test_each_auto_top_up_failure_and_disabling_is_told_once(account):
    read(account, 9000, auto_topup=trouble())
    read(account, 9000, auto_topup=trouble())
    assert keys_told("auto_topup.failed") == [f"auto_topup.failed:{FAILED_AT.isoformat()}"]
    assert keys_told("auto_topup.disabled") == [
        f"auto_topup.disabled:payment_failed:{FAILED_AT.isoformat()}"
    ]

    later = FAILED_AT + timedelta(days=1)
    read(account, 9000, auto_topup=trouble(failed_at=later))
    assert len(keys_told("auto_topup.failed")) == 2
    assert len(keys_told("auto_topup.disabled")) == 2


def test_the_auto_top_up_failure_says_what_cloudflare_said(account):
    read(account, "4999.9", auto_topup=trouble(reason=None), card=PaymentMethod("visa", "4242"))

    (notification,) = Notification.objects.all()
    assert notification.type == "auto_topup.failed"
    assert notification.data == {
        "error": "Your card was declined.",
        "disabled_reason": None,
        "last_failed_at": FAILED_AT.isoformat(),
        "amount_cents": 2000,
        "threshold_cents": 5000,
        "balance_cents": 4999,
        "card": {"brand": "visa", "last4": "4242"},
        "auto_topup_active": True,
    }


def test_an_error_without_a_failure_time_cannot_be_told_apart_and_is_not_told(account):
    read(account, 9000, auto_topup=trouble(reason=None, failed_at=None))
    assert Notification.objects.count() == 0


def test_auto_top_up_without_a_card_failing_at_cloudflare_is_told(
    account, sandbox, sandbox_settings
):
    sandbox.configure(topup_config_writes=True)
    sandbox.control("POST", "balance", {"balance": 9000})
    client_for_account(account).auto_topup.set(
        account.account_id, amount_cents=2000, threshold_cents=10000
    )
    account_balance(account=account)
    account_snapshots_expire(account=account)
    account_balance(account=account)

    failed = Notification.objects.get(type="auto_topup.failed")
    disabled = Notification.objects.get(type="auto_topup.disabled")
    assert (failed.data["error"], failed.data["disabled_reason"]) == (
        "No card is saved.",
        "payment_failed",
    )
    assert disabled.data["last_failed_at"] == failed.data["last_failed_at"]
