"""The low-balance alert: one email to admins and finance per crossing, with the runway and a
link, whoever reads the balance; re-armed when the balance is back above. Marked sent only once
the mail server took it: an outage never breaks a page, and the next read tries again."""

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.alerts import account_low_balance_check
from accounts.models import CloudflareAccount
from accounts.snapshots import account_balance, account_snapshots_expire
from cloudflare_client import AutoTopUp, CreditBalance, UsageBucket
from tests.accounts.smtp import point_smtp_at, smtp_server
from tests.concurrency import at_once
from tests.conftest import DEMO_ACCOUNT_ID
from tests.sandbox_process import free_port
from tests.test_security import LIVE_ENV, manage

pytestmark = pytest.mark.django_db
OVERVIEW = reverse("accounts:overview", kwargs={"account_id": DEMO_ACCOUNT_ID})


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
    assert "less than $0.01 a day, it lasts more than a year." in mail.outbox[0].body


def test_the_email_reads_exactly_so(watched, settings):
    settings.SITE_URL = "https://billing.example.com"
    assert check(watched, "1999.5", days_spending(500)) is True
    (email,) = mail.outbox
    assert re.fullmatch(
        "The AI Gateway credit balance of Acme AI \\(production\\) is \\$20.00, below the alert "
        "threshold of \\$20.00.\n"
        "\n"
        "At the recent rate of \\$5.00 a day, it lasts about 4 more day\\(s\\), until around "
        "[A-Z][a-z]{2} [0-3][0-9].\n"
        "\n"
        f"Top up here: https://billing.example.com/accounts/{DEMO_ACCOUNT_ID}/\n"
        "\n"
        "You get this once each time it falls below.",
        email.body,
    )


def test_the_email_is_plain_text_however_the_account_is_named(watched):
    watched.name = 'R&D <Lab> "Q1"'
    watched.save()
    assert check(watched, 100) is True
    (email,) = mail.outbox
    assert email.subject == 'R&D <Lab> "Q1": AI Gateway credits are running low ($1.00)'
    assert email.body.startswith('The AI Gateway credit balance of R&D <Lab> "Q1" is $1.00,')


def test_deactivated_users_get_no_email(watched, finance_user):
    finance_user.is_active = False
    finance_user.save()
    assert check(watched, 100) is True
    (email,) = mail.outbox
    assert email.to == ["a@x.test"]


def test_no_threshold_no_email(account, admin_user):
    assert check(account, 0) is False
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_workers_reading_the_low_balance_at_once_send_one_email(watched):
    sent = at_once(lambda _: check(watched, 100), 6)
    assert sent.count(True) == 1
    assert len(mail.outbox) == 1


def alerted(account) -> bool:
    account.refresh_from_db()
    return account.low_balance_alerted_at is not None


def test_a_mail_server_that_is_not_there_leaves_the_alert_for_the_next_read(
    watched, settings, caplog
):
    point_smtp_at(settings, free_port())  # nothing listens there
    with caplog.at_level(logging.ERROR, "accounts.alerts"):
        assert check(watched, 100) is False
    assert "Low-balance alert for account" in caplog.text
    assert "not sent" in caplog.text
    assert not alerted(watched)

    with smtp_server() as server:
        point_smtp_at(settings, server.port)
        assert check(watched, 100) is True
        assert check(watched, 100) is False
    (message,) = server.messages
    assert b"Subject: Acme AI (production): AI Gateway credits are running low" in message
    assert alerted(watched)


def test_a_mail_server_that_refuses_leaves_the_alert_for_the_next_read(watched, settings):
    with smtp_server("refuse") as server:
        point_smtp_at(settings, server.port)
        assert check(watched, 100) is False
    assert not alerted(watched)


def test_a_mail_server_that_never_answers_is_given_up_on_after_email_timeout(watched, settings):
    with smtp_server("silent") as server:
        point_smtp_at(settings, server.port, timeout=1)
        started = time.monotonic()
        assert check(watched, 100) is False
        assert time.monotonic() - started < 5
    assert not alerted(watched)


def test_the_overview_renders_while_mail_is_down_and_a_later_read_sends_the_alert(
    client, watched, admin_user, sandbox, sandbox_settings, settings
):
    sandbox.control("POST", "balance", {"balance": 100})
    client.force_login(admin_user)
    with smtp_server("silent") as server:
        point_smtp_at(settings, server.port, timeout=1)
        response = client.get(OVERVIEW)
    assert response.status_code == 200
    assert "$1.00" in response.content.decode()
    assert not alerted(watched)

    account_snapshots_expire(account=watched)  # the next read from Cloudflare
    with smtp_server() as server:
        point_smtp_at(settings, server.port)
        assert client.get(OVERVIEW).status_code == 200
    assert len(server.messages) == 1
    assert alerted(watched)


def test_a_claim_left_by_a_worker_that_died_is_taken_over_later(watched):
    CloudflareAccount.objects.filter(pk=watched.pk).update(
        low_balance_alert_claimed_at=datetime.now(tz=UTC) - timedelta(seconds=30)
    )
    assert check(watched, 100) is False  # another worker may be sending right now
    CloudflareAccount.objects.filter(pk=watched.pk).update(
        low_balance_alert_claimed_at=datetime.now(tz=UTC) - timedelta(hours=1)
    )
    assert check(watched, 100) is True
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_workers_reading_at_once_while_mail_is_down_then_up_send_one_email(watched, settings):
    with smtp_server("refuse") as down:
        point_smtp_at(settings, down.port)
        assert at_once(lambda _: check(watched, 100), 6).count(True) == 0
    assert not alerted(watched)
    with smtp_server(delay=0.5) as up:  # the sender holds its claim for half a second
        point_smtp_at(settings, up.port)
        assert at_once(lambda _: check(watched, 100), 6).count(True) == 1
    assert len(up.messages) == 1
    assert alerted(watched)


def test_mail_gives_up_after_email_timeout_seconds():
    show = (
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.EMAIL_TIMEOUT)",
    )
    assert manage(*show).stdout.strip() == "10.0"
    assert manage(*show, env=LIVE_ENV | {"EMAIL_TIMEOUT": "3"}).stdout.strip() == "3.0"


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
