"""The shared API budget: one row per credential in the database, spent by a conditional UPDATE,
with headroom kept for creates and a cool-down after Cloudflare's 429."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.budget import DatabaseBudget, credential_fingerprint
from accounts.cloudflare import client_for_account
from accounts.models import ApiBudget
from cloudflare_client import CloudflareBudgetExhausted, CloudflareRateLimited, Credentials
from tests.concurrency import at_once
from tests.conftest import DEMO_ACCOUNT_ID, SANDBOX_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_budget(settings):
    settings.CLOUDFLARE_API_BUDGET = 5
    settings.CLOUDFLARE_API_BUDGET_RESERVE = 2
    settings.CLOUDFLARE_API_BUDGET_WINDOW = 300
    return DatabaseBudget("f" * 64)


def spend(budget, *, moves_money: bool, times: int) -> int:
    admitted = 0
    for _ in range(times):
        try:
            budget.admit(moves_money=moves_money)
            admitted += 1
        except CloudflareBudgetExhausted:
            pass
    return admitted


def test_reads_stop_short_of_the_reserve_that_creates_may_use(small_budget):
    assert spend(small_budget, moves_money=False, times=10) == 3
    assert spend(small_budget, moves_money=True, times=10) == 2
    assert ApiBudget.objects.get().calls == 5


def test_an_exhausted_budget_says_when_the_window_ends(small_budget):
    spend(small_budget, moves_money=True, times=5)
    with pytest.raises(CloudflareBudgetExhausted) as info:
        small_budget.admit(moves_money=True)
    assert 1 <= info.value.retry_after <= 300
    assert isinstance(info.value, CloudflareRateLimited)  # callers treat it as a 429


def test_a_new_window_starts_from_zero(small_budget):
    spend(small_budget, moves_money=True, times=5)
    ApiBudget.objects.update(window_started_at=timezone.now() - timedelta(seconds=301))
    assert spend(small_budget, moves_money=False, times=1) == 1
    assert ApiBudget.objects.get().calls == 1


def test_a_cool_down_stops_reads_but_not_creates(small_budget):
    small_budget.rate_limited(30)
    with pytest.raises(CloudflareBudgetExhausted) as info:
        small_budget.admit(moves_money=False)
    assert 28 <= info.value.retry_after <= 30
    small_budget.admit(moves_money=True)

    ApiBudget.objects.update(cooldown_until=timezone.now() - timedelta(seconds=1))
    small_budget.admit(moves_money=False)


def test_a_shorter_cool_down_never_shortens_a_longer_one(small_budget):
    small_budget.rate_limited(120)
    small_budget.rate_limited(5)
    remaining = ApiBudget.objects.get().cooldown_until - timezone.now()
    assert remaining > timedelta(seconds=100)


def test_credentials_and_base_urls_have_budgets_of_their_own():
    token = Credentials(api_token="t1")
    assert credential_fingerprint(token, "https://a") != credential_fingerprint(token, "https://b")
    assert credential_fingerprint(token, "https://a") != credential_fingerprint(
        Credentials(api_token="t2"), "https://a"
    )
    assert "t1" not in credential_fingerprint(token, "https://a")


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_the_last_calls_never_overspend(small_budget):
    """Sixteen threads, each with its own database connection, ask at once for five calls."""
    admitted = at_once(lambda _: spend(small_budget, moves_money=True, times=1), 16)

    assert sum(admitted) == 5
    assert ApiBudget.objects.get().calls == 5


def test_a_429_pauses_status_calls_while_a_create_still_goes_through(
    client_factory, sandbox, small_budget
):
    """Against the sandbox: the client asks the gate before every call, retries included. A
    Retry-After longer than the client's max_retry_after ends the call at once."""
    cf = client_factory(gate=DatabaseBudget("e" * 64), max_retry_after=10)
    created = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    sandbox.fault("status", "429", retry_after=30)

    with pytest.raises(CloudflareRateLimited):
        cf.topups.status(DEMO_ACCOUNT_ID, created.payment_intent_id)
    with pytest.raises(CloudflareBudgetExhausted):
        cf.topups.status(DEMO_ACCOUNT_ID, created.payment_intent_id)
    second = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=2500)

    assert second.payment_intent_id
    assert [r["endpoint"] for r in sandbox.requests()] == ["create", "status", "create"]
    assert SANDBOX_TOKEN not in str(list(ApiBudget.objects.values()))


@pytest.mark.django_db(transaction=True)
def test_a_short_retry_after_is_waited_out_while_other_workers_stay_paused(
    account, sandbox, sandbox_settings
):
    """A 429 asking for 2 s, within max_retry_after: the client's own retry waits the 2 s and
    goes through; a read another worker tries meanwhile is not sent."""
    created = client_for_account(account).topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    sandbox.fault("status", "429", retry_after=2)
    outcome = {}

    def check_status():
        started = time.monotonic()
        try:
            topup = client_for_account(account).topups.status(
                DEMO_ACCOUNT_ID, created.payment_intent_id
            )
            outcome["status"] = topup.status
        except CloudflareRateLimited as exc:
            outcome["error"] = exc
        finally:
            outcome["seconds"] = time.monotonic() - started
            connection.close()

    waiting = threading.Thread(target=check_status)
    waiting.start()
    deadline = time.monotonic() + 5
    while not ApiBudget.objects.exclude(cooldown_until=None).exists():
        assert time.monotonic() < deadline, "the 429 never started a cool-down"
        time.sleep(0.02)
    with pytest.raises(CloudflareBudgetExhausted):
        client_for_account(account).topups.status(DEMO_ACCOUNT_ID, created.payment_intent_id)
    waiting.join()

    assert outcome.get("status") == "pending", outcome
    assert outcome["seconds"] >= 2
    assert [r["status"] for r in sandbox.requests("status")] == [429, 200]


def test_a_create_answered_429_is_not_retried_however_short_the_wait(
    account, sandbox, sandbox_settings
):
    sandbox.fault("create", "429", retry_after=2)
    started = time.monotonic()
    with pytest.raises(CloudflareRateLimited) as info:
        client_for_account(account).topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    assert info.value.retry_after == 2
    assert time.monotonic() - started < 1
    assert len(sandbox.requests("create")) == 1


def test_a_retry_the_budget_refuses_after_its_pause_is_not_sent(
    client_factory, sandbox, small_budget
):
    """The last read call of the window is spent on the first attempt: the retry of its 500
    is not sent, and the caller learns that the budget, not Cloudflare, stopped it."""
    cf = client_factory(gate=small_budget)
    spend(small_budget, moves_money=False, times=2)
    sandbox.fault("status", "500", count=5)

    with pytest.raises(CloudflareBudgetExhausted) as info:
        cf.topups.status(DEMO_ACCOUNT_ID, "in_whatever")

    assert info.value.retry_after >= 1
    assert len(sandbox.requests("status")) == 1


def test_room_for_a_read_is_told_without_spending_a_call(small_budget):
    assert small_budget.has_room(moves_money=False)  # no row yet
    spend(small_budget, moves_money=False, times=3)
    assert not small_budget.has_room(moves_money=False)
    assert small_budget.has_room(moves_money=True)  # the reserve is left for creates
    assert ApiBudget.objects.get().calls == 3
    ApiBudget.objects.update(window_started_at=timezone.now() - timedelta(seconds=301))
    assert small_budget.has_room(moves_money=False)  # a new window
    small_budget.rate_limited(30)
    assert not small_budget.has_room(moves_money=False)
    assert small_budget.has_room(moves_money=True)
