"""The finance desk over HTTP: the queue with counts and filters, confirm one or many, resolve
with a note, and the CSV export."""

import csv
import io
import tracemalloc

import pytest
from django.urls import reverse

from accounts.models import CloudflareAccount
from finance import user_messages
from tests import factories
from tests.conftest import DEMO_ACCOUNT_ID
from topups.models import TopUp
from topups.states import TopUpState

pytestmark = pytest.mark.django_db
A = {"account_id": DEMO_ACCOUNT_ID}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_queue_counts_each_kind_and_lists_what_needs_attention(finance_client, make_topup):
    make_topup(state=TopUpState.UNKNOWN)
    make_topup(state=TopUpState.STALE, stale_reason="Still pending after 120 minutes.")
    make_topup(state=TopUpState.COMPLETED)  # not confirmed
    make_topup(state=TopUpState.FAILED)  # refused at create: nothing to do
    make_topup(state=TopUpState.FAILED, payment_intent_id="in_9")

    response = finance_client.get(reverse("finance:desk"))

    counts = {kind: count for kind, _, count in response.context["kinds"]}
    assert counts == {
        "attention": 4,
        "unknown": 1,
        "stale": 1,
        "failed_after_payment": 1,
        "not_charged_but_paid": 0,
        "unconfirmed": 1,
        "all": 5,
    }
    assert len(response.context["page"].object_list) == 4
    assert "Still pending after 120 minutes." in response.content.decode()


def test_the_desk_counts_up_to_a_cap_so_that_a_long_history_stays_cheap(
    finance_client, make_topup, monkeypatch
):
    # Counting every top-up reads every top-up: past the cap the tab says so, not how many.
    monkeypatch.setattr("finance.selectors.COUNT_CAP", 3, raising=False)
    monkeypatch.setattr("finance.views.COUNT_CAP", 3, raising=False)
    for _ in range(2):
        make_topup(state=TopUpState.UNKNOWN)
    for _ in range(3):
        make_topup(state=TopUpState.FAILED)  # refused at create: nothing to do

    html = finance_client.get(reverse("finance:desk"), {"kind": "all"}).content.decode()

    assert tab(html, "All top-ups") == "3+"
    assert tab(html, "Everything needing attention") == "2"
    assert tab(html, "Outcome unknown") == "2"
    assert "Export 3+ top-ups as CSV" in html


def test_past_the_cap_of_rows_needing_attention_each_kind_is_counted_at_least(
    finance_client, make_topup, monkeypatch
):
    monkeypatch.setattr("finance.selectors.COUNT_CAP", 3, raising=False)
    monkeypatch.setattr("finance.views.COUNT_CAP", 3, raising=False)
    for _ in range(5):
        make_topup(state=TopUpState.UNKNOWN)

    html = finance_client.get(reverse("finance:desk")).content.decode()

    assert tab(html, "Everything needing attention") == "3+"
    assert tab(html, "Outcome unknown") == "3+"
    assert tab(html, "Needs attention") == "0+"
    assert "Export 3+ top-ups as CSV" in html


def tab(html: str, label: str) -> str:
    """The count on the desk's tab `label`."""
    end = html.index(f'</span> <span class="kind-tab__label">{label}</span>')
    return html[html.rindex('<span class="kind-tab__count">', 0, end) :][30:].split("<")[0]


def test_queue_filters_by_kind_and_account(finance_client, make_topup, finance_user, other_account):
    from tests.conftest import STAGING_ACCOUNT_ID

    make_topup(state=TopUpState.UNKNOWN)
    make_topup(state=TopUpState.STALE)
    finance_user.memberships.create(account=other_account, role="finance")
    make_topup(
        account=other_account,
        created_by=finance_user,
        amount_cents=1000,
        state=TopUpState.UNKNOWN,
    )

    by_kind = finance_client.get(reverse("finance:desk"), {"kind": "unknown"})
    by_account = finance_client.get(
        reverse("finance:desk"), {"kind": "unknown", "account": STAGING_ACCOUNT_ID}
    )

    assert {t.state for t in by_kind.context["page"].object_list} == {"unknown"}
    assert len(by_kind.context["page"].object_list) == 2
    assert [t.amount_cents for t in by_account.context["page"].object_list] == [1000]


def test_confirm_one_from_the_desk(finance_client, make_topup, paid_at_cloudflare):
    topup = make_topup(state=TopUpState.COMPLETED, payment_intent_id=paid_at_cloudflare())

    response = finance_client.post(
        reverse("finance:confirm", kwargs={**A, "pk": topup.pk}), follow=True
    )

    assert messages_of(response) == [user_messages.CONFIRM_RESULTS["confirmed"].format(pk=topup.pk)]
    topup.refresh_from_db()
    assert topup.confirmed_at is not None


@pytest.mark.django_db(transaction=True)
def test_bulk_confirm_reports_a_summary(finance_client, make_topup, paid_at_cloudflare, account):
    from accounts.cloudflare import client_for_account

    # Created before any card is saved, and never paid: Cloudflare says pending.
    unpaid_id = client_for_account(account).topups.create(DEMO_ACCOUNT_ID, amount_cents=1000)
    paid = [
        make_topup(state=TopUpState.COMPLETED, payment_intent_id=paid_at_cloudflare())
        for _ in range(2)
    ]
    pending = make_topup(state=TopUpState.PROCESSING, payment_intent_id=unpaid_id.payment_intent_id)

    response = finance_client.post(
        reverse("finance:confirm_many"),
        {"topup": [t.pk for t in [*paid, pending]]},
        follow=True,
    )

    assert messages_of(response) == ["2 of 3 confirmed. Still pending at Cloudflare: 1."]
    assert TopUp.objects.filter(confirmed_at__isnull=False).count() == 2


def test_bulk_confirm_ignores_rows_of_other_tenants(finance_client, other_account, make_topup):
    foreign = make_topup(
        account=other_account,
        amount_cents=1000,
        state=TopUpState.PROCESSING,
        payment_intent_id="in_x",
    )
    response = finance_client.post(
        reverse("finance:confirm_many"), {"topup": [foreign.pk]}, follow=True
    )
    assert messages_of(response) == [user_messages.BULK_NOTHING_SELECTED]


def test_resolve_page_needs_a_note_and_an_outcome(finance_client, make_topup):
    topup = make_topup(state=TopUpState.UNKNOWN)
    url = reverse("finance:resolve", kwargs={**A, "pk": topup.pk})

    page = finance_client.get(url)
    refused = finance_client.post(url, {"outcome": "charged", "note": "  "})

    assert page.status_code == 200
    assert "Resolve top-up #" in page.content.decode()
    assert refused.status_code == 400
    assert refused.context["form"].errors == {"note": ["Write a note: say what you checked."]}
    topup.refresh_from_db()
    assert topup.state == TopUpState.UNKNOWN


def test_resolve_records_and_returns_to_the_desk(finance_client, make_topup):
    topup = make_topup(state=TopUpState.STALE)
    next_url = reverse("finance:desk") + "?kind=stale"

    response = finance_client.post(
        reverse("finance:resolve", kwargs={**A, "pk": topup.pk}),
        {"outcome": "not_charged", "note": "No charge on the card statement", "next": next_url},
    )

    assert response["Location"] == next_url
    topup.refresh_from_db()
    assert (topup.state, topup.resolution_note) == (
        TopUpState.FAILED,
        "No charge on the card statement",
    )
    detail = finance_client.get(reverse("topups:detail", kwargs={**A, "pk": topup.pk}))
    assert "No charge on the card statement" in detail.content.decode()
    assert "Resolved by finance" in detail.content.decode()


def test_resolve_never_redirects_off_site(finance_client, make_topup):
    topup = make_topup(state=TopUpState.UNKNOWN)
    response = finance_client.post(
        reverse("finance:resolve", kwargs={**A, "pk": topup.pk}),
        {"outcome": "charged", "note": "ok", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("finance:desk")


def test_finance_cannot_resolve_their_own_top_up(finance_client, make_topup, finance_user):
    topup = make_topup(state=TopUpState.UNKNOWN, created_by=finance_user)
    response = finance_client.post(
        reverse("finance:resolve", kwargs={**A, "pk": topup.pk}),
        {"outcome": "charged", "note": "mine"},
    )
    assert response.status_code == 400
    assert user_messages.CANNOT_RESOLVE_OWN in response.content.decode().replace("&#x27;", "'")


# --- export ----------------------------------------------------------------------------------


def export_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_export_has_dollars_cents_ids_and_utc_times(finance_client, make_topup, finance_user):
    topup = make_topup(
        state=TopUpState.COMPLETED,
        amount_cents=123456,
        payment_intent_id="in_1",
        card_brand="visa",
        card_last4="4242",
    )
    TopUp.objects.filter(pk=topup.pk).update(created_at="2026-03-04T05:06:07Z")

    response = finance_client.get(reverse("finance:export"), {"kind": "all"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="topups-all-accounts-all-dates.csv"'
    )
    (row,) = export_rows(response)
    assert row["topup_id"] == str(topup.pk)
    assert (row["amount_usd"], row["amount_cents"]) == ("1234.56", "123456")
    assert row["created_at_utc"] == "2026-03-04T05:06:07Z"
    assert (row["account_id"], row["payment_intent_id"], row["state"]) == (
        DEMO_ACCOUNT_ID,
        "in_1",
        "completed",
    )
    assert row["created_by"] == topup.created_by.username


def test_export_defuses_formulas(finance_client, make_topup, make_member, account):
    account.name = '=HYPERLINK("http://evil")'
    account.save()
    make_topup(state=TopUpState.UNKNOWN)
    evil_user = make_member("+cmd", "admin")
    make_topup(state=TopUpState.UNKNOWN, created_by=evil_user)

    rows = export_rows(finance_client.get(reverse("finance:export"), {"kind": "all"}))

    assert {row["account_name"] for row in rows} == {'\'=HYPERLINK("http://evil")'}
    assert "'+cmd" in {row["created_by"] for row in rows}


def test_export_file_name_says_account_and_dates(finance_client, make_topup):
    response = finance_client.get(
        reverse("finance:export"),
        {"account": DEMO_ACCOUNT_ID, "created_from": "2026-01-01", "created_to": "2026-01-31"},
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="topups-acme-ai-production-2026-01-01-to-2026-01-31.csv"'
    )


def test_export_of_another_tenants_account_is_404(finance_client, other_account):
    response = finance_client.get(reverse("finance:export"), {"account": other_account.account_id})
    # An account the user is no finance member of is not a valid choice: nothing is exported.
    assert export_rows(response) == []


def test_export_streams_100k_rows_in_flat_memory(finance_client, account, admin_user):
    # Unsaved rows from the factory, inserted 5000 at a time: 100k one-row creates take minutes.
    TopUp.objects.bulk_create(
        [
            factories.unsaved_topup(
                account=account,
                created_by=admin_user,
                amount_cents=1000 + i,
                state=TopUpState.FAILED,
            )
            for i in range(100_000)
        ],
        batch_size=5000,
    )
    response = finance_client.get(reverse("finance:export"), {"kind": "all"})

    tracemalloc.start()
    lines = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert lines == 100_001
    # Materialising 100k rows takes tens of MB; a streamed export holds one chunk at a time.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_desk_and_export_need_the_finance_role(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("finance:desk")).status_code == 403
    assert client.get(reverse("finance:export")).status_code == 403
    assert CloudflareAccount.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_bulk_confirm_tells_a_top_up_cloudflare_forgot_from_one_it_could_not_ask_about(
    finance_client, make_topup, paid_at_cloudflare, sandbox
):
    forgotten = make_topup(state=TopUpState.COMPLETED, payment_intent_id="in_unknown_to_cloudflare")
    paid = make_topup(state=TopUpState.COMPLETED, payment_intent_id=paid_at_cloudflare())
    url = reverse("finance:confirm_many")

    gone = finance_client.post(url, {"topup": [forgotten.pk]}, follow=True)
    sandbox.fault("status", "500", count=10)
    unreachable = finance_client.post(url, {"topup": [paid.pk]}, follow=True)

    assert messages_of(gone) == ["0 of 1 confirmed. Cloudflare no longer knows this top-up: 1."]
    assert messages_of(unreachable) == ["0 of 1 confirmed. Cloudflare could not be asked: 1."]
    single = finance_client.post(
        reverse("finance:confirm", kwargs={**A, "pk": forgotten.pk}), follow=True
    )
    assert messages_of(single) == [user_messages.CONFIRM_RESULTS["gone"].format(pk=forgotten.pk)]


def test_export_says_who_recorded_a_top_up_from_its_invoice(
    finance_client, make_topup, make_member
):
    recorder = make_member("rita-recorder", "finance")
    make_topup(state=TopUpState.COMPLETED)
    make_topup(from_invoice=TopUp.Origin.AUTO, recorded_by=recorder, payment_intent_id="in_a")

    rows = export_rows(finance_client.get(reverse("finance:export"), {"kind": "all"}))

    assert {row["origin"]: row["recorded_by"] for row in rows} == {
        "portal": "",
        "auto": "rita-recorder",
    }


def test_reconciliation_says_when_its_invoices_were_read_and_that_a_later_read_failed(
    finance_client, account, demo
):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import CachedRead

    url = reverse("finance:reconciliation")
    finance_client.get(url)  # reads the invoices
    CachedRead.objects.filter(kind="invoices").update(
        fetched_at=timezone.now() - timedelta(minutes=10)
    )
    demo.fault("invoices", "500", count=3)

    page = finance_client.get(url).content.decode()

    assert "Cloudflare could not be asked just now" in page
    assert "As of <time" in page
