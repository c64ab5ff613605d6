"""The Stripe.js stand-in in a real browser: Stripe's signatures and result shapes, the test
cards from the reference, and the visible 3-D Secure dialog."""

import pytest
from playwright.sync_api import expect

from tests.conftest import DEMO_ACCOUNT_ID

GOOD, THREE_DS, DECLINED_ON_SAVE, DECLINED_ON_CHARGE = (
    "4242424242424242",
    "4000002760003184",
    "4000000000000002",
    "4000000000000341",
)


@pytest.fixture
def stripe_page(page, harness_url, sandbox):
    page.goto(harness_url)
    page.evaluate("src => loadStripe(src)", f"{sandbox.url}/stripe-js/v3/")
    return page


def mount(page, client_secret):
    page.evaluate(
        """secret => {
            window.stripe = Stripe('pk_test_sandbox');
            window.elements = stripe.elements({clientSecret: secret});
            window.paymentElement = elements.create('payment');
            paymentElement.mount('#payment-element');
        }""",
        client_secret,
    )


def fill_card(page, number, expiry="12 / 34", cvc="123"):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date").fill(expiry)
    page.get_by_label("Security code").fill(cvc)


def confirm_payment(page):
    page.evaluate("""() => run(stripe.confirmPayment({
        elements, redirect: 'if_required', confirmParams: {return_url: location.href}}))""")


def settled(page):
    page.wait_for_function("() => window.settled !== null")
    return page.evaluate("() => window.settled")


def test_card_payment_succeeds(stripe_page, cf, screenshot):
    created = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    mount(stripe_page, created.client_secret)
    fill_card(stripe_page, GOOD)
    expect(stripe_page.get_by_label("Card number")).to_have_value("4242 4242 4242 4242")
    screenshot(stripe_page, "standin-payment-element")

    confirm_payment(stripe_page)
    result = settled(stripe_page)

    assert "error" not in result
    intent = result["paymentIntent"]
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 5000, "usd")
    assert cf.topups.status(DEMO_ACCOUNT_ID, created.payment_intent_id).is_completed
    assert stripe_page.console_errors == []


def test_three_d_secure_completed(stripe_page, cf, screenshot):
    created = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=2500)
    mount(stripe_page, created.client_secret)
    fill_card(stripe_page, THREE_DS)
    confirm_payment(stripe_page)

    dialog = stripe_page.get_by_role("dialog", name="3-D Secure authentication")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("$25.00")
    screenshot(stripe_page, "standin-3ds-dialog")
    dialog.get_by_role("button", name="Complete authentication").click()

    result = settled(stripe_page)
    assert result["paymentIntent"]["status"] == "succeeded"
    expect(dialog).to_be_hidden()
    # The authenticated card is saved: the next top-up needs the customer again (3-D Secure).
    again = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=1000)
    assert (again.needs_browser_confirmation, again.last4) == (True, "3184")


def test_three_d_secure_failed(stripe_page, cf):
    created = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=2500)
    mount(stripe_page, created.client_secret)
    fill_card(stripe_page, THREE_DS)
    confirm_payment(stripe_page)
    stripe_page.get_by_role("button", name="Fail authentication").click()

    error = settled(stripe_page)["error"]

    assert error["code"] == "payment_intent_authentication_failure"
    assert error["type"] == "invalid_request_error"
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert not cf.topups.status(DEMO_ACCOUNT_ID, created.payment_intent_id).is_completed


def test_saved_card_needing_3ds_is_confirmed_with_confirm_card_payment(stripe_page, cf):
    first = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=2500)
    mount(stripe_page, first.client_secret)
    fill_card(stripe_page, THREE_DS)
    confirm_payment(stripe_page)
    stripe_page.get_by_role("button", name="Complete authentication").click()
    settled(stripe_page)

    second = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=4000)
    stripe_page.evaluate("s => run(stripe.confirmCardPayment(s))", second.client_secret)
    stripe_page.get_by_role("button", name="Complete authentication").click()

    assert settled(stripe_page)["paymentIntent"]["status"] == "succeeded"
    assert cf.topups.status(DEMO_ACCOUNT_ID, second.payment_intent_id).is_completed


@pytest.mark.parametrize("number", [DECLINED_ON_SAVE, DECLINED_ON_CHARGE])
def test_declined_card_is_a_card_error_and_a_good_card_then_pays(stripe_page, cf, number):
    created = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    mount(stripe_page, created.client_secret)
    fill_card(stripe_page, number)
    confirm_payment(stripe_page)

    error = settled(stripe_page)["error"]
    assert (error["type"], error["code"]) == ("card_error", "card_declined")
    assert error["message"] == "Your card was declined."

    fill_card(stripe_page, GOOD)
    confirm_payment(stripe_page)
    assert settled(stripe_page)["paymentIntent"]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("number", "expiry", "cvc", "code", "message"),
    [
        ("4242 4242", "12 / 34", "123", "incomplete_number", "Your card number is incomplete."),
        ("4242424242424241", "12 / 34", "123", "invalid_number", "Your card number is invalid."),
        (GOOD, "12", "123", "incomplete_expiry", "Your card's expiration date is incomplete."),
        (
            GOOD,
            "12 / 20",
            "123",
            "invalid_expiry_year_past",
            "Your card's expiration year is in the past.",
        ),
        (GOOD, "12 / 34", "1", "incomplete_cvc", "Your card's security code is incomplete."),
    ],
)
def test_validation_errors_use_stripes_codes(
    stripe_page, cf, sandbox, number, expiry, cvc, code, message
):
    backend_calls = []
    stripe_page.on(
        "request", lambda r: "/__sandbox/stripe/" in r.url and backend_calls.append(r.url)
    )
    created = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    mount(stripe_page, created.client_secret)
    fill_card(stripe_page, number, expiry, cvc)
    confirm_payment(stripe_page)

    error = settled(stripe_page)["error"]

    assert (error["type"], error["code"], error["message"]) == ("validation_error", code, message)
    expect(stripe_page.get_by_role("alert")).to_have_text(message)
    assert backend_calls == [], "a card that fails validation never leaves the page"
    # The same watch sees a card that passes validation go to the backend.
    fill_card(stripe_page, GOOD)
    confirm_payment(stripe_page)
    assert settled(stripe_page)["paymentIntent"]["status"] == "succeeded"
    assert [url.split("?")[0].rsplit("/", 1)[1] for url in backend_calls] == ["confirm"]


def test_retrieve_payment_intent(stripe_page, cf):
    created = cf.topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    mount(stripe_page, created.client_secret)
    stripe_page.evaluate("s => run(stripe.retrievePaymentIntent(s))", created.client_secret)
    intent = settled(stripe_page)["paymentIntent"]
    assert intent["status"] == "requires_payment_method"
    assert intent["client_secret"] == created.client_secret
    assert "customer" not in intent


def test_integration_errors_throw_like_stripe_js(stripe_page):
    thrown = stripe_page.evaluate("""() => {
        const messages = [];
        for (const f of [() => Stripe('sk_test_nope'),
                         () => Stripe('pk_test_sandbox').elements({clientSecret: 'nope'})]) {
            try { f(); } catch (e) { messages.push(e.name); }
        }
        return messages;
    }""")
    assert thrown == ["IntegrationError", "IntegrationError"]
