"""Confirming and resolving: Cloudflare is asked at that moment, nobody acts on their own
top-up, and every action lands in the event trail."""

import re

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from finance import user_messages
from finance.access import finance_account_list
from finance.reconcile import reconciliation_report
from finance.selectors import finance_queue_counts
from finance.services import (
    FinanceRefusal,
    topup_confirm_many,
    topup_confirm_payment,
    topup_resolve,
    topups_record_from_invoices,
)
from topups.models import TopUp, TopUpEvent
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


def test_confirm_asks_cloudflare_and_records_who_and_when(
    make_topup, paid_at_cloudflare, finance_user, sandbox, sandbox_settings
):
    topup = make_topup(state=TopUpState.COMPLETED, payment_intent_id=paid_at_cloudflare())
    sandbox.control("DELETE", "requests")

    assert topup_confirm_payment(topup=topup, user=finance_user) == "confirmed"

    topup.refresh_from_db()
    assert (topup.confirmed_by, topup.confirmed_at is not None) == (finance_user, True)
    assert len(sandbox.requests("status")) == 1
    event = topup.events.get(kind=TopUpEvent.Kind.FINANCE_CONFIRMED)
    assert event.actor == finance_user


def test_confirm_refuses_what_cloudflare_has_not_completed(
    make_topup, account, finance_user, sandbox, sandbox_settings
):
    from accounts.cloudflare import client_for_account

    unpaid = client_for_account(account).topups.create(account.account_id, amount_cents=5000)
    topup = make_topup(state=TopUpState.PROCESSING, payment_intent_id=unpaid.payment_intent_id)

    assert topup_confirm_payment(topup=topup, user=finance_user) == "not_completed"
    topup.refresh_from_db()
    assert (topup.state, topup.confirmed_at) == (TopUpState.PROCESSING, None)


def test_a_stale_top_up_that_cloudflare_completed_is_completed_and_confirmed(
    make_topup, paid_at_cloudflare, finance_user, sandbox_settings
):
    topup = make_topup(state=TopUpState.STALE, payment_intent_id=paid_at_cloudflare())
    assert topup_confirm_payment(topup=topup, user=finance_user) == "confirmed"
    topup.refresh_from_db()
    assert (topup.state, topup.confirmed_by) == (TopUpState.COMPLETED, finance_user)


def test_nobody_confirms_their_own_top_up(
    make_topup, paid_at_cloudflare, sandbox, sandbox_settings
):
    topup = make_topup(state=TopUpState.COMPLETED, payment_intent_id=paid_at_cloudflare())
    sandbox.control("DELETE", "requests")
    assert topup_confirm_payment(topup=topup, user=topup.created_by) == "own"
    assert sandbox.requests("status") == []
    # The database refuses it too, whoever bypasses the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        type(topup).objects.filter(pk=topup.pk).update(
            confirmed_by=topup.created_by, confirmed_at=timezone.now()
        )


def test_cloudflare_unreachable_confirms_nothing(
    make_topup, paid_at_cloudflare, finance_user, sandbox, sandbox_settings
):
    topup = make_topup(state=TopUpState.COMPLETED, payment_intent_id=paid_at_cloudflare())
    sandbox.fault("status", "500", count=5)
    assert topup_confirm_payment(topup=topup, user=finance_user) == "unreachable"
    topup.refresh_from_db()
    assert topup.confirmed_at is None


@pytest.mark.django_db(transaction=True)  # confirmed in threads of their own
def test_bulk_confirm_counts_each_outcome(
    make_topup, paid_at_cloudflare, finance_user, sandbox_settings, sandbox
):
    paid = [
        make_topup(state=TopUpState.COMPLETED, payment_intent_id=paid_at_cloudflare())
        for _ in range(3)
    ]
    own = make_topup(
        state=TopUpState.COMPLETED, payment_intent_id=paid_at_cloudflare(), created_by=finance_user
    )

    results = topup_confirm_many(topups=[*paid, own], user=finance_user)

    assert results == {"confirmed": 3, "own": 1}


@pytest.mark.parametrize(
    ("charged", "state"), [(True, TopUpState.COMPLETED), (False, TopUpState.FAILED)]
)
@pytest.mark.parametrize("from_state", [TopUpState.UNKNOWN, TopUpState.STALE])
def test_resolve_by_hand_with_a_note(
    make_topup, finance_user, charged, state, from_state, account, sandbox_settings
):
    """ "Not charged" stands on Cloudflare's word: the invoices read since a lost create was
    started, or the status of a stale top-up's id (here: pending, never paid)."""
    from accounts.cloudflare import client_for_account
    from accounts.snapshots import account_invoices

    never_paid = client_for_account(account).topups.create(account.account_id, amount_cents=5000)
    topup = make_topup(
        state=from_state,
        payment_intent_id=never_paid.payment_intent_id if from_state == "stale" else None,
    )
    account_invoices(account=account)

    topup_resolve(topup=topup, user=finance_user, charged=charged, note="Invoice in_123 paid")

    topup.refresh_from_db()
    assert (topup.state, topup.resolved_by, topup.resolution_note) == (
        state,
        finance_user,
        "Invoice in_123 paid",
    )
    event = topup.events.get(kind=TopUpEvent.Kind.FINANCE_RESOLVED)
    assert event.detail == {
        "outcome": "charged" if charged else "not_charged",
        "note": "Invoice in_123 paid",
    }
    assert (event.actor, event.from_state, event.to_state) == (finance_user, from_state, state)


def test_resolve_refusals(make_topup, finance_user):
    unknown = make_topup(state=TopUpState.UNKNOWN)
    with pytest.raises(FinanceRefusal, match=re.escape(user_messages.CANNOT_RESOLVE_OWN)):
        topup_resolve(topup=unknown, user=unknown.created_by, charged=True, note="x")
    with pytest.raises(FinanceRefusal, match=re.escape(user_messages.NOTE_REFUSED)):
        topup_resolve(topup=unknown, user=finance_user, charged=True, note="sk_live_abc")
    completed = make_topup(state=TopUpState.COMPLETED)
    with pytest.raises(FinanceRefusal, match="Only a top-up whose outcome is unknown"):
        topup_resolve(topup=completed, user=finance_user, charged=False, note="x")
    assert not TopUpEvent.objects.filter(kind=TopUpEvent.Kind.FINANCE_RESOLVED).exists()


def test_of_two_finance_members_resolving_at_once_one_wins(
    make_topup, finance_user, second_finance_user
):
    other = second_finance_user
    topup = make_topup(state=TopUpState.UNKNOWN)
    seen_by_other = type(topup).objects.get(pk=topup.pk)

    topup_resolve(topup=topup, user=finance_user, charged=True, note="seen on invoice")
    with pytest.raises(FinanceRefusal, match=re.escape(user_messages.CHANGED_MEANWHILE)):
        topup_resolve(topup=seen_by_other, user=other, charged=True, note="seen too")


# --- four eyes where money is declared ------------------------------------------------------


def test_a_recorded_invoice_waits_for_a_second_finance_member(
    finance_user, second_finance_user, account, demo
):
    invoice = next(
        i for i in reconciliation_report(account=account).unmatched_invoices if i.status == "paid"
    )
    topups_record_from_invoices(account=account, invoice_ids=[invoice.id], user=finance_user)
    recorded = TopUp.objects.get(payment_intent_id=invoice.id)
    assert (recorded.state, recorded.recorded_by, recorded.confirmed_at) == (
        TopUpState.COMPLETED,
        finance_user,
        None,
    )
    assert (
        finance_queue_counts(accounts=finance_account_list(user=finance_user))["unconfirmed"] == 1
    )

    assert topup_confirm_payment(topup=recorded, user=finance_user) == "own"
    assert topup_confirm_payment(topup=recorded, user=second_finance_user) == "confirmed"

    recorded.refresh_from_db()
    assert recorded.confirmed_by == second_finance_user
    event = recorded.events.get(kind=TopUpEvent.Kind.FINANCE_CONFIRMED)
    assert event.detail == {"invoice_status": "paid"}
    with pytest.raises(IntegrityError), transaction.atomic():
        TopUp.objects.filter(pk=recorded.pk).update(confirmed_by=finance_user)


def test_nobody_confirms_an_invoice_they_made(finance_user, second_finance_user, account, demo):
    invoice = next(
        i
        for i in reconciliation_report(account=account).unmatched_invoices
        if i.status == "paid" and i.invoice_origin == "manual"
    )
    second_finance_user.email = invoice.created_by.upper()
    second_finance_user.save()
    topups_record_from_invoices(account=account, invoice_ids=[invoice.id], user=finance_user)
    recorded = TopUp.objects.get(payment_intent_id=invoice.id)

    assert topup_confirm_payment(topup=recorded, user=second_finance_user) == "own"
    recorded.refresh_from_db()
    assert recorded.confirmed_at is None


@pytest.mark.parametrize("with_id", [True, False])
def test_resolved_as_charged_waits_for_a_second_finance_member(
    make_topup,
    paid_at_cloudflare,
    finance_user,
    second_finance_user,
    sandbox,
    sandbox_settings,
    with_id,
):
    fields = {"payment_intent_id": paid_at_cloudflare()} if with_id else {}
    topup = make_topup(state=TopUpState.STALE if with_id else TopUpState.UNKNOWN, **fields)
    topup_resolve(topup=topup, user=finance_user, charged=True, note="Seen on the statement")
    topup.refresh_from_db()
    assert (topup.state, topup.confirmed_at) == (TopUpState.COMPLETED, None)
    sandbox.control("DELETE", "requests")

    assert topup_confirm_payment(topup=topup, user=finance_user) == "own"
    assert topup_confirm_payment(topup=topup, user=second_finance_user) == "confirmed"

    topup.refresh_from_db()
    assert topup.confirmed_by == second_finance_user
    # Asked at Cloudflare when it has an id; without, the second person's word on the note.
    assert len(sandbox.requests("status")) == (1 if with_id else 0)
    with pytest.raises(IntegrityError), transaction.atomic():
        TopUp.objects.filter(pk=topup.pk).update(confirmed_by=finance_user)


def test_not_charged_is_refused_while_cloudflare_cannot_be_asked(
    make_topup, finance_user, account, sandbox, sandbox_settings
):
    from accounts.cloudflare import client_for_account

    never_paid = client_for_account(account).topups.create(account.account_id, amount_cents=5000)
    stale = make_topup(state=TopUpState.STALE, payment_intent_id=never_paid.payment_intent_id)
    lost = make_topup(state=TopUpState.UNKNOWN)
    sandbox.fault("any", "500", count=100)

    with pytest.raises(FinanceRefusal, match=re.escape("could not be asked about this top-up")):
        topup_resolve(topup=stale, user=finance_user, charged=False, note="not seen")
    with pytest.raises(FinanceRefusal, match=re.escape("have not been read since")):
        topup_resolve(topup=lost, user=finance_user, charged=False, note="not seen")

    assert {t.state for t in type(stale).objects.filter(pk__in=[stale.pk, lost.pk])} == {
        TopUpState.STALE,
        TopUpState.UNKNOWN,
    }


def test_charged_takes_only_a_paid_invoice_of_its_amount(
    make_topup, finance_user, account, sandbox, sandbox_settings
):
    from accounts.cloudflare import client_for_account
    from accounts.snapshots import account_invoices

    open_invoice = client_for_account(account).topups.create(account.account_id, amount_cents=5000)
    lost = make_topup(state=TopUpState.UNKNOWN)
    account_invoices(account=account)

    with pytest.raises(FinanceRefusal, match=re.escape(user_messages.INVOICE_NOT_A_CANDIDATE)):
        topup_resolve(
            topup=lost,
            user=finance_user,
            charged=True,
            note="x",
            invoice_id=open_invoice.payment_intent_id,
        )
    lost.refresh_from_db()
    assert lost.state == TopUpState.UNKNOWN
