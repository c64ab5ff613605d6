"""Reconciliation with Cloudflare's invoices, against the sandbox: a stale top-up settled by its
paid invoice, a lost create settled by finance with the invoice it charged, amounts that
disagree reported, invoices with no top-up here recorded as top-ups (once)."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.snapshots import account_invoices
from finance.reconcile import candidate_invoices, reconciliation_report
from finance.services import (
    RECONCILE_INTERVAL,
    FinanceRefusal,
    account_reconcile,
    topup_confirm_payment,
    topup_resolve,
    topups_record_from_invoices,
)
from finance.user_messages import (
    INVOICE_NO_LONGER_FREE,
    INVOICE_PAID_REFUSES_NOT_CHARGED,
    INVOICE_TAKEN,
    INVOICES_UNREADABLE,
    NO_INVOICE_REASON_REQUIRED,
    RECONCILE_THROTTLED,
    RECORD_RESULTS,
)
from tests.concurrency import at_once
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
        amount_cents=5000,
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
    wrong = make_topup(
        state=TopUpState.COMPLETED,
        amount_cents=9900,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
    )
    report = account_reconcile(account=account)
    assert [(t.pk, i.id) for t, i in report.mismatched] == [(wrong.pk, wrong.payment_intent_id)]


def test_invoices_with_no_top_up_here_are_listed(account, sandbox, sandbox_settings):
    paid_at_cloudflare(account, sandbox)  # paid at Cloudflare, no row here
    report = account_reconcile(account=account)
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

    account_reconcile(account=account)
    lost.refresh_from_db()
    assert lost.state == TopUpState.UNKNOWN  # never settled on a guess

    (candidate,) = candidate_invoices(topup=lost)
    assert candidate.amount_paid_cents == 4200
    client.force_login(finance_user)
    url = reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": lost.pk})
    assert candidate.id in client.get(url).content.decode()
    assert candidate.id in _unmatched_ids(account)

    response = client.post(
        url, {"outcome": "charged", "invoice": candidate.id, "note": "Seen on the invoice."}
    )

    assert response.status_code == 302
    lost.refresh_from_db()
    assert (lost.state, lost.payment_intent_id) == (TopUpState.COMPLETED, candidate.id)
    assert lost.events.get(kind=TopUpEvent.Kind.FINANCE_RESOLVED).detail["invoice_id"] == (
        candidate.id
    )
    # Matched from now on: never offered for recording, so never counted twice.
    assert candidate.id not in _unmatched_ids(account)


def test_an_invoice_is_named_only_for_a_charged_top_up(
    client, make_topup, finance_user, account, sandbox, sandbox_settings
):
    lost = make_topup(state=TopUpState.UNKNOWN, amount_cents=5000)
    paid_at_cloudflare(account, sandbox)
    (candidate,) = candidate_invoices(topup=lost)
    client.force_login(finance_user)
    url = reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": lost.pk})

    response = client.post(url, {"outcome": "not_charged", "invoice": candidate.id, "note": "x"})

    assert response.status_code == 400
    assert "choose “Charged”" in response.content.decode()
    lost.refresh_from_db()
    assert (lost.state, lost.payment_intent_id) == (TopUpState.UNKNOWN, None)


def _unmatched_ids(account) -> list[str]:
    return [i.id for i in reconciliation_report(account=account).unmatched_invoices]


def test_without_settling_the_report_only_says_what_could_be_settled(
    make_topup, account, sandbox, sandbox_settings
):
    stale = make_topup(
        state=TopUpState.STALE,
        amount_cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
    )
    report = reconciliation_report(account=account)
    assert [(t.pk, i.status) for t, i in report.settleable] == [(stale.pk, "paid")]
    assert report.settled == []
    stale.refresh_from_db()
    assert stale.state == TopUpState.STALE


def test_finance_records_invoices_with_no_top_up_here(client, finance_user, account, demo):
    """The demo past holds paid manual and auto invoices made outside this portal."""
    client.force_login(finance_user)
    page = client.get(reverse("finance:reconciliation"))
    unmatched = page.context["reports"][0]["report"].unmatched_invoices
    origins = {i.invoice_origin for i in unmatched}
    assert origins == {"manual", "auto"}
    manual = next(i for i in unmatched if i.invoice_origin == "manual" and i.status == "paid")
    auto = next(i for i in unmatched if i.invoice_origin == "auto" and i.status == "paid")
    assert manual.id in page.content.decode()

    record = reverse("finance:record_invoices", kwargs={"account_id": DEMO_ACCOUNT_ID})
    first = client.post(record, {"invoice": [manual.id, auto.id]}, follow=True)
    again = client.post(record, {"invoice": [manual.id]}, follow=True)

    recorded = {t.payment_intent_id: t for t in TopUp.objects.all()}
    assert set(recorded) == {manual.id, auto.id}
    assert recorded[manual.id].origin == TopUp.Origin.ELSEWHERE
    assert recorded[auto.id].origin == TopUp.Origin.AUTO
    for invoice in (manual, auto):
        topup = recorded[invoice.id]
        assert topup.amount_cents == invoice.amount_paid_cents
        assert (topup.state, topup.created_by, topup.recorded_by, topup.confirmed_by) == (
            TopUpState.COMPLETED,
            None,
            finance_user,
            None,
        )
        assert topup.created_at == invoice.created
        event = topup.events.get(kind=TopUpEvent.Kind.RECORDED_FROM_INVOICE)
        assert (event.actor, event.detail["invoice_id"]) == (finance_user, invoice.id)
    assert _messages(first) == [RECORD_RESULTS["recorded"].format(n=2)]
    assert _messages(again) == [RECORD_RESULTS["already"].format(n=1)]
    assert {manual.id, auto.id}.isdisjoint(_unmatched_ids(account))
    history = client.get(reverse("topups:history", kwargs={"account_id": DEMO_ACCOUNT_ID}))
    assert "Auto top-up" in history.content.decode()


def test_an_unpaid_or_unknown_invoice_is_not_recorded(client, finance_user, account, demo):
    client.force_login(finance_user)
    record = reverse("finance:record_invoices", kwargs={"account_id": DEMO_ACCOUNT_ID})
    response = client.post(record, {"invoice": ["in_made_up"]}, follow=True)
    assert _messages(response) == [RECORD_RESULTS["not_found"].format(n=1)]
    assert not TopUp.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_invoice_recorded_twice_at_once_is_one_top_up(finance_user, account, demo):
    invoice = _unmatched_paid(account)
    results = at_once(
        lambda _: topups_record_from_invoices(
            account=account, invoice_ids=[invoice.id], user=finance_user
        ),
        4,
    )
    assert sum(r["recorded"] for r in results) == 1
    assert sum(r["already"] for r in results) == 3
    assert TopUp.objects.filter(payment_intent_id=invoice.id).count() == 1


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _unmatched_paid(account):
    unmatched = reconciliation_report(account=account).unmatched_invoices
    return next(i for i in unmatched if i.status == "paid")


def test_a_top_up_shows_its_invoice(
    client, make_topup, admin_user, account, sandbox, sandbox_settings
):
    paid = make_topup(
        state=TopUpState.COMPLETED,
        amount_cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
    )
    wrong = make_topup(
        state=TopUpState.COMPLETED,
        amount_cents=7500,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
    )
    client.force_login(admin_user)

    def page(topup):
        url = reverse("topups:detail", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": topup.pk})
        return client.get(url).content.decode()

    shown = page(paid)
    assert "Paid · $50.00 paid" in shown
    assert f"{paid.payment_intent_id}.pdf" in shown
    assert 'id="invoice-mismatch"' not in shown
    assert "Cloudflare invoiced $50.00 for this top-up, not $75.00." in page(wrong)


def test_a_top_up_whose_invoice_is_for_another_amount_is_left_to_a_person(
    client, finance_user, make_topup, account, sandbox, sandbox_settings
):
    """Cloudflare charged $75.00 for a $50.00 top-up: no machine decides what that means."""
    stale = make_topup(
        state=TopUpState.STALE,
        amount_cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox, amount_cents=7500),
    )

    assert reconciliation_report(account=account).settleable == []
    report = account_reconcile(account=account)

    assert report.settled == []
    assert [t.pk for t, _ in report.mismatched] == [stale.pk]
    stale.refresh_from_db()
    assert stale.state == TopUpState.STALE
    assert not stale.events.filter(kind=TopUpEvent.Kind.RECONCILED).exists()
    client.force_login(finance_user)
    page = client.get(reverse("finance:reconciliation")).content.decode()
    row = page[page.index(f"#{stale.pk}</a>") :]
    row = row[: row.index("</tr>")]
    assert "$50.00" in row
    assert "$75.00" in row
    assert "Not settled: a person decides" in row
    assert reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": stale.pk}) in row


@pytest.mark.parametrize("trouble", ["unreachable", "budget_spent"])
def test_reconcile_now_without_cloudflare_says_nothing_was_read_or_settled(
    finance_client, make_topup, account, sandbox, settings, trouble
):
    stale = make_topup(
        state=TopUpState.STALE,
        amount_cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
    )
    finance_client.get(reverse("finance:reconciliation"))  # the invoices are cached now
    if trouble == "unreachable":
        sandbox.fault("invoices", "500", count=20)
    else:
        settings.CLOUDFLARE_API_BUDGET = 0

    response = finance_client.post(reverse("finance:reconcile_now"), follow=True)

    assert _messages(response) == [INVOICES_UNREADABLE.format(account=account)]
    stale.refresh_from_db()
    assert stale.state == TopUpState.STALE


def test_reconcile_now_is_throttled_per_account(
    finance_client, make_topup, account, sandbox, sandbox_settings
):
    finance_client.post(reverse("finance:reconcile_now"), follow=True)
    reads = len(sandbox.requests("invoices"))
    stale = make_topup(
        state=TopUpState.STALE,
        amount_cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
    )

    # Another worker, another click: the claim lives in the database.
    again = finance_client.post(reverse("finance:reconcile_now"), follow=True)

    assert len(sandbox.requests("invoices")) == reads
    account.refresh_from_db()
    after = account.reconciled_at + RECONCILE_INTERVAL
    assert _messages(again) == [RECONCILE_THROTTLED.format(account=account, after=after)]
    stale.refresh_from_db()
    assert stale.state == TopUpState.STALE
    account.reconciled_at -= RECONCILE_INTERVAL  # a minute later
    account.save(update_fields=["reconciled_at"])
    later = finance_client.post(reverse("finance:reconcile_now"), follow=True)
    assert "1 top-up(s) settled by their invoice" in _messages(later)[0]


# --- one invoice, one top-up ------------------------------------------------------------------


def test_an_invoice_that_could_be_a_lost_create_is_not_recorded_separately(
    finance_client, make_topup, finance_user, account, sandbox, sandbox_settings
):
    lost = make_topup(state=TopUpState.UNKNOWN, amount_cents=5000)
    invoice_id = paid_at_cloudflare(account, sandbox)

    page = finance_client.get(reverse("finance:reconciliation")).content.decode()
    results = topups_record_from_invoices(
        account=account, invoice_ids=[invoice_id], user=finance_user
    )

    row = page[page.index(f"<code>{invoice_id}</code>") :]
    row = re.sub(r"<[^>]+>", "", row[: row.index("</tr>")])
    assert f"Could be top-up #{lost.pk}, outcome unknown" in row
    assert 'type="checkbox"' not in page[page.index("table--unmatched") :]
    assert results == {"claimed": 1}
    assert not TopUp.objects.filter(payment_intent_id=invoice_id).exists()
    response = finance_client.post(
        reverse("finance:record_invoices", kwargs={"account_id": DEMO_ACCOUNT_ID}),
        {"invoice": [invoice_id]},
        follow=True,
    )
    assert _messages(response) == [RECORD_RESULTS["claimed"].format(n=1)]


def test_an_invoice_a_create_still_in_flight_could_be_is_not_recorded_separately(
    make_topup, finance_user, account, sandbox, sandbox_settings
):
    """The row is still `creating` (its answer not yet recorded): the invoice may be its."""
    in_flight = make_topup(state=TopUpState.CREATING, amount_cents=5000)
    invoice_id = paid_at_cloudflare(account, sandbox)

    results = topups_record_from_invoices(
        account=account, invoice_ids=[invoice_id], user=finance_user
    )

    assert results == {"claimed": 1}
    assert not TopUp.objects.exclude(pk=in_flight.pk).filter(payment_intent_id=invoice_id).exists()


def test_charged_without_an_invoice_needs_a_reason_while_candidates_exist(
    finance_client, make_topup, account, sandbox, sandbox_settings
):
    lost = make_topup(state=TopUpState.UNKNOWN, amount_cents=5000)
    invoice_id = paid_at_cloudflare(account, sandbox)
    url = reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": lost.pk})
    charged = {"outcome": "charged", "invoice": "", "note": "Card statement shows $50."}

    refused = finance_client.post(url, charged)
    accepted = finance_client.post(
        url, {**charged, "no_invoice_reason": "That invoice is Bob's dashboard top-up."}
    )

    assert refused.status_code == 400
    assert refused.context["form"].errors == {"no_invoice_reason": [NO_INVOICE_REASON_REQUIRED]}
    assert accepted.status_code == 302
    lost.refresh_from_db()
    assert (lost.state, lost.payment_intent_id) == (TopUpState.COMPLETED, None)
    detail = lost.events.get(kind=TopUpEvent.Kind.FINANCE_RESOLVED).detail
    assert detail["passed_over_invoices"] == [invoice_id]
    assert detail["no_invoice_reason"] == "That invoice is Bob's dashboard top-up."


def test_a_candidate_another_top_up_took_meanwhile_is_refused_clearly(
    finance_client, make_topup, finance_user, account, sandbox, sandbox_settings
):
    first, second = (make_topup(state=TopUpState.UNKNOWN, amount_cents=5000) for _ in range(2))
    invoice_id = paid_at_cloudflare(account, sandbox)
    url = reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": second.pk})
    assert invoice_id in finance_client.get(url).content.decode()  # offered to both
    topup_resolve(topup=first, user=finance_user, charged=True, note="x", invoice_id=invoice_id)

    late = finance_client.post(url, {"outcome": "charged", "invoice": invoice_id, "note": "y"})

    assert late.status_code == 400
    assert late.context["form"].errors == {"invoice": [INVOICE_NO_LONGER_FREE]}
    with pytest.raises(FinanceRefusal, match=INVOICE_TAKEN):
        topup_resolve(
            topup=second, user=finance_user, charged=True, note="y", invoice_id=invoice_id
        )
    second.refresh_from_db()
    assert (second.state, second.payment_intent_id) == (TopUpState.UNKNOWN, None)


@pytest.mark.django_db(transaction=True)
def test_two_lost_creates_taking_one_invoice_at_once_one_wins(
    make_topup, finance_user, account, sandbox, sandbox_settings
):
    lost = [make_topup(state=TopUpState.UNKNOWN, amount_cents=5000) for _ in range(4)]
    invoice_id = paid_at_cloudflare(account, sandbox)
    account_invoices(account=account)  # read, as the Resolve page each of them saw did

    def take(index):
        try:
            topup_resolve(
                topup=lost[index], user=finance_user, charged=True, note="x", invoice_id=invoice_id
            )
        except FinanceRefusal as exc:
            return str(exc)
        return "won"

    results = at_once(take, 4)

    assert sorted(results) == [INVOICE_TAKEN] * 3 + ["won"]
    assert TopUp.objects.filter(payment_intent_id=invoice_id).count() == 1
    assert TopUp.objects.filter(state=TopUpState.COMPLETED).count() == 1


def test_the_database_refuses_a_second_top_up_of_one_invoice(make_topup, finance_user):
    recorded = {"from_invoice": TopUp.Origin.ELSEWHERE, "recorded_by": finance_user}
    make_topup(state=TopUpState.COMPLETED, payment_intent_id="in_once")
    make_topup(**recorded, payment_intent_id="in_other")  # a valid row of its own
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        make_topup(state=TopUpState.FAILED, payment_intent_id="in_once")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        make_topup(**recorded, payment_intent_id="in_once")


# --- not charged, but paid --------------------------------------------------------------------


def test_a_top_up_resolved_not_charged_whose_invoice_is_paid_is_flagged_and_counted(
    finance_client, make_topup, second_finance_user, account, sandbox, sandbox_settings
):
    resolver = second_finance_user
    wrong = make_topup(
        state=TopUpState.FAILED,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
        resolved_by=resolver,
        resolved_at=timezone.now(),
        resolution_note="No charge seen.",
    )

    page = finance_client.get(reverse("finance:reconciliation")).content.decode()
    finance_client.post(reverse("finance:reconcile_now"))  # the page only reads
    desk = finance_client.get(reverse("finance:desk"))

    flagged = page[page.index('id="contradicted-') :]
    flagged = re.sub(r"<[^>]+>", "", flagged[: flagged.index("</table>")])
    assert f"#{wrong.pk}" in flagged
    assert "Resolved as not charged, but Cloudflare's invoice is paid" in flagged
    counts = {kind: count for kind, _, count in desk.context["kinds"]}
    assert (counts["not_charged_but_paid"], counts["failed_after_payment"]) == (1, 0)
    assert counts["attention"] == 1
    assert "Resolved as not charged, but Cloudflare&#x27;s invoice is paid" in desk.content.decode()


def test_the_reconciliation_page_only_reads(
    finance_client, make_topup, account, sandbox, sandbox_settings
):
    """Showing what the invoices say writes no top-up: Reconcile now (or the hourly command)
    settles, and notes each invoice's status for the desk."""
    stale = make_topup(
        state=TopUpState.STALE,
        amount_cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox),
    )
    failed = make_topup(
        state=TopUpState.FAILED, payment_intent_id=paid_at_cloudflare(account, sandbox)
    )
    before = (list(TopUp.objects.order_by("pk").values()), TopUpEvent.objects.count())

    page = finance_client.get(reverse("finance:reconciliation")).content.decode()

    assert f"#{failed.pk}" in page[page.index('id="contradicted-') :]
    assert (list(TopUp.objects.order_by("pk").values()), TopUpEvent.objects.count()) == before
    finance_client.post(reverse("finance:reconcile_now"))
    failed.refresh_from_db()
    stale.refresh_from_db()
    assert (failed.invoice_status, stale.state) == ("paid", TopUpState.COMPLETED)


@pytest.mark.parametrize("status_answers", [True, False])
def test_not_charged_is_refused_while_cloudflare_shows_it_paid(
    finance_client, make_topup, account, sandbox, sandbox_settings, status_answers
):
    stale = make_topup(
        state=TopUpState.STALE, payment_intent_id=paid_at_cloudflare(account, sandbox)
    )
    if not status_answers:
        sandbox.fault("status", "500", count=50)
    url = reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": stale.pk})
    sandbox.control("DELETE", "requests")

    shown = finance_client.get(url).content.decode()
    refused = finance_client.post(url, {"outcome": "not_charged", "note": "Nothing on the card."})

    assert stale.payment_intent_id in shown
    stale.refresh_from_db()
    assert stale.state != TopUpState.FAILED
    if status_answers:  # Cloudflare's status completed it
        assert stale.state == TopUpState.COMPLETED
        assert "Cloudflare says: completed" in shown
    else:
        # Asked on the page (once: a page's read is one attempt); the paid invoice alone refuses.
        assert len(sandbox.requests("status")) == 1
        assert refused.status_code == 400
        assert INVOICE_PAID_REFUSES_NOT_CHARGED.format(invoice=stale.payment_intent_id) in (
            refused.content.decode().replace("&#x27;", "'")
        )
        assert "Cloudflare could not be asked for its status just now" in shown
        assert "Paid · $50.00 paid" in shown


def test_asking_cloudflare_never_completes_a_top_up_whose_invoice_disagrees(
    finance_client, make_topup, finance_user, account, sandbox, sandbox_settings
):
    stale = make_topup(
        state=TopUpState.STALE,
        amount_cents=5000,
        payment_intent_id=paid_at_cloudflare(account, sandbox, amount_cents=7500),
    )
    sandbox.control("DELETE", "requests")
    url = reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": stale.pk})

    shown = finance_client.get(url).content.decode()
    confirmed = topup_confirm_payment(topup=stale, user=finance_user)

    assert "invoiced $75.00, not $50.00" in shown
    assert confirmed == "mismatch"
    assert sandbox.requests("status") == []
    stale.refresh_from_db()
    assert stale.state == TopUpState.STALE
