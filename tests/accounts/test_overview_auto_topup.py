"""The overview's runway with auto top-up, its trouble, and the balance chart, from the
sandbox's demo books (production: $50 below $10 on Visa •••• 4242; about $8 a day)."""

import re

import pytest
import requests
from django.urls import reverse

from accounts.models import CloudflareAccount, Membership
from tests.conftest import DEMO_ACCOUNT_ID, SANDBOX_TOKEN, STAGING_ACCOUNT_ID

pytestmark = pytest.mark.django_db
URL = reverse("accounts:overview", kwargs={"account_id": DEMO_ACCOUNT_ID})


def answer_balance_with(sandbox, account_id=DEMO_ACCOUNT_ID, **topup_config):
    """The next balance read answers the books' balance with these auto top-up fields changed,
    as Cloudflare reports a failed or disabled auto top-up."""
    url = f"{sandbox.api_url}/accounts/{account_id}/ai-gateway/billing/credit-balance"
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    envelope = requests.get(url, headers=headers, timeout=10).json()
    envelope["result"]["topup_config"].update(topup_config)
    sandbox.fault("balance", "body", body=envelope, status=200)
    sandbox.control("DELETE", "requests")


def test_auto_top_up_says_when_it_charges_next_to_which_card_and_for_how_much(
    client, admin_user, demo
):
    client.force_login(admin_user)
    page = client.get(URL).content.decode()

    runway = re.search(r'<p class="overview__runway">(.*?)</p>', page, re.S).group(1)
    assert "auto top-up keeps the balance above <strong>$10.00</strong>." in runway
    assert re.search(
        r'Next charge around <strong><time datetime="[^"]+">\w{3} \d+</time></strong>: '
        r'<strong>\$50.00</strong> to <span class="money">Visa •••• 4242</span>.',
        runway,
    )
    assert re.search(
        r"about <strong>\$\d+ a month</strong> in auto top-ups \(a charge every", runway
    )
    assert "the credits last about" not in page  # they do not run out


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (
            {"error": "Your card was declined.", "lastFailedAt": 1765000000},
            "<strong>Auto top-up is failing.</strong> Cloudflare said: “Your card was declined.”"
            ' (last failed <time datetime="2025-12-06T05:46:40+00:00">Dec 6, 05:46 UTC</time>).'
            " Until it charges again, only a top-up by hand raises the balance.",
        ),
        (
            {"disabledReason": "payment_failed", "error": "Your card was declined."},
            "<strong>Auto top-up is off</strong> (reason: payment_failed). Cloudflare said: "
            "“Your card was declined.” Until it is on again, only a top-up by hand raises the "
            "balance.",
        ),
    ],
    ids=["failing", "disabled"],
)
def test_auto_top_up_trouble_is_shown_first_and_the_runway_runs_out_again(
    client, admin_user, demo, config, words
):
    answer_balance_with(demo, **config)
    client.force_login(admin_user)
    page = client.get(URL).content.decode()

    assert words in page
    assert page.index(words) < page.index('id="auto-title"')  # in the balance's card
    assert "the credits last about" in page
    assert "keeps the balance above" not in page


def test_the_balance_chart_marks_the_top_ups_and_auto_top_ups_of_the_books(
    client, admin_user, demo
):
    """The demo's production books: a $50 top-up by hand 12 days ago, and auto top-ups."""
    client.force_login(admin_user)
    page = client.get(URL).content.decode()

    assert 'aria-labelledby="balance-svg-title balance-svg-desc"' in page
    assert page.count(": top-up of $50.00</title></circle>") == 1
    assert page.count(": auto top-up of $50.00</title></rect>") >= 1
    assert page.count("$50.00 (auto)") == page.count(": auto top-up of $50.00</title></rect>")
    days = re.search(r"<summary>The balance day by day</summary>(.*?)</table>", page, re.S)
    assert days.group(1).count("<tr>") == 1 + 31  # the header, 30 days and today


def test_without_the_invoices_the_chart_says_why(client, admin_user, demo):
    demo.fault("invoices", "500", count=10)
    client.force_login(admin_user)
    page = client.get(URL).content.decode()
    assert "Cloudflare could not be asked for the invoices just now" in page
    assert "balance-svg-title" not in page


def test_an_account_without_auto_top_up_runs_out_as_before(client, admin_user, demo):
    staging = CloudflareAccount.objects.create(name="Staging", account_id=STAGING_ACCOUNT_ID)
    Membership.objects.create(user=admin_user, account=staging, role=Membership.Role.ADMIN)
    client.force_login(admin_user)
    page = client.get(reverse("accounts:overview", args=[STAGING_ACCOUNT_ID])).content.decode()
    assert "the credits last about" in page
    assert "auto top-up keeps" not in page
    assert "Off: the balance is only topped up by hand." in page
