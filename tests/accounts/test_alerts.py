"""The low-balance alert: one email to admins and finance per crossing, with the runway and a
link, whoever reads the balance; re-armed when the balance is back above."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.alerts import account_low_balance_check
from accounts.models import CloudflareAccount
from accounts.snapshots import account_balance
from cloudflare_client import AutoTopUp, CreditBalance, UsageBucket
from tests.concurrency import at_once
from tests.conftest import DEMO_ACCOUNT_ID

pytestmark = pytest.mark.django_db


def balance(cents) -> CreditBalance:
    return CreditBalance(
        balance_cents=Decimal(cents),
        has_default_payment_method=False,
        payment_method=None,
        auto_topup=AutoTopUp(None, None, None, None, None),
        first_topup_success=True,
    )


@pytest.fixture
def watched(account, admin_user, finance_user, viewer_user):
    admin_user.email, finance_user.email, viewer_user.email = "a@x.test", "f@x.test", "v@x.test"
    for user in (admin_user, finance_user, viewer_user):
        user.save()
    account.low_balance_alert_cents = 2000
    account.save()
    return account


def check(account, cents, daily=None):
    account = CloudflareAccount.objects.get(pk=account.pk)
    return account_low_balance_check(account=account, balance=balance(cents), daily=daily)


def days_spending(cents) -> list[UsageBucket]:
    """The last eight whole days, each spending `cents`."""
    now = datetime.now(tz=UTC)
    return [
        UsageBucket(f"d{n}", Decimal(cents), now - timedelta(days=n), now - timedelta(days=n - 1))
        for n in range(8, 0, -1)
    ]


def test_one_email_per_crossing_to_admins_and_finance(watched, settings):
    settings.SITE_URL = "https://billing.example.com"
    daily = days_spending(500)

    assert check(watched, "1999.5", daily) is True
    assert check(watched, 1500, daily) is False  # the same crossing

    (email,) = mail.outbox
    assert sorted(email.to) == ["a@x.test", "f@x.test"]
    assert email.subject == "Acme AI (production): AI Gateway credits are running low ($20.00)"
    assert "below the alert threshold of $20.00" in email.body
    assert "$5.00 a day, it lasts about 4 more day(s)" in email.body
    assert f"https://billing.example.com/accounts/{DEMO_ACCOUNT_ID}/" in email.body

    assert check(watched, 5000) is False  # back above: re-armed
    assert check(watched, 100) is True
    assert len(mail.outbox) == 2


def test_the_email_of_an_account_that_hardly_spends_says_more_than_a_year(watched):
    assert check(watched, 1999, days_spending("0.0001")) is True
    assert "$0.00 a day, it lasts more than a year." in mail.outbox[0].body


def test_no_threshold_no_email(account, admin_user):
    assert check(account, 0) is False
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_workers_reading_the_low_balance_at_once_send_one_email(watched):
    sent = at_once(lambda _: check(watched, 100), 6)
    assert sent.count(True) == 1
    assert len(mail.outbox) == 1


def test_a_balance_read_from_cloudflare_is_checked(watched, sandbox, sandbox_settings):
    account_balance(account=watched)  # the sandbox's fresh account has nothing
    assert len(mail.outbox) == 1
    account_balance(account=watched)
    assert len(mail.outbox) == 1


def test_a_balance_below_zero_from_cloudflare_alerts_that_the_credits_have_run_out(
    watched, sandbox, sandbox_settings
):
    sandbox.control("POST", "balance", {"balance": -320})
    account_balance(account=watched)
    (email,) = mail.outbox
    assert email.subject == "Acme AI (production): AI Gateway credits are running low (\u2212$3.20)"
    assert "is \u2212$3.20, below the alert threshold of $20.00" in email.body
    assert "The credits have run out." in email.body


def test_admins_set_the_threshold_and_others_cannot(client, admin_user, viewer_user, account):
    url = reverse("accounts:low_balance_alert", kwargs={"account_id": DEMO_ACCOUNT_ID})
    client.force_login(viewer_user)
    assert client.post(url, {"threshold": "25"}).status_code == 403
    client.force_login(admin_user)
    response = client.post(url, {"threshold": "25"}, follow=True)
    assert "falls below $25.00" in response.content.decode()
    account.refresh_from_db()
    assert account.low_balance_alert_cents == 2500
    client.post(url, {"threshold": ""})
    account.refresh_from_db()
    assert account.low_balance_alert_cents is None
