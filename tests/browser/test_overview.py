"""The account overview in Chromium, from the sandbox's demo past: desktop and 375 px."""

import pytest
from playwright.sync_api import expect

from tests.browser import flow
from tests.sandbox_process import free_port


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_overview_as_a_new_user_sees_it(request, app, sandbox, screenshot, device):
    sandbox.reset(demo_history=True)
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    flow.sign_in(page, app)
    page.get_by_role("link", name="Acme AI (production)").first.click()

    expect(page.get_by_role("heading", name="Credit balance")).to_be_visible()
    expect(page.get_by_role("img", name="Spend per day, last 30 days", exact=False)).to_be_visible()
    # Auto top-up is on (the demo's $50 below $10): the credits do not run out.
    expect(page.locator(".overview__runway")).to_contain_text("keeps the balance above $10.00")
    screenshot(page, f"overview-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    page.get_by_role("link", name="Top up $").click()
    expect(page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()
    assert page.get_by_label("Or enter an amount").input_value() != ""
    assert page.console_errors == []


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_invoices_and_auto_top_up_pages(request, app, sandbox, screenshot, device):
    sandbox.reset(demo_history=True)
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    flow.sign_in(page, app)
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/")
    page.get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    expect(page.get_by_role("link", name="PDF").first).to_be_visible()
    screenshot(page, f"invoices-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/auto-top-up/")
    page.get_by_label("When the balance falls below").fill("20")
    page.get_by_label("Add this much").fill("100")
    page.get_by_role("button", name="Save auto top-up").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Cloudflare only lets its own dashboard change auto top-up")
    expect(alert.get_by_role("link", name="Open the AI Gateway page")).to_be_visible()
    screenshot(page, f"auto-topup-refused-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_balance_below_zero_reads_as_run_out(request, app, sandbox, screenshot, device):
    sandbox.control("POST", "balance", {"balance": -320, "hourly_rate": 20})
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    flow.sign_in(page, app)
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/")

    expect(page.locator(".overview__money")).to_have_text("\u2212$3.20")
    expect(page.get_by_text("The credits have run out.")).to_be_visible()
    expect(page.get_by_role("link", name="Top up $")).to_be_visible()
    screenshot(page, f"overview-run-out-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.console_errors == []


def test_an_account_that_hardly_spends_lasts_more_than_a_year(page, app, sandbox, screenshot):
    sandbox.control("POST", "balance", {"balance": 10000, "hourly_rate": 0.0001})
    flow.sign_in(page, app)
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/")

    expect(page.locator(".overview__money")).to_have_text("$100.00")
    expect(page.locator(".overview__runway")).to_contain_text("the credits last more than a year")
    screenshot(page, "overview-more-than-a-year")
    assert page.console_errors == []


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_with_cloudflare_unreachable_each_section_says_so(
    request, app, settings, screenshot, device
):
    settings.CLOUDFLARE_BASE_URL = f"http://127.0.0.1:{free_port()}/client/v4"  # nobody there
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    if device == "phone":
        page.set_viewport_size({"width": 390, "height": 844})
    flow.sign_in(page, app)
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/")

    expect(page.get_by_text("Cloudflare could not be asked for the balance")).to_be_visible()
    expect(page.get_by_text("Cloudflare could not be asked for the usage")).to_be_visible()
    expect(page.get_by_text("No usage to show yet")).to_have_count(0)
    screenshot(page, f"overview-unreachable-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.console_errors == []
