"""The top-up flow in Chromium against the sandbox, each state photographed on desktop and phone:
cards, 3-D Secure, declines, saved cards, and the amount page."""

import pytest
from playwright.sync_api import expect

from tests.browser import flow
from topups.models import TopUp
from topups.states import TopUpState


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_new_card_happy_path(request, app, sandbox, screenshot, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    sandbox.configure(settle_seconds=1.5)
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)
    screenshot(page, f"flow-1-amount-{device}")
    flow.review(page, "50")
    expect(
        page.get_by_text("Add $50.00 of AI Gateway credits to Acme AI (production)")
    ).to_be_visible()
    screenshot(page, f"flow-2-review-{device}")

    flow.confirm_and_pay(page)

    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    expect(flow.pay_button(page)).to_be_enabled()
    flow.fill_card(page, flow.GOOD)
    screenshot(page, f"flow-3-pay-{device}")
    flow.pay_button(page).click()

    expect(page.get_by_role("heading", name=f"Top-up #{flow.only_topup().pk}")).to_be_visible()
    expect(flow.status_panel(page)).to_contain_text("Waiting for Cloudflare to confirm")
    screenshot(page, f"flow-4-processing-{device}")
    expect(flow.status_panel(page)).to_contain_text(
        "$50.00 of credits added to Acme AI (production).", timeout=15_000
    )
    expect(page.locator("#state-badge")).to_have_text("Completed")
    screenshot(page, f"flow-5-completed-{device}")
    page.get_by_role("link", name="All top-ups of Acme AI (production)").click()
    expect(page.get_by_role("row", name=f"#{flow.only_topup().pk}")).to_contain_text("Completed")
    screenshot(page, f"flow-6-history-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    topup = flow.only_topup()
    assert topup.state == TopUpState.COMPLETED
    assert topup.client_secret == ""
    assert len(sandbox.requests("create")) == 1
    assert page.console_errors == []


def test_three_d_secure_completed(app, page, sandbox, screenshot):
    flow.sign_in(page, app)
    flow.pay_new_card(page, app, "25", flow.THREE_DS)

    dialog = page.get_by_role("dialog", name="3-D Secure authentication")
    expect(dialog).to_be_visible()
    expect(flow.pay_button(page)).to_be_disabled()
    expect(flow.pay_button(page)).to_have_text("Processing…")
    screenshot(page, "flow-3ds-dialog")
    dialog.get_by_role("button", name="Complete authentication").click()

    expect(flow.status_panel(page)).to_contain_text("$25.00 of credits added")
    assert flow.only_topup().state == TopUpState.COMPLETED


def test_three_d_secure_failed_then_paid_with_another_card_on_the_same_top_up(
    app, page, sandbox, screenshot
):
    flow.sign_in(page, app)
    flow.pay_new_card(page, app, "25", flow.THREE_DS)
    page.get_by_role("button", name="Fail authentication").click()

    message = page.locator("#payment-message")
    expect(message).to_have_text(
        "Your bank could not authenticate this payment. Try again with a card below."
    )
    expect(flow.pay_button(page)).to_be_enabled()
    screenshot(page, "flow-3ds-failed")
    assert flow.only_topup().state == TopUpState.AWAITING_PAYMENT

    flow.fill_card(page, flow.GOOD)
    flow.pay_button(page).click()

    expect(flow.status_panel(page)).to_contain_text("$25.00 of credits added")
    assert len(sandbox.requests("create")) == 1


@pytest.mark.parametrize(
    "card", [flow.DECLINED_ON_SAVE, flow.DECLINED_ON_CHARGE], ids=["on-save", "on-charge"]
)
def test_declined_card_then_retried_with_a_good_card(app, page, sandbox, screenshot, card):
    flow.sign_in(page, app)
    flow.pay_new_card(page, app, "50", card)

    expect(page.locator("#payment-message")).to_have_text("Your card was declined.")
    expect(flow.pay_button(page)).to_have_text("Pay $50.00")
    screenshot(page, f"flow-declined-{card[-4:]}")

    flow.fill_card(page, flow.GOOD)
    flow.pay_button(page).click()

    expect(flow.status_panel(page)).to_contain_text("$50.00 of credits added")
    assert len(sandbox.requests("create")) == 1
    assert TopUp.objects.count() == 1


def test_second_top_up_is_charged_to_the_saved_card(app, page, sandbox, screenshot):
    flow.sign_in(page, app)
    flow.pay_new_card(page, app, "50", flow.GOOD)
    expect(flow.status_panel(page)).to_contain_text("credits added")
    sandbox.configure(settle_seconds=2)

    flow.start_topup(page, app, "100")

    # No card form: straight to the result page while the saved card is charged.
    expect(flow.status_panel(page)).to_contain_text("Charging Visa •••• 4242…")
    expect(page.get_by_label("Card number")).to_have_count(0)
    screenshot(page, "flow-saved-card-charging")
    expect(flow.status_panel(page)).to_contain_text("$100.00 of credits added", timeout=15_000)
    screenshot(page, "flow-saved-card-completed")
    assert "/pay/" not in page.url


def test_saved_card_needing_3ds_offers_pay_with_saved_card(
    app, page, phone_page, sandbox, screenshot
):
    flow.sign_in(page, app)
    flow.pay_new_card(page, app, "25", flow.THREE_DS)
    page.get_by_role("button", name="Complete authentication").click()
    expect(flow.status_panel(page)).to_contain_text("credits added")

    flow.start_topup(page, app, "40")

    button = page.get_by_role("button", name="Pay with Visa •••• 3184")
    expect(button).to_be_enabled()
    expect(page.get_by_label("Card number")).to_have_count(0)
    screenshot(page, "flow-saved-card-3ds")
    button.click()
    page.get_by_role("button", name="Complete authentication").click()

    expect(flow.status_panel(page)).to_contain_text("$40.00 of credits added")
    assert len(sandbox.requests("create")) == 2


def test_amount_errors_are_shown_without_calling_cloudflare(app, page, sandbox, screenshot):
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)
    page.get_by_label("Or enter an amount").fill("5")
    page.get_by_role("button", name="Review top-up").click()

    expect(page.get_by_role("alert")).to_have_text("The minimum top-up is $10.00.")
    expect(page.get_by_label("Or enter an amount")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "flow-amount-error")
    page.get_by_label("Or enter an amount").fill("12.345")
    page.get_by_role("button", name="Review top-up").click()
    expect(page.get_by_role("alert")).to_have_text("Use at most two decimals (whole cents).")
    assert sandbox.requests("create") == []


def test_preset_goes_straight_to_review(app, page):
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)
    page.get_by_role("link", name="$25.00").click()
    expect(
        page.get_by_text("Add $25.00 of AI Gateway credits to Acme AI (production)")
    ).to_be_visible()


def test_account_switcher(app, page):
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)
    page.get_by_text("Switch account").click()
    page.get_by_role("link", name="Acme AI (staging)").click()
    expect(page.locator(".account-bar")).to_contain_text("Acme AI (staging)")
    expect(page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()


def test_viewer_sees_no_top_up_button(app, page):
    flow.sign_in(page, app, "viewer", "viewer-sandbox")
    expect(page.get_by_role("heading", name="Acme AI (production)")).to_be_visible()
    expect(page.get_by_role("link", name="Top up")).to_have_count(0)
    response = page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/topup/")
    assert response.status == 403
