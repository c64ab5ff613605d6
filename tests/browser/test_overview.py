"""The account overview in Chromium, from the sandbox's demo past: desktop and 375 px."""

import pytest
from playwright.sync_api import expect

from tests.browser import flow


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_overview_as_a_new_user_sees_it(request, app, sandbox, screenshot, device):
    sandbox.reset(demo_history=True)
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    flow.sign_in(page, app)
    page.get_by_role("link", name="Acme AI (production)").first.click()

    expect(page.get_by_role("heading", name="Credit balance")).to_be_visible()
    expect(page.get_by_role("img", name="Spend per day, last 30 days", exact=False)).to_be_visible()
    expect(page.get_by_text("the credits last about")).to_be_visible()
    screenshot(page, f"overview-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    page.get_by_role("link", name="Top up $").click()
    expect(page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()
    assert page.get_by_label("Or enter an amount").input_value() != ""
    assert page.console_errors == []
