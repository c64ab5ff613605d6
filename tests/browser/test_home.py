"""The home page in Chromium, desktop and 375 px: both demo accounts at a glance, their flags,
and the overview's balance chart and auto top-up forecast; axe clean."""

import re

import pytest
import requests
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.models import CloudflareAccount
from notifications.models import BalanceThreshold
from tests import factories
from tests.browser import flow
from tests.browser.accessibility import axe_violations
from tests.conftest import SANDBOX_TOKEN
from topups.states import TopUpState

STAGING_ACCOUNT_ID = "4f1e5cfd2e7a4b9a8c3d6e0f1a2b3c4d"


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _auto_top_up_fails(sandbox) -> None:
    """The production account's next balance read: Cloudflare reports its auto top-up's
    failed charge."""
    url = f"{sandbox.api_url}/accounts/{flow.DEMO_ACCOUNT_ID}/ai-gateway/billing/credit-balance"
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    answer = requests.get(url, headers=headers, timeout=10).json()
    failed = {"error": "Your card was declined.", "lastFailedAt": 1765000000}
    answer["result"]["topup_config"].update(failed)
    sandbox.fault("balance", "body", body=answer, status=200)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_newcomer_sees_both_demo_accounts_balances_and_runways(
    request, app, sandbox, screenshot, device
):
    sandbox.reset(demo_history=True)
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    flow.sign_in(page, app)

    production = page.locator(f"#account-{flow.DEMO_ACCOUNT_ID}")
    staging = page.locator(f"#account-{STAGING_ACCOUNT_ID}")
    expect(production.get_by_role("heading", name="Acme AI (production)")).to_be_visible()
    expect(production).to_contain_text("Auto top-up keeps it above $10.00; next $50.00 around")
    expect(staging).to_contain_text(" days, until ")
    expect(staging).to_contain_text("Auto top-up: off.")
    expect(page.locator(".alert")).to_have_count(0)
    screenshot(page, f"home-{device}")
    assert _fits(page)
    assert page.console_errors == []


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_trouble_is_flagged_on_the_account_it_concerns(request, app, sandbox, screenshot, device):
    sandbox.reset(demo_history=True)
    _auto_top_up_fails(sandbox)
    staging = CloudflareAccount.objects.get(account_id=STAGING_ACCOUNT_ID)
    BalanceThreshold.objects.create(account=staging, cents=2500)  # above its ~$16
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    flow.sign_in(page, app)

    # Without auto top-up, about five days are left of the production account's ~$31.
    expect(page.locator(f"#account-{flow.DEMO_ACCOUNT_ID} .alert")).to_have_text(
        [
            re.compile(r"Low balance: about \d days? left, until \w{3} \d+\."),
            "Auto top-up is failing: “Your card was declined.” (last failed Dec 6, 05:46 UTC)",
        ]
    )
    expect(page.locator(f"#account-{STAGING_ACCOUNT_ID} .alert")).to_have_text(
        "Low balance: below $25.00."
    )
    screenshot(page, f"home-flags-{device}")
    assert _fits(page)


def test_finance_sees_what_waits_for_it_and_goes_to_the_desk(page, app, sandbox, screenshot):
    sandbox.reset(demo_history=True)
    production = CloudflareAccount.objects.get(account_id=flow.DEMO_ACCOUNT_ID)
    admin = get_user_model().objects.get(username="admin")
    for _ in range(2):
        factories.topup(account=production, created_by=admin, state=TopUpState.UNKNOWN)
    flow.sign_in(page, app, "finance", "finance-sandbox")

    page.get_by_role("link", name="2 top-ups need finance").click()

    expect(page.get_by_role("heading", name="Finance desk")).to_be_visible()
    expect(page.locator("#id_account")).to_have_value(flow.DEMO_ACCOUNT_ID)
    page.go_back()
    screenshot(page, "home-finance-desktop")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_overview_draws_the_balance_and_forecasts_auto_top_up(
    request, app, sandbox, screenshot, device
):
    sandbox.reset(demo_history=True)
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    flow.sign_in(page, app)
    page.get_by_role("link", name="Acme AI (production)").first.click()

    expect(page.get_by_role("img", name="Balance from")).to_be_visible()
    expect(page.locator(".overview__runway")).to_contain_text(": $50.00 to Visa •••• 4242.")
    expect(page.locator(".overview__runway")).to_contain_text("a month in auto top-ups")
    page.get_by_text("The balance day by day").click()
    expect(page.get_by_role("cell", name="$50.00 (auto)").first).to_be_visible()
    screenshot(page, f"overview-balance-{device}")
    assert _fits(page)
    assert page.console_errors == []


def test_no_serious_violation_on_the_home_page_and_the_balance_chart(app, sandbox, axe_pages):
    sandbox.reset(demo_history=True)
    _auto_top_up_fails(sandbox)
    found = []
    for page in axe_pages:
        flow.sign_in(page, app)
        found += [f"home ({page.viewport_size['width']}px): {v}" for v in axe_violations(page)]
        page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/")
        page.get_by_text("The balance day by day").click()
        found += [f"overview ({page.viewport_size['width']}px): {v}" for v in axe_violations(page)]
    assert not found, "\n".join(found)
