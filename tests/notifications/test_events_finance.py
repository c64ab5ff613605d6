"""Finance's events: `auto_topup.charged` when an auto top-up is recorded from Cloudflare's
invoice (in the recording's transaction, once per invoice), and `topup.waiting_for_finance`
once per top-up left on the desk's queue longer than FINANCE_WAIT_HOURS (from the hourly
reconcile_invoices)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.snapshots import account_balance
from finance.reconcile import reconciliation_report
from finance.services import topups_record_from_invoices
from finance.waiting import topups_waiting_for_finance_notify
from notifications.models import Notification
from tests.accounts.test_checks import _run
from tests.concurrency import at_once
from topups.models import TopUp
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


def unmatched_paid(account, origin):
    return next(
        invoice
        for invoice in reconciliation_report(account=account).unmatched_invoices
        if invoice.status == "paid" and invoice.invoice_origin == origin
    )


def test_an_auto_top_up_recorded_from_its_invoice_is_told_once(finance_user, account, demo):
    card = account_balance(account=account).value.payment_method  # the demo's saved card
    auto = unmatched_paid(account, "auto")

    first = topups_record_from_invoices(account=account, invoice_ids=[auto.id], user=finance_user)
    again = topups_record_from_invoices(account=account, invoice_ids=[auto.id], user=finance_user)

    assert (first["recorded"], again["already"]) == (1, 1)
    (notification,) = Notification.objects.all()
    topup = TopUp.objects.get(payment_intent_id=auto.id)
    assert (notification.type, notification.key) == (
        "auto_topup.charged",
        f"auto_topup.charged:{auto.id}",
    )
    assert notification.data == {
        "topup_id": topup.pk,
        "invoice_id": auto.id,
        "amount_cents": int(auto.amount_paid_cents),
        "currency": "usd",
        "charged_at": auto.created.isoformat(),
        "card": {"brand": card.brand, "last4": card.last4},
    }


def test_a_top_up_made_in_cloudflares_dashboard_is_not_an_auto_top_up(finance_user, account, demo):
    manual = unmatched_paid(account, "manual")
    topups_record_from_invoices(account=account, invoice_ids=[manual.id], user=finance_user)
    assert TopUp.objects.filter(payment_intent_id=manual.id).exists()
    assert not Notification.objects.exists()


def test_a_recording_rolled_back_leaves_no_notification(finance_user, account, demo):
    auto = unmatched_paid(account, "auto")

    def record_then_fail():
        with transaction.atomic():
            topups_record_from_invoices(account=account, invoice_ids=[auto.id], user=finance_user)
            assert Notification.objects.count() == 1
            raise RuntimeError("the request fails after recording")

    with pytest.raises(RuntimeError, match="after recording"):
        record_then_fail()
    assert not TopUp.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_auto_top_up_recorded_twice_at_once_is_told_once(finance_user, account, demo):
    auto = unmatched_paid(account, "auto")
    at_once(
        lambda _: topups_record_from_invoices(
            account=account, invoice_ids=[auto.id], user=finance_user
        ),
        4,
    )
    assert Notification.objects.filter(type="auto_topup.charged").count() == 1


# --- waiting for finance ---------------------------------------------------------------------


def waiting_since(topup, hours):
    TopUp.objects.filter(pk=topup.pk).update(updated_at=timezone.now() - timedelta(hours=hours))
    topup.refresh_from_db()
    return topup


def test_a_top_up_waiting_longer_than_finance_wait_hours_is_told_once(make_topup):
    unknown = waiting_since(make_topup(state=TopUpState.UNKNOWN), 25)
    waiting_since(make_topup(state=TopUpState.UNKNOWN), 23)  # not long enough yet

    assert topups_waiting_for_finance_notify() == 1
    assert topups_waiting_for_finance_notify() == 0

    (notification,) = Notification.objects.all()
    assert (notification.type, notification.key) == (
        "topup.waiting_for_finance",
        f"topup.waiting_for_finance:{unknown.pk}",
    )
    assert notification.data == {
        "topup_id": unknown.pk,
        "amount_cents": 5000,
        "currency": "usd",
        "origin": "portal",
        "state": "unknown",
        "payment_intent_id": None,
        "created_at": unknown.created_at.isoformat(),
        "completed_at": None,
        "waiting_since": unknown.updated_at.isoformat(),
        "waiting_hours": 24,
        "queue": "unknown",
        "queue_label": "Outcome unknown",
    }


def test_only_the_desks_queue_waits_for_finance(make_topup, finance_user, settings):
    settings.FINANCE_WAIT_HOURS = 2
    unconfirmed = waiting_since(make_topup(state=TopUpState.COMPLETED, payment_intent_id="p1"), 3)
    for fields in (
        {"state": TopUpState.PROCESSING, "payment_intent_id": "p2"},
        {"state": TopUpState.FAILED, "error_message": "Declined."},  # nothing was charged
        {
            "state": TopUpState.COMPLETED,
            "payment_intent_id": "p3",
            "confirmed_by": finance_user,
            "confirmed_at": timezone.now(),
        },
    ):
        waiting_since(make_topup(**fields), 3)

    assert topups_waiting_for_finance_notify() == 1
    (notification,) = Notification.objects.all()
    assert notification.data["topup_id"] == unconfirmed.pk
    assert (notification.data["queue"], notification.data["waiting_hours"]) == ("unconfirmed", 2)


def test_a_top_up_told_before_is_not_told_again_once_it_waits_again(make_topup):
    topup = waiting_since(make_topup(state=TopUpState.UNKNOWN), 25)
    topups_waiting_for_finance_notify()
    TopUp.objects.filter(pk=topup.pk).update(state=TopUpState.STALE)
    waiting_since(topup, 30)

    assert topups_waiting_for_finance_notify() == 0


def test_the_hourly_reconciliation_tells_those_waiting(make_topup, account, sandbox_settings):
    waiting_since(make_topup(state=TopUpState.UNKNOWN), 25)
    out = StringIO()

    call_command("reconcile_invoices", stdout=out)

    assert (
        out.getvalue()
        .splitlines()[-1]
        .endswith("; 1 top-up(s) newly waiting for finance over 24 hours notified.")
    )
    assert Notification.objects.filter(type="topup.waiting_for_finance").count() == 1


def test_finance_wait_hours_is_read_from_the_environment_and_must_be_an_hour_or_more():
    code = "from django.conf import settings as s; print(s.FINANCE_WAIT_HOURS)"
    show = ["manage.py", "shell", "-c", code]
    default = _run(show, BILLING_SANDBOX="true")
    six = _run(show, BILLING_SANDBOX="true", FINANCE_WAIT_HOURS="6")
    assert (default.stdout.splitlines()[-1], six.stdout.splitlines()[-1]) == ("24", "6")
    refused = _run(show, BILLING_SANDBOX="true", FINANCE_WAIT_HOURS="0")
    assert refused.returncode != 0
    assert "FINANCE_WAIT_HOURS must be 1 or more." in refused.stderr
