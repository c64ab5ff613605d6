"""The Stripe.js stand-in's backend over HTTP: a publishable key only, the client secret as the
key to one payment, and Stripe's answers for settled and declined payments."""

import requests

from tests.sandbox.helpers import authenticate, create, pay, status


def test_stand_in_backend_refuses_a_secret_key_and_foreign_client_secrets(sandbox):
    result = create(sandbox).json()["result"]
    with_secret_key = requests.post(
        f"{sandbox.url}/__sandbox/stripe/confirm",
        json={"key": "sk_test_sandbox", "client_secret": result["client_secret"]},
        timeout=10,
    )
    assert with_secret_key.status_code == 401
    forged = result["client_secret"].rsplit("_", 1)[0] + "_forged"
    response = requests.get(
        f"{sandbox.url}/__sandbox/stripe/payment_intent",
        params={"key": "pk_test_sandbox", "client_secret": forged},
        timeout=10,
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


def test_stripe_js_stand_in_is_served(sandbox):
    response = requests.get(f"{sandbox.url}/stripe-js/v3/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert "window.Stripe = Stripe" in response.text
    assert sandbox.localstripe_url in response.text


def test_a_paid_intent_cannot_be_confirmed_again(sandbox):
    result = create(sandbox).json()["result"]
    pay(sandbox, result["client_secret"]).raise_for_status()

    again = pay(sandbox, result["client_secret"], "4242424242424242")

    assert again.status_code == 400
    error = again.json()["error"]
    assert (error["type"], error["code"]) == (
        "invalid_request_error",
        "payment_intent_unexpected_state",
    )
    assert error["payment_intent"]["status"] == "succeeded"
    charges = requests.get(
        f"{sandbox.localstripe_url}/v1/charges",
        headers={"Authorization": "Bearer sk_test_sandbox"},
        timeout=10,
    ).json()
    assert len(charges["data"]) == 1


def charges(sandbox) -> list[dict]:
    return requests.get(
        f"{sandbox.localstripe_url}/v1/charges",
        headers={"Authorization": "Bearer sk_test_sandbox"},
        timeout=10,
    ).json()["data"]


def test_a_new_card_after_a_decline_pays_the_same_payment(sandbox):
    """Stripe takes a new card on the same PaymentIntent after a decline; so does the sandbox,
    and the payment, looked up by its first client secret, is the one that succeeded."""
    result = create(sandbox).json()["result"]
    assert pay(sandbox, result["client_secret"], "4000000000000341").status_code == 402

    paid = pay(sandbox, result["client_secret"]).json()

    assert paid["status"] == "succeeded"
    looked_up = requests.get(
        f"{sandbox.url}/__sandbox/stripe/payment_intent",
        params={"key": "pk_test_sandbox", "client_secret": result["client_secret"]},
        timeout=10,
    ).json()
    assert (looked_up["id"], looked_up["status"]) == (paid["id"], "succeeded")
    assert sorted(c["status"] for c in charges(sandbox)) == ["failed", "succeeded"]
    assert status(sandbox, result["payment_intent_id"]).json()["result"]["status"] == "completed"


def test_a_saved_card_waiting_for_3ds_can_be_replaced_by_a_new_card(sandbox):
    first = create(sandbox).json()["result"]
    intent = pay(sandbox, first["client_secret"], "4000002760003184").json()
    authenticate(sandbox, intent)  # the 3-D Secure card is now the saved one
    second = create(sandbox, {"amount": 2500}).json()["result"]
    assert second["last4"] == "3184"
    assert second["client_secret"]  # it needs the customer again

    paid = pay(sandbox, second["client_secret"], "4242424242424242").json()

    assert paid["status"] == "succeeded"
    assert status(sandbox, second["payment_intent_id"]).json()["result"]["status"] == "completed"
    assert [c["amount"] for c in charges(sandbox) if c["status"] == "succeeded"] == [5000, 2500]
