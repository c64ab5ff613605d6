"""The API budget goes to what matters: reads that can wait (invoices, usage, balance, limits)
get a bounded share and are the first refused; status checks someone is waiting on keep the
rest; creates keep the reserve."""

import pytest

from accounts.budget import CallPriority, DatabaseBudget, calls_for
from cloudflare_client import CloudflareBudgetExhausted

pytestmark = pytest.mark.django_db


@pytest.fixture
def budget(settings):
    settings.CLOUDFLARE_API_BUDGET = 10
    settings.CLOUDFLARE_API_BUDGET_RESERVE = 2
    settings.CLOUDFLARE_API_BUDGET_DEFERRABLE = 5
    return DatabaseBudget("fingerprint")


def spend(budget, count, **kwargs) -> int:
    admitted = 0
    for _ in range(count):
        try:
            budget.admit(moves_money=kwargs.get("moves_money", False))
        except CloudflareBudgetExhausted:
            continue
        admitted += 1
    return admitted


def test_reads_that_can_wait_stop_at_their_share_and_status_checks_go_on(budget):
    assert spend(budget, 8) == 5  # deferrable reads: their share only
    with calls_for(CallPriority.STATUS):
        assert spend(budget, 8) == 3  # status checks: up to the reserve
    assert spend(budget, 3, moves_money=True) == 2  # creates: the reserve


def test_a_read_is_deferrable_unless_it_says_otherwise(budget):
    with calls_for(CallPriority.STATUS):
        assert spend(budget, 5) == 5
    assert spend(budget, 1) == 0  # the deferrable share was used by the status checks first


def test_the_priority_ends_with_its_block(budget):
    with calls_for(CallPriority.STATUS):
        pass
    assert spend(budget, 8) == 5
