"""The top-up flow in Chromium against the sandbox, each state photographed on desktop and phone."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.flow import (
    DECLINED_ON_CHARGE,
    DECLINED_ON_SAVE,
    DEMO_ACCOUNT_ID,
    GOOD,
    THREE_DS,
    confirm_and_pay,
    fill_card,
    open_amount_page,
    pay_button,
    review,
    sign_in,
    start_topup,
    status_panel,
)
from topups.models import TopUp
from topups.states import TopUpState


@pytest.fixture
def app(live_server, transactional_db, sandbox_settings, sandbox):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return live_server.url


def only_topup() -> TopUp:
    (topup,) = TopUp.objects.all()
    return topup


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_new_card_happy_path(request, app, sandbox, screenshot, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    sandbox.configure(settle_seconds=1.5)
    sign_in(page, app)
    open_amount_page(page, app)
    screenshot(page, f"flow-1-amount-{device}")
    review(page, "50")
    expect(
        page.get_by_text("Add $50.00 of AI Gateway credits to Acme AI (production)")
    ).to_be_visible()
    screenshot(page, f"flow-2-review-{device}")

    confirm_and_pay(page)

    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    expect(pay_button(page)).to_be_enabled()
    fill_card(page, GOOD)
    screenshot(page, f"flow-3-pay-{device}")
    pay_button(page).click()

    expect(page.get_by_role("heading", name=f"Top-up #{only_topup().pk}")).to_be_visible()
    expect(status_panel(page)).to_contain_text("Waiting for Cloudflare to confirm")
    screenshot(page, f"flow-4-processing-{device}")
    expect(status_panel(page)).to_contain_text(
        "$50.00 of credits added to Acme AI (production).", timeout=15_000
    )
    expect(page.locator("#state-badge")).to_have_text("Completed")
    screenshot(page, f"flow-5-completed-{device}")
    page.get_by_role("link", name="All top-ups of Acme AI (production)").click()
    expect(page.get_by_role("row", name=f"#{only_topup().pk}")).to_contain_text("Completed")
    screenshot(page, f"flow-6-history-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    topup = only_topup()
    assert topup.state == TopUpState.COMPLETED
    assert topup.client_secret == ""
    assert len(sandbox.requests("create")) == 1
    assert page.console_errors == []


def pay_new_card(page, app, amount="50", card=GOOD):
    start_topup(page, app, amount)
    expect(pay_button(page)).to_be_enabled()
    fill_card(page, card)
    pay_button(page).click()


def test_three_d_secure_completed(app, page, sandbox, screenshot):
    sign_in(page, app)
    pay_new_card(page, app, "25", THREE_DS)

    dialog = page.get_by_role("dialog", name="3-D Secure authentication")
    expect(dialog).to_be_visible()
    expect(pay_button(page)).to_be_disabled()
    expect(pay_button(page)).to_have_text("Processing…")
    screenshot(page, "flow-3ds-dialog")
    dialog.get_by_role("button", name="Complete authentication").click()

    expect(status_panel(page)).to_contain_text("$25.00 of credits added")
    assert only_topup().state == TopUpState.COMPLETED


def test_three_d_secure_failed_then_paid_with_another_card_on_the_same_top_up(
    app, page, sandbox, screenshot
):
    sign_in(page, app)
    pay_new_card(page, app, "25", THREE_DS)
    page.get_by_role("button", name="Fail authentication").click()

    message = page.locator("#payment-message")
    expect(message).to_have_text(
        "Your bank could not authenticate this payment. Try again with a card below."
    )
    expect(pay_button(page)).to_be_enabled()
    screenshot(page, "flow-3ds-failed")
    assert only_topup().state == TopUpState.AWAITING_PAYMENT

    fill_card(page, GOOD)
    pay_button(page).click()

    expect(status_panel(page)).to_contain_text("$25.00 of credits added")
    assert len(sandbox.requests("create")) == 1


@pytest.mark.parametrize(
    "card", [DECLINED_ON_SAVE, DECLINED_ON_CHARGE], ids=["on-save", "on-charge"]
)
def test_declined_card_then_retried_with_a_good_card(app, page, sandbox, screenshot, card):
    sign_in(page, app)
    pay_new_card(page, app, "50", card)

    expect(page.locator("#payment-message")).to_have_text("Your card was declined.")
    expect(pay_button(page)).to_have_text("Pay $50.00")
    screenshot(page, f"flow-declined-{card[-4:]}")

    fill_card(page, GOOD)
    pay_button(page).click()

    expect(status_panel(page)).to_contain_text("$50.00 of credits added")
    assert len(sandbox.requests("create")) == 1
    assert TopUp.objects.count() == 1


def test_second_top_up_is_charged_to_the_saved_card(app, page, sandbox, screenshot):
    sign_in(page, app)
    pay_new_card(page, app, "50", GOOD)
    expect(status_panel(page)).to_contain_text("credits added")
    sandbox.configure(settle_seconds=2)

    start_topup(page, app, "100")

    # No card form: straight to the result page while the saved card is charged.
    expect(status_panel(page)).to_contain_text("Charging Visa •••• 4242…")
    expect(page.get_by_label("Card number")).to_have_count(0)
    screenshot(page, "flow-saved-card-charging")
    expect(status_panel(page)).to_contain_text("$100.00 of credits added", timeout=15_000)
    screenshot(page, "flow-saved-card-completed")
    assert "/pay/" not in page.url


def test_saved_card_needing_3ds_offers_pay_with_saved_card(
    app, page, phone_page, sandbox, screenshot
):
    sign_in(page, app)
    pay_new_card(page, app, "25", THREE_DS)
    page.get_by_role("button", name="Complete authentication").click()
    expect(status_panel(page)).to_contain_text("credits added")

    start_topup(page, app, "40")

    button = page.get_by_role("button", name="Pay with Visa •••• 3184")
    expect(button).to_be_enabled()
    expect(page.get_by_label("Card number")).to_have_count(0)
    screenshot(page, "flow-saved-card-3ds")
    button.click()
    page.get_by_role("button", name="Complete authentication").click()

    expect(status_panel(page)).to_contain_text("$40.00 of credits added")
    assert len(sandbox.requests("create")) == 2


def test_cloudflare_down_on_create(app, page, settings, screenshot):
    settings.CLOUDFLARE_BASE_URL = "http://127.0.0.1:9/client/v4"  # nothing listens there
    sign_in(page, app)
    open_amount_page(page, app)  # limits fall back to the configured ones
    review(page, "50")
    confirm_and_pay(page)

    expect(status_panel(page)).to_contain_text(
        "Cloudflare's billing service could not be reached, so this top-up was not created and "
        "nothing was charged."
    )
    expect(page.locator("#state-badge")).to_have_text("Failed")
    screenshot(page, "flow-create-unavailable")
    assert only_topup().state == TopUpState.FAILED


def test_cloudflare_rate_limits_create(app, page, sandbox, screenshot):
    sign_in(page, app)
    open_amount_page(page, app)
    review(page, "50")
    sandbox.fault("create", "429", retry_after=30)
    confirm_and_pay(page)

    expect(status_panel(page)).to_contain_text("Try again in 30 seconds.")
    screenshot(page, "flow-create-rate-limited")
    assert only_topup().state == TopUpState.FAILED
    page.get_by_role("link", name="New top-up").click()
    expect(page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()


def test_create_whose_answer_is_lost_says_so_plainly(app, page, sandbox, settings, screenshot):
    settings.CLOUDFLARE_READ_TIMEOUT = 1
    sign_in(page, app)
    open_amount_page(page, app)
    review(page, "50")
    sandbox.fault("create", "hang", hang_seconds=3, apply=True)
    confirm_and_pay(page)

    expect(status_panel(page)).to_contain_text("your card may or may not have been charged")
    expect(status_panel(page)).to_contain_text("finance will reconcile")
    screenshot(page, "flow-create-unknown")
    assert only_topup().state == TopUpState.UNKNOWN
    assert len(sandbox.requests("create")) == 1


def test_double_click_on_confirm_and_pay_creates_one_top_up(app, page, sandbox):
    sandbox.configure(latency_ms=500)  # keep the first request in flight while the second lands
    sign_in(page, app)
    open_amount_page(page, app)
    review(page, "50")

    page.get_by_role("button", name="Confirm and pay").dblclick()

    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    assert TopUp.objects.count() == 1
    assert len(sandbox.requests("create")) == 1


def test_back_and_resubmit_lands_on_the_same_top_up(app, page, sandbox):
    sign_in(page, app)
    start_topup(page, app, "50")
    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    pay_url = page.url

    page.go_back()
    expect(page.get_by_role("heading", name="Review your top-up")).to_be_visible()
    confirm_and_pay(page)

    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    assert page.url == pay_url
    expect(page.get_by_text("This top-up was already submitted; here it is.")).to_be_visible()
    assert TopUp.objects.count() == 1
    assert len(sandbox.requests("create")) == 1


def test_reloading_the_pay_page_never_creates_a_top_up(app, page, sandbox):
    sign_in(page, app)
    start_topup(page, app, "50")
    expect(pay_button(page)).to_be_enabled()

    page.reload()
    page.reload()

    expect(pay_button(page)).to_be_enabled()
    assert TopUp.objects.count() == 1
    assert len(sandbox.requests("create")) == 1


def test_network_pulled_while_waiting_then_restored(app, page, sandbox, screenshot):
    sandbox.configure(settle_seconds=4)
    sign_in(page, app)
    pay_new_card(page, app, "50", GOOD)
    expect(status_panel(page)).to_contain_text("Waiting for Cloudflare to confirm")

    page.context.set_offline(True)
    expect(page.locator("#poll-note")).to_have_text(
        "Connection lost. Still checking…", timeout=15_000
    )
    screenshot(page, "flow-offline")
    page.context.set_offline(False)

    expect(status_panel(page)).to_contain_text("$50.00 of credits added", timeout=20_000)
    expect(page.locator("#poll-note")).to_be_hidden()


def test_amount_errors_are_shown_without_calling_cloudflare(app, page, sandbox, screenshot):
    sign_in(page, app)
    open_amount_page(page, app)
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
    sign_in(page, app)
    open_amount_page(page, app)
    page.get_by_role("link", name="$25.00").click()
    expect(
        page.get_by_text("Add $25.00 of AI Gateway credits to Acme AI (production)")
    ).to_be_visible()


def test_account_switcher(app, page):
    sign_in(page, app)
    open_amount_page(page, app)
    page.get_by_text("Switch account").click()
    page.get_by_role("link", name="Acme AI (staging)").click()
    expect(page.locator(".account-bar")).to_contain_text("Acme AI (staging)")
    expect(page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()


def test_viewer_sees_no_top_up_button(app, page):
    sign_in(page, app, "viewer", "viewer-sandbox")
    expect(page.get_by_role("heading", name="Acme AI (production)")).to_be_visible()
    expect(page.get_by_role("link", name="Top up")).to_have_count(0)
    response = page.goto(f"{app}/accounts/{DEMO_ACCOUNT_ID}/topup/")
    assert response.status == 403


def test_two_tabs_paying_the_same_top_up_charge_once(app, page, sandbox, screenshot):
    import requests

    sign_in(page, app)
    start_topup(page, app, "50")
    expect(pay_button(page)).to_be_enabled()
    second_tab = page.context.new_page()
    second_tab.goto(page.url)
    expect(pay_button(second_tab)).to_be_enabled()

    fill_card(page, GOOD)
    pay_button(page).click()
    expect(status_panel(page)).to_contain_text("credits added")
    fill_card(second_tab, GOOD)
    pay_button(second_tab).click()

    expect(status_panel(second_tab)).to_contain_text("$50.00 of credits added")
    charges = requests.get(
        f"{sandbox.localstripe_url}/v1/charges",
        timeout=10,
        headers={"Authorization": "Bearer sk_test_sandbox"},
    ).json()["data"]
    assert [c["amount"] for c in charges] == [5000]
    assert TopUp.objects.count() == 1


def test_network_pulled_when_paying(app, page, sandbox, screenshot):
    sign_in(page, app)
    start_topup(page, app, "50")
    expect(pay_button(page)).to_be_enabled()
    fill_card(page, GOOD)

    page.context.set_offline(True)
    pay_button(page).click()

    expect(page.locator("#payment-message")).to_have_text(
        "We could not reach the payment service. Check your connection and try again."
    )
    expect(pay_button(page)).to_be_enabled()
    screenshot(page, "flow-pay-offline")
    page.context.set_offline(False)
    pay_button(page).click()
    expect(status_panel(page)).to_contain_text("$50.00 of credits added")


@pytest.mark.parametrize(
    ("fault", "text", "name"),
    [
        (
            {"mode": "hang", "hang_seconds": 3, "apply": True},
            "may or may not have been charged",
            "unknown",
        ),
        ({"mode": "429", "retry_after": 20}, "Try again in 20 seconds.", "rate-limited"),
    ],
)
def test_create_failures_on_a_phone(
    app, phone_page, sandbox, settings, screenshot, fault, text, name
):
    settings.CLOUDFLARE_READ_TIMEOUT = 1
    sign_in(phone_page, app)
    open_amount_page(phone_page, app)
    review(phone_page, "50")
    sandbox.fault("create", **fault)
    confirm_and_pay(phone_page)
    expect(status_panel(phone_page)).to_contain_text(text)
    screenshot(phone_page, f"flow-create-{name}-phone")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375


def test_blocked_stripe_js_is_explained(app, page, sandbox):
    page.route("**/stripe-js/v3/**", lambda route: route.abort())
    sign_in(page, app)
    start_topup(page, app, "50")

    expect(page.locator("#payment-message")).to_have_text(
        "The payment form could not load. Check your connection, then reload this page."
    )
    expect(pay_button(page)).to_be_disabled()


def test_a_deliberate_second_top_up_of_the_same_amount_is_a_new_one(app, page, sandbox):
    sign_in(page, app)
    pay_new_card(page, app, "50", GOOD)
    expect(status_panel(page)).to_contain_text("credits added")

    first = only_topup()

    start_topup(page, app, "50")  # same amount, same links, minutes later

    second = TopUp.objects.exclude(pk=first.pk).get()
    expect(page.get_by_role("heading", name=f"Top-up #{second.pk}")).to_be_visible()
    expect(page.get_by_text("already submitted")).to_have_count(0)
    assert len(sandbox.requests("create")) == 2
