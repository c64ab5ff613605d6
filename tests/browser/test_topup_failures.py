"""When something goes wrong in the browser: Cloudflare down, rate limited or silent on create,
the network pulled, Stripe.js blocked, the server unable to record a payment."""

import pytest
from playwright.sync_api import expect

from tests.browser import flow
from topups.states import TopUpState


def test_cloudflare_down_on_create(app, page, settings, screenshot):
    settings.CLOUDFLARE_BASE_URL = "http://127.0.0.1:9/client/v4"  # nothing listens there
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)  # limits fall back to the configured ones
    flow.review(page, "50")
    flow.confirm_and_pay(page)

    expect(flow.status_panel(page)).to_contain_text(
        "Cloudflare's billing service could not be reached, so this top-up was not created and "
        "nothing was charged."
    )
    expect(page.locator("#state-badge")).to_have_text("Failed")
    screenshot(page, "flow-create-unavailable")
    assert flow.only_topup().state == TopUpState.FAILED


def test_cloudflare_rate_limits_create(app, page, sandbox, screenshot):
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)
    flow.review(page, "50")
    sandbox.fault("create", "429", retry_after=30)
    flow.confirm_and_pay(page)

    expect(flow.status_panel(page)).to_contain_text("Try again in 30 seconds.")
    screenshot(page, "flow-create-rate-limited")
    assert flow.only_topup().state == TopUpState.FAILED
    page.get_by_role("link", name="New top-up").click()
    expect(page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()


def test_create_whose_answer_is_lost_says_so_plainly(app, page, sandbox, settings, screenshot):
    settings.CLOUDFLARE_READ_TIMEOUT = 1
    flow.sign_in(page, app)
    flow.open_amount_page(page, app)
    flow.review(page, "50")
    sandbox.fault("create", "hang", hang_seconds=3, apply=True)
    flow.confirm_and_pay(page)

    expect(flow.status_panel(page)).to_contain_text("your card may or may not have been charged")
    expect(flow.status_panel(page)).to_contain_text("finance will reconcile")
    screenshot(page, "flow-create-unknown")
    assert flow.only_topup().state == TopUpState.UNKNOWN
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
    flow.sign_in(phone_page, app)
    flow.open_amount_page(phone_page, app)
    flow.review(phone_page, "50")
    sandbox.fault("create", **fault)
    flow.confirm_and_pay(phone_page)
    expect(flow.status_panel(phone_page)).to_contain_text(text)
    screenshot(phone_page, f"flow-create-{name}-phone")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375


def test_network_pulled_while_waiting_then_restored(app, page, sandbox, screenshot):
    sandbox.configure(settle_seconds=4)
    flow.sign_in(page, app)
    # The page's script is polling (not still loading) when the network goes.
    with page.expect_response(lambda response: response.url.endswith("/status/")):
        flow.pay_new_card(page, app, "50", flow.GOOD)
    expect(flow.status_panel(page)).to_contain_text("Waiting for Cloudflare to confirm")

    page.context.set_offline(True)
    expect(page.locator("#poll-note")).to_have_text(
        "Connection lost. Still checking…", timeout=15_000
    )
    screenshot(page, "flow-offline")
    page.context.set_offline(False)

    expect(flow.status_panel(page)).to_contain_text("$50.00 of credits added", timeout=20_000)
    expect(page.locator("#poll-note")).to_be_hidden()


def test_network_pulled_when_paying(app, page, sandbox, screenshot):
    flow.sign_in(page, app)
    flow.start_topup(page, app, "50")
    expect(flow.pay_button(page)).to_be_enabled()
    flow.fill_card(page, flow.GOOD)

    page.context.set_offline(True)
    flow.pay_button(page).click()

    expect(page.locator("#payment-message")).to_have_text(
        "We could not reach the payment service. Check your connection and try again."
    )
    expect(flow.pay_button(page)).to_be_enabled()
    screenshot(page, "flow-pay-offline")
    page.context.set_offline(False)
    flow.pay_button(page).click()
    expect(flow.status_panel(page)).to_contain_text("$50.00 of credits added")


def test_blocked_stripe_js_is_explained(app, page, sandbox):
    page.route("**/stripe-js/v3/**", lambda route: route.abort())
    flow.sign_in(page, app)
    flow.start_topup(page, app, "50")

    expect(page.locator("#payment-message")).to_have_text(
        "The payment form could not load. Check your connection, then reload this page."
    )
    expect(flow.pay_button(page)).to_be_disabled()


def pay_while_the_server_answers(page, app, *statuses: int) -> list[str]:
    """Pay $50 with a good card while the server's "payment went through" endpoint answers
    `statuses` in turn (as if it were down, or the session had ended), then answers for real.
    Returns the list of calls that reached it, filled in as they come."""
    calls = []

    def answer(route):
        calls.append(route.request.method)
        if len(calls) <= len(statuses):
            route.fulfill(status=statuses[len(calls) - 1], content_type="text/html", body="")
        else:
            route.continue_()

    page.route("**/paid/", answer)  # before any navigation, so that it is surely in place
    flow.sign_in(page, app)
    flow.start_topup(page, app, "50")
    flow.fill_card(page, flow.GOOD)
    flow.pay_button(page).click()
    return calls


def test_a_refused_payment_report_is_not_retried_and_is_explained(app, page, sandbox):
    calls = pay_while_the_server_answers(page, app, 403)

    notice = page.locator("#report-failed")
    expect(notice).to_contain_text("Your payment went through.")
    expect(notice.get_by_role("link", name=f"See top-up #{flow.only_topup().pk}")).to_be_focused()
    page.wait_for_timeout(1500)  # longer than the first retry would wait
    assert calls == ["POST"]

    # The top-up completes all the same: its page asks Cloudflare.
    notice.get_by_role("link").click()
    expect(flow.status_panel(page)).to_contain_text("$50.00 of credits added", timeout=15_000)


def test_a_payment_report_that_keeps_failing_is_retried_a_few_times_then_explained(
    app, page, sandbox, screenshot
):
    calls = pay_while_the_server_answers(page, app, 502, 502, 502, 502, 502)

    expect(page.locator("#payment-message")).to_have_text(
        "Your payment was accepted. Recording it here…"
    )
    expect(page.locator("#report-failed")).to_be_visible(timeout=15_000)
    assert len(calls) == 4
    expect(flow.pay_button(page)).to_be_hidden()  # nothing left to do here
    screenshot(page, "flow-pay-report-failed")


def test_a_payment_report_that_fails_once_is_retried(app, page, sandbox):
    calls = pay_while_the_server_answers(page, app, 503)

    expect(flow.status_panel(page)).to_contain_text("$50.00 of credits added")
    assert calls == ["POST", "POST"]
