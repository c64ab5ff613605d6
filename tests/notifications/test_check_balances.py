"""`manage.py check_balances` (cron): reads the balance of every account with a balance
threshold, so an account nobody looks at is still told; skips balances read recently, stays
within the shared API budget, prints one summary line."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import CachedRead
from notifications.models import BalanceThreshold, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched_accounts(account, other_account, sandbox, sandbox_settings):
    """Both sandbox accounts below a $20 threshold."""
    for row in (account, other_account):
        BalanceThreshold.objects.create(account=row, cents=2000)
        sandbox.control("POST", "balance", {"account_id": row.account_id, "balance": -320})
    sandbox.control("DELETE", "requests")
    return account, other_account


NOT_READ = (
    "1 account(s) not read (Cloudflare could not be asked, or the API budget is spent); the next "
    "run tries again."
)


def run(*args, fails_with: str = "") -> str:
    """The summary; with `fails_with`, the command must fail (exit non-zero) with that message
    after printing it."""
    out = StringIO()
    if fails_with:
        with pytest.raises(CommandError) as failure:
            call_command("check_balances", *args, stdout=out)
        assert str(failure.value) == fails_with
    else:
        call_command("check_balances", *args, stdout=out)
    return out.getvalue()


def balance_lows() -> int:
    return Notification.objects.filter(type="balance.low").count()


def test_unattended_accounts_are_read_and_told_once(watched_accounts, sandbox):
    assert run() == (
        "2 account(s) with a balance threshold: 2 read, 0 skipped (read in the last 15 min), "
        "0 not read (Cloudflare could not be asked), 0 left for later (API budget spent); "
        "2 balance.low notification(s) written.\n"
    )
    assert balance_lows() == 2
    assert len(sandbox.requests("balance")) == 2

    assert "0 read, 2 skipped (read in the last 15 min)" in run()  # read just now: not again
    assert len(sandbox.requests("balance")) == 2

    CachedRead.objects.update(fetched_at=timezone.now() - timedelta(minutes=20))
    assert run().endswith(
        "2 read, 0 skipped (read in the last 15 min), 0 not read (Cloudflare "
        "could not be asked), 0 left for later (API budget spent); 0 balance.low "
        "notification(s) written.\n"
    )
    assert len(sandbox.requests("balance")) == 4
    assert balance_lows() == 2  # the same crossing: told once


def test_accounts_without_a_threshold_are_not_read(watched_accounts, other_account, sandbox):
    BalanceThreshold.objects.filter(account=other_account).delete()
    assert run("--skip-read-within", "0").startswith(
        "1 account(s) with a balance threshold: 1 read"
    )
    (read,) = sandbox.requests("balance")
    assert watched_accounts[0].account_id in read["path"]


def test_an_account_with_several_thresholds_is_read_once(watched_accounts, account, sandbox):
    BalanceThreshold.objects.create(account=account, cents=500)
    assert run().startswith("2 account(s) with a balance threshold: 2 read")
    assert len(sandbox.requests("balance")) == 2
    assert balance_lows() == 3


def test_a_spent_api_budget_stops_the_run_politely(watched_accounts, sandbox, settings):
    settings.CLOUDFLARE_API_BUDGET = 101  # the reserve (100) plus one read
    assert run(fails_with=NOT_READ) == (
        "2 account(s) with a balance threshold: 1 read, 0 skipped (read in the last 15 min), "
        "0 not read (Cloudflare could not be asked), 1 left for later (API budget spent); "
        "1 balance.low notification(s) written.\n"
    )
    assert len(sandbox.requests("balance")) == 1


def test_an_account_cloudflare_cannot_answer_does_not_stop_the_others(watched_accounts, sandbox):
    sandbox.fault("balance", "500", count=3)  # the first read, with its retries
    assert run(fails_with=NOT_READ) == (
        "2 account(s) with a balance threshold: 1 read, 0 skipped (read in the last 15 min), "
        "1 not read (Cloudflare could not be asked), 0 left for later (API budget spent); "
        "1 balance.low notification(s) written.\n"
    )
    assert balance_lows() == 1
