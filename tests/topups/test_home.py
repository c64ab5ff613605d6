"""The home page: every account at a glance, from what the database holds, and a few reads of
Cloudflare per view whatever the number of accounts."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CachedRead, CloudflareAccount, Membership
from notifications.models import BalanceThreshold
from tests import factories
from tests.conftest import DEMO_ACCOUNT_ID, STAGING_ACCOUNT_ID
from topups import selectors
from topups.models import TopUp
from topups.states import TopUpState

pytestmark = pytest.mark.django_db
HOME = reverse("topups:home")
AUTO_ON = {"amount": 5000, "threshold": 1000}


@pytest.fixture
def staging(admin_user):
    account = CloudflareAccount.objects.create(
        name="Acme AI (staging)", account_id=STAGING_ACCOUNT_ID
    )
    Membership.objects.create(user=admin_user, account=account, role=Membership.Role.ADMIN)
    return account


def card(page: str, account_id: str) -> str:
    """One account's part of the home page."""
    start = page.index(f'id="account-{account_id}"')
    return page[start : page.index("</li>", start)]


def calls(sandbox) -> list[tuple[str, str]]:
    """The balance and usage reads Cloudflare got: (endpoint, account id)."""
    return [
        (r["endpoint"], r["path"].split("/accounts/")[1][:32])
        for r in sandbox.requests()
        if r["endpoint"] in ("balance", "usage")
    ]


def test_each_account_shows_its_balance_runway_and_auto_top_up(client, admin_user, staging, demo):
    client.force_login(admin_user)
    page = client.get(HOME).content.decode()

    production = card(page, DEMO_ACCOUNT_ID)
    assert "Auto top-up keeps it above $10.00; next $50.00 around <time" in production
    other = card(page, STAGING_ACCOUNT_ID)
    assert " days, until <time" in other
    assert "Auto top-up: off." in other
    assert "not read yet" not in page
    assert "Balances read from Cloudflare over a minute ago" not in page  # all fresh


def test_stale_figures_are_read_a_few_a_view_the_balances_first(
    client, admin_user, staging, demo, monkeypatch
):
    monkeypatch.setattr(selectors, "HOME_READS_PER_VIEW", 3)
    client.force_login(admin_user)

    first = client.get(HOME).content.decode()
    assert calls(demo) == [
        ("balance", DEMO_ACCOUNT_ID),
        ("balance", STAGING_ACCOUNT_ID),
        ("usage", DEMO_ACCOUNT_ID),
    ]
    assert "Runway not known yet." in card(first, STAGING_ACCOUNT_ID)
    demo.control("DELETE", "requests")

    second = client.get(HOME).content.decode()
    assert calls(demo) == [("usage", STAGING_ACCOUNT_ID)]
    assert " days, until <time" in card(second, STAGING_ACCOUNT_ID)
    demo.control("DELETE", "requests")

    client.get(HOME)
    assert calls(demo) == []  # all held and fresh: no call at all

    # Hours later everything is due again: the oldest first.
    monkeypatch.setattr(selectors, "HOME_READS_PER_VIEW", 1)
    CachedRead.objects.update(fetched_at=timezone.now() - timedelta(hours=1))
    CachedRead.objects.filter(account=staging, kind="balance").update(
        fetched_at=timezone.now() - timedelta(hours=2)
    )
    later = client.get(HOME).content.decode()
    assert calls(demo) == [("balance", STAGING_ACCOUNT_ID)]
    assert "As of <time" not in card(later, STAGING_ACCOUNT_ID)
    assert "As of <time" in card(later, DEMO_ACCOUNT_ID)  # not read this time: given its time
    assert "Balances read from Cloudflare over a minute ago show their time" in later


def test_a_failing_cloudflare_costs_one_read_per_view(client, admin_user, staging, demo):
    demo.fault("balance", "500", count=5)
    client.force_login(admin_user)

    page = client.get(HOME).content.decode()

    assert calls(demo) == [("balance", DEMO_ACCOUNT_ID)]  # not the three others after it
    assert "Balance not read yet" in card(page, DEMO_ACCOUNT_ID)


# --- flags, from what is held ------------------------------------------------------------------


@pytest.fixture
def held_client(client, admin_user, account):
    """The demo account's admin; its balance and usage held fresh (no call to make)."""
    client.force_login(admin_user)
    return client


def test_a_balance_below_a_threshold_is_flagged_with_the_lowest_it_is_below(held_client, account):
    for cents in (10000, 2500, 500):
        BalanceThreshold.objects.create(account=account, cents=cents)
    factories.cached_reads(account=account, balance_cents=2000.5, auto_topup=AUTO_ON)

    page = held_client.get(HOME).content.decode()

    assert '<p class="alert alert--warning">Low balance: below $25.00.</p>' in page


def test_a_balance_at_a_threshold_is_not_below_it(held_client, account):
    BalanceThreshold.objects.create(account=account, cents=2500)
    factories.cached_reads(account=account, balance_cents=2500, spend_per_day_cents=10)
    assert "Low balance" not in held_client.get(HOME).content.decode()


def test_a_short_runway_without_auto_top_up_is_flagged(held_client, account):
    factories.cached_reads(account=account, balance_cents=1800, spend_per_day_cents=600)
    page = held_client.get(HOME).content.decode()
    assert re.search(r"Low balance: about 3 days left, until <time [^>]+>\w{3} \d+</time>.", page)
    assert "About 3 days" not in page  # said once


def test_auto_top_up_that_works_keeps_a_short_runway_from_being_flagged(held_client, account):
    factories.cached_reads(
        account=account, balance_cents=1800, spend_per_day_cents=600, auto_topup=AUTO_ON
    )
    page = held_client.get(HOME).content.decode()
    assert "Low balance" not in page
    assert "Auto top-up keeps it above $10.00; next $50.00 around <time" in page


def test_credits_run_out_at_zero(held_client, account):
    factories.cached_reads(account=account, balance_cents=-320, auto_topup=AUTO_ON)
    page = held_client.get(HOME).content.decode()
    assert '<p class="alert alert--error">The credits have run out.</p>' in page
    assert "\u2212$3.20" in page


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (
            {"error": "Your card was declined.", "lastFailedAt": 1765000000},
            '<p class="alert alert--error">Auto top-up is failing: “Your card was declined.” '
            '(last failed <time datetime="2025-12-06T05:46:40+00:00">Dec 6, 05:46 UTC</time>)</p>',
        ),
        (
            {"disabledReason": "payment_failed", "error": "Your card was declined."},
            '<p class="alert alert--warning">Auto top-up is off (payment_failed): '
            "“Your card was declined.”</p>",
        ),
    ],
    ids=["failing", "disabled"],
)
def test_auto_top_up_trouble_is_flagged_and_the_runway_no_longer_counts_on_it(
    held_client, account, config, words
):
    factories.cached_reads(
        account=account,
        balance_cents=1800,
        spend_per_day_cents=600,
        auto_topup={**AUTO_ON, **config},
    )
    page = held_client.get(HOME).content.decode()
    assert words in page
    assert "Low balance: about 3 days left, until" in page
    assert "keeps it above" not in page


def test_finance_members_see_how_many_top_ups_need_them(
    client, finance_user, admin_user, account, other_account, make_topup
):
    Membership.objects.create(user=finance_user, account=other_account, role="viewer")
    for state in (TopUpState.UNKNOWN, TopUpState.STALE, TopUpState.COMPLETED):
        make_topup(state=state)  # completed and not confirmed: the desk's too
    make_topup(state=TopUpState.UNKNOWN, account=other_account)  # not theirs to settle
    make_topup(state=TopUpState.FAILED)  # nothing was charged: nobody's business
    for account_ in (account, other_account):
        factories.cached_reads(account=account_)
    client.force_login(finance_user)

    page = client.get(HOME).content.decode()

    desk = reverse("finance:desk")
    assert f'<a href="{desk}?account={DEMO_ACCOUNT_ID}">3 top-ups need finance</a>' in page
    assert "finance" not in card(page, STAGING_ACCOUNT_ID).replace("badge--role", "")
    assert TopUp.objects.count() == 5


def test_fifty_accounts_held_fresh_cost_six_queries_and_no_call(
    client, make_member, sandbox, sandbox_settings, django_assert_max_num_queries
):
    """The finance role, thresholds on each account and recent top-ups: all it can show."""
    user = make_member("many-accounts", None)
    for n in range(50):
        account = CloudflareAccount.objects.create(name=f"Team {n:02d}", account_id=f"{n:032x}")
        role = Membership.Role.FINANCE if n % 2 else Membership.Role.ADMIN
        Membership.objects.create(user=user, account=account, role=role)
        BalanceThreshold.objects.create(account=account, cents=5000)
        factories.cached_reads(account=account, balance_cents=1000 * n, auto_topup=AUTO_ON)
        factories.topup(account=account, created_by=user, state=TopUpState.UNKNOWN)
    client.force_login(user)

    with django_assert_max_num_queries(6):
        page = client.get(HOME).content.decode()

    assert page.count('class="card account"') == 50
    assert page.count("Low balance: below $50.00.") == 4  # $10 to $40 ($0 has run out)
    assert page.count("The credits have run out.") == 1
    assert page.count("1 top-up needs finance") == 25
    assert sandbox.requests() == []


def test_auto_top_up_is_said_in_a_few_words_while_the_usage_is_not_read(held_client, account):
    factories.cached_reads(account=account, auto_topup=AUTO_ON)
    # The usage was never answered, and is not asked again just now.
    CachedRead.objects.filter(kind="usage_day").update(
        value=None, attempt_until=timezone.now() + timedelta(minutes=1)
    )

    page = held_client.get(HOME).content.decode()

    assert "Runway not known yet." in page
    assert "Auto top-up: $50.00 below $10.00." in page
