"""The invoices page, and the auto top-up page: refused as Cloudflare refuses API tokens (said
plainly, with the dashboard's address, nothing changed), or accepted when the sandbox allows."""

import pytest
from django.urls import reverse

from accounts.services import AUTO_TOPUP_MESSAGES
from accounts.snapshots import account_balance
from tests.conftest import DEMO_ACCOUNT_ID

pytestmark = pytest.mark.django_db
A = {"account_id": DEMO_ACCOUNT_ID}


def test_invoices_page_lists_kinds_statuses_and_pdfs(client, viewer_user, demo):
    client.force_login(viewer_user)
    page = client.get(reverse("accounts:invoices", kwargs=A)).content.decode()
    auto = client.get(reverse("accounts:invoices", kwargs=A), {"type": "auto"}).content.decode()

    assert page.count("<tr>") - 1 >= 4
    assert "Auto top-up" in page
    assert ".pdf" in page
    assert "Top-up</td>" not in auto


def test_auto_top_up_change_refused_by_cloudflare_is_explained(client, admin_user, demo):
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:auto_topup", kwargs=A), {"threshold": "20", "amount": "100"}
    )
    page = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 400
    assert AUTO_TOPUP_MESSAGES["dashboard_only"] in page
    assert f"https://dash.cloudflare.com/{DEMO_ACCOUNT_ID}/ai/ai-gateway" in page
    assert "below <strong>$10.00</strong>" in page  # unchanged


def test_auto_top_up_change_accepted(client, admin_user, demo):
    demo.configure(topup_config_writes=True)
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:auto_topup", kwargs=A),
        {"threshold": "20", "amount": "100"},
        follow=True,
    )
    page = response.content.decode()
    assert "Auto top-up is on: below $20.00, Cloudflare adds $100.00." in page
    assert "below <strong>$20.00</strong>" in page
    removed = client.post(reverse("accounts:auto_topup_remove", kwargs=A), follow=True)
    assert "Auto top-up is off." in removed.content.decode()


def test_auto_top_up_set_above_the_balance_fires_at_once(client, admin_user, account, demo):
    """Live in the sandbox: the saved card is charged, and the app shows the new auto invoice
    and the raised balance straight away (the cached reads are expired by the change)."""
    demo.configure(topup_config_writes=True)
    client.force_login(admin_user)
    before = account_balance(account=account).value.balance_cents
    autos = len(auto_invoices(client))

    client.post(reverse("accounts:auto_topup", kwargs=A), {"threshold": "2000", "amount": "100"})

    after = account_balance(account=account).value
    assert after.auto_topup.error is None
    assert before + 10_000 - 100 < after.balance_cents <= before + 10_000  # minus a moment's use
    (newest, *_) = auto_invoices(client)
    assert len(auto_invoices(client)) == autos + 1
    assert (newest.status, newest.amount_paid_cents) == ("paid", 10_000)


def auto_invoices(client):
    page = client.get(reverse("accounts:invoices", kwargs=A), {"type": "auto"})
    return list(page.context["invoices"])


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"threshold": "4.99", "amount": "100"}, "The threshold is at least $5.00."),
        ({"threshold": "20", "amount": "9.99"}, "The amount is at least $10.00."),
    ],
)
def test_minimums_are_checked_before_any_call(client, admin_user, demo, data, error):
    client.force_login(admin_user)
    demo.control("DELETE", "requests")
    response = client.post(reverse("accounts:auto_topup", kwargs=A), data)
    assert error in response.content.decode()
    assert demo.requests("config") == []


def test_only_admins_change_auto_top_up(client, finance_user, demo):
    client.force_login(finance_user)
    assert client.get(reverse("accounts:auto_topup", kwargs=A)).status_code == 200
    response = client.post(
        reverse("accounts:auto_topup", kwargs=A), {"threshold": "20", "amount": "100"}
    )
    assert response.status_code == 403
