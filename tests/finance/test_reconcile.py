"""Reconciliation with Cloudflare's invoices, against the sandbox: a stale top-up settled by its
paid invoice, a lost create offered to finance with the invoice it charged, amounts that
disagree reported."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from finance.reconcile import candidate_invoices, reconcile_account
from tests.conftest import DEMO_ACCOUNT_ID
from tests.topups.steps import confirm, paid_at_cloudflare, pay_with_card
from topups.models import TopUp, TopUpEvent
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


def test_a_stale_top_up_is_settled_by_its_paid_invoice(
    make_topup, account, sandbox, sandbox_settings
):
    stale = make_topup(
        state=TopUpState.STALE,
        cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
        stale_reason="Still pending after 120 minutes.",
    )
    out = io.StringIO()

    call_command("reconcile_invoices", stdout=out)

    stale.refresh_from_db()
    assert stale.state == TopUpState.COMPLETED
    event = stale.events.get(kind=TopUpEvent.Kind.RECONCILED)
    assert event.detail["invoice_id"] == stale.payment_intent_id
    assert event.detail["invoice_status"] == "paid"
    assert "1 settled by their invoice" in out.getvalue().splitlines()[-1]


def test_amounts_that_disagree_are_reported(make_topup, account, sandbox, sandbox_settings):
    wrong = make_topup(cents=9900, payment_intent_id=paid_at_cloudflare(account, sandbox))
    report = reconcile_account(account=account)
    assert report.mismatched == [(wrong.pk, wrong.payment_intent_id)]


def test_invoices_with_no_top_up_here_are_listed(account, sandbox, sandbox_settings):
    paid_at_cloudflare(account, sandbox)  # paid at Cloudflare, no row here
    report = reconcile_account(account=account)
    assert len(report.unmatched_invoices) == 1


def test_a_lost_create_is_offered_the_invoice_it_charged(
    client, admin_user, finance_user, account, sandbox, sandbox_settings
):
    """The card is saved, create charges it, and its answer is lost: the row is unknown, with no
    id to match. Finance sees the one invoice that fits."""
    client.force_login(admin_user)
    confirm(client, amount_cents=1000)  # the first top-up, paid with a new card
    first = TopUp.objects.get()
    pay_with_card(sandbox, first.client_secret)
    sandbox.fault("create", "500", apply=True)
    confirm(client, amount_cents=4200)
    lost = TopUp.objects.get(amount_cents=4200)
    assert (lost.state, lost.payment_intent_id) == (TopUpState.UNKNOWN, None)

    reconcile_account(account=account)
    lost.refresh_from_db()
    assert lost.state == TopUpState.UNKNOWN  # never settled on a guess

    (candidate,) = candidate_invoices(topup=lost)
    assert candidate.amount_paid_cents == 4200
    client.force_login(finance_user)
    page = client.get(
        reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": lost.pk})
    )
    assert candidate.id in page.content.decode()
