"""When something goes wrong in the browser: Cloudflare down, rate limited or silent on create,
the network pulled, Stripe.js blocked, the server unable to record a payment."""

import pytest
from playwright.sync_api import expect

from tests.browser.flow import (
    GOOD,
    confirm_and_pay,
    fill_card,
    only_topup,
    open_amount_page,
    pay_button,
    pay_new_card,
    review,
    sign_in,
    start_topup,
    status_panel,
)
from topups.states import TopUpState


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


def test_blocked_stripe_js_is_explained(app, page, sandbox):
    page.route("**/stripe-js/v3/**", lambda route: route.abort())
    sign_in(page, app)
    start_topup(page, app, "50")

    expect(page.locator("#payment-message")).to_have_text(
        "The payment form could not load. Check your connection, then reload this page."
    )
    expect(pay_button(page)).to_be_disabled()


def paid_url_answers(page, status: int, calls: list):
    """The server's "payment went through" endpoint answers `status` (as if it were down or the
    session had ended), counting the calls that reach it."""

    def answer(route):
        calls.append(route.request.method)
        route.fulfill(status=status, content_type="text/html", body="<h1>Error</h1>")

    page.route("**/paid/", answer)


def test_a_refused_payment_report_is_not_retried_and_is_explained(app, page, sandbox, screenshot):
    calls = []
    sign_in(page, app)
    start_topup(page, app, "50")
    paid_url_answers(page, 403, calls)
    fill_card(page, GOOD)
    pay_button(page).click()

    notice = page.locator("#report-failed")
    expect(notice).to_contain_text("Your payment went through.")
    expect(notice.get_by_role("link", name=f"See top-up #{only_topup().pk}")).to_be_focused()
    page.wait_for_timeout(1500)  # longer than the first retry would wait
    assert calls == ["POST"]

    # The top-up completes all the same: its page asks Cloudflare.
    notice.get_by_role("link").click()
    expect(status_panel(page)).to_contain_text("$50.00 of credits added", timeout=15_000)


def test_a_payment_report_that_keeps_failing_is_retried_a_few_times_then_explained(
    app, page, sandbox, screenshot
):
    calls = []
    sign_in(page, app)
    start_topup(page, app, "50")
    paid_url_answers(page, 502, calls)
    fill_card(page, GOOD)
    pay_button(page).click()

    expect(page.locator("#payment-message")).to_have_text(
        "Your payment was accepted. Recording it here…"
    )
    expect(page.locator("#report-failed")).to_be_visible(timeout=15_000)
    assert len(calls) == 4
    expect(pay_button(page)).to_be_hidden()  # nothing left to do here
    screenshot(page, "flow-pay-report-failed")


def test_a_payment_report_that_fails_once_is_retried(app, page, sandbox):
    calls = []
    sign_in(page, app)
    start_topup(page, app, "50")

    def fail_once(route):
        calls.append(route.request.method)
        if len(calls) == 1:
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    page.route("**/paid/", fail_once)
    fill_card(page, GOOD)
    pay_button(page).click()

    expect(status_panel(page)).to_contain_text("$50.00 of credits added")
    assert calls == ["POST", "POST"]
