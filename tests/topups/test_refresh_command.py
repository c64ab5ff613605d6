"""`manage.py refresh_topups`: every unfinished top-up refreshed within the API budget, safe to
run from several machines at once. Rows are refreshed in threads, so these tests commit."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ApiBudget
from tests.concurrency import at_once
from tests.topups.steps import paid_at_cloudflare
from topups.models import TopUp
from topups.states import TopUpState
from topups.user_messages import CREATE_ERROR_MESSAGES

pytestmark = pytest.mark.django_db(transaction=True)


def run() -> str:
    out = io.StringIO()
    call_command("refresh_topups", stdout=out)
    return out.getvalue()


@pytest.fixture
def paid_rows(account, make_topup, sandbox, sandbox_settings):
    """Six top-ups paid (the first with a new card, the rest charged to it as the saved card),
    still `processing` on our side."""
    rows = []
    for _ in range(6):
        rows.append(
            make_topup(
                state=TopUpState.PROCESSING,
                payment_intent_id=paid_at_cloudflare(account, sandbox),
            )
        )
    sandbox.control("DELETE", "requests")
    return rows


def test_completes_what_cloudflare_completed_and_says_so(paid_rows, sandbox):
    output = run()

    assert {t.state for t in TopUp.objects.all()} == {TopUpState.COMPLETED}
    assert len(sandbox.requests("status")) == 6
    assert output.splitlines()[-1] == (
        "6 unfinished, 6 due for a check: 6 completed, 0 need attention, 0 outcome unknown, "
        "0 still unfinished."
    )


def test_two_runs_at_once_ask_about_each_top_up_once(paid_rows, sandbox):
    sandbox.configure(latency_ms=300)  # both runs are mid-flight together
    outputs = at_once(lambda _: run(), 2)

    assert len(outputs) == 2
    status_calls = [r["body"]["payment_intent_id"] for r in sandbox.requests("status")]
    assert sorted(status_calls) == sorted(t.payment_intent_id for t in paid_rows)
    assert {t.state for t in TopUp.objects.all()} == {TopUpState.COMPLETED}


def test_stale_creating_rows_become_unknown(make_topup, sandbox_settings):
    stale = make_topup()
    fresh = make_topup()
    TopUp.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    assert "1 outcome unknown" in run()

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.state == TopUpState.UNKNOWN
    assert stale.error_message == CREATE_ERROR_MESSAGES["unknown"]
    assert fresh.state == TopUpState.CREATING


def test_a_spent_budget_stops_status_checks(paid_rows, sandbox, settings):
    ApiBudget.objects.all().delete()  # forget the creates of the fixture
    settings.CLOUDFLARE_API_BUDGET = 3
    settings.CLOUDFLARE_API_BUDGET_RESERVE = 1
    with pytest.raises(CommandError, match=r"^4 top-up\(s\) could not be asked about"):
        run()  # exits non-zero, so cron notices
    assert len(sandbox.requests("status")) == 2
    assert TopUp.objects.filter(state=TopUpState.PROCESSING).count() == 4


def test_an_unknown_top_up_whose_late_answer_left_its_id_is_settled_by_status(
    account, make_topup, sandbox, sandbox_settings
):
    """A create answered after its row was marked unknown leaves the id there: the cron asks
    Cloudflare about it (recent ones only) instead of leaving a paid top-up to finance."""
    late = make_topup(
        state=TopUpState.UNKNOWN, payment_intent_id=paid_at_cloudflare(account, sandbox)
    )
    lost = make_topup(state=TopUpState.UNKNOWN)
    sandbox.control("DELETE", "requests")

    run()

    late.refresh_from_db()
    lost.refresh_from_db()
    assert late.state == TopUpState.COMPLETED
    assert lost.state == TopUpState.UNKNOWN  # no id: only finance can settle it
    assert len(sandbox.requests("status")) == 1
