"""Reconciliation with a history longer than what is read at once: the page shows what the
database holds and reads only the newest page(s), *Reconcile now* reads every page, nothing is
cut without saying so, and an older invoice is still found by id for the top-up that needs it."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.cloudflare import client_for_account
from accounts.models import CachedRead
from cloudflare_client import invoices
from finance.services import account_reconcile
from tests.conftest import DEMO_ACCOUNT_ID
from tests.topups.steps import paid_at_cloudflare
from topups.states import TopUpState

pytestmark = pytest.mark.django_db

OLDER_NOT_SHOWN = "Older invoices not shown"


def _age_invoices():
    CachedRead.objects.filter(kind="invoices").update(
        fetched_at=timezone.now() - timedelta(minutes=6)
    )


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def test_the_page_reads_only_the_newest_page_and_reconcile_now_reads_them_all(
    finance_client, account, demo
):
    finance_client.get(reverse("finance:reconciliation"))  # the first read: both pages
    new = paid_at_cloudflare(account, demo)
    demo.control("DELETE", "requests")

    young = finance_client.get(reverse("finance:reconciliation"))
    _age_invoices()
    aged = finance_client.get(reverse("finance:reconciliation"))

    assert new not in young.content.decode()  # what the database holds, while it is young
    assert len(demo.requests("invoices")) == 1  # then the newest page only, not every page
    assert new in aged.content.decode()
    demo.control("DELETE", "requests")
    finance_client.post(reverse("finance:reconcile_now"))
    assert len(demo.requests("invoices")) == 2  # afresh: every page


def test_reconcile_now_shows_progress_while_it_reads(finance_client, account, demo):
    page = finance_client.get(reverse("finance:reconciliation")).content.decode()
    action = f'action="{reverse("finance:reconcile_now")}"'
    form = page[page.rindex("<form", 0, page.index(action)) :]
    form = form[: form.index("</form>")].replace("&#x27;", "'")
    assert "data-submit-once" in form[: form.index(">")]
    assert 'data-busy-label="Reading Cloudflare\'s invoices…"' in form
    assert "js/submit-once.js" in page


def test_a_history_cut_at_the_page_limit_says_so(
    finance_client, client, viewer_user, account, demo, monkeypatch
):
    monkeypatch.setattr(invoices, "MAX_PAGES", 1)

    reconciliation = finance_client.get(reverse("finance:reconciliation"))
    client.force_login(viewer_user)
    listed = client.get(reverse("accounts:invoices", kwargs={"account_id": DEMO_ACCOUNT_ID}))

    assert OLDER_NOT_SHOWN in _text(reconciliation)
    assert OLDER_NOT_SHOWN in _text(listed)
    monkeypatch.setattr(invoices, "MAX_PAGES", 50)
    finance_client.post(reverse("finance:reconcile_now"))
    assert OLDER_NOT_SHOWN not in _text(finance_client.get(reverse("finance:reconciliation")))


def _oldest_manual(account):
    """The demo past's oldest invoice by hand ($50.00, 58 days ago): on the last page."""
    history = client_for_account(account).invoices.history(account.account_id)
    return [i for i in history if i.invoice_origin == "manual"][-1]


def test_an_invoice_past_the_page_limit_still_settles_its_top_up(
    finance_client, make_topup, account, demo, monkeypatch
):
    old = _oldest_manual(account)
    stale = make_topup(
        state=TopUpState.STALE,
        amount_cents=int(old.amount_due_cents),
        payment_intent_id=old.id,
        created_at=old.created - timedelta(minutes=1),
    )
    monkeypatch.setattr(invoices, "MAX_PAGES", 1)

    report = account_reconcile(account=account)

    assert report.settled == [(stale, TopUpState.COMPLETED)]


def test_a_lost_create_is_offered_its_candidate_past_the_page_limit(
    finance_client, make_topup, account, demo, monkeypatch
):
    old = _oldest_manual(account)
    lost = make_topup(
        state=TopUpState.UNKNOWN,
        amount_cents=int(old.amount_due_cents),
        created_at=old.created - timedelta(minutes=2),
    )
    monkeypatch.setattr(invoices, "MAX_PAGES", 1)
    finance_client.get(reverse("finance:reconciliation"))  # the newest page is held

    url = reverse("finance:resolve", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": lost.pk})
    assert old.id in finance_client.get(url).content.decode()


def test_a_top_up_shows_its_invoice_past_the_page_limit(
    client, admin_user, make_topup, account, demo, monkeypatch
):
    old = _oldest_manual(account)
    done = make_topup(
        state=TopUpState.COMPLETED,
        amount_cents=int(old.amount_due_cents),
        payment_intent_id=old.id,
        created_at=old.created - timedelta(minutes=1),
    )
    monkeypatch.setattr(invoices, "MAX_PAGES", 1)
    client.force_login(admin_user)
    client.get(reverse("accounts:invoices", kwargs={"account_id": DEMO_ACCOUNT_ID}))

    url = reverse("topups:detail", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": done.pk})
    assert "Paid · $50.00 paid" in client.get(url).content.decode()


def test_the_hourly_command_says_when_older_invoices_were_not_read(account, demo, monkeypatch):
    monkeypatch.setattr(invoices, "MAX_PAGES", 1)
    out = io.StringIO()
    call_command("reconcile_invoices", stdout=out)
    assert f"  {account.name}: older invoices not read" in out.getvalue().splitlines()
