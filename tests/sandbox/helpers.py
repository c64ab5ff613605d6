"""Raw HTTP to the sandbox, as Cloudflare's clients and the Stripe.js stand-in send it."""

import re

import requests

from sandbox.cloudflare.contract import CLOUDFLARE_CODES, SANDBOX_CODES
from tests.conftest import DEMO_ACCOUNT_ID, SANDBOX_TOKEN

TOKEN = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
ENVELOPE_KEYS = ["success", "errors", "messages", "result"]
CREATE_KEYS = ["client_secret", "onboarding", "payment_intent_id", "brand", "last4"]
CLIENT_SECRET = re.compile(r"^pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$")


def billing(sandbox, path="topup", account=DEMO_ACCOUNT_ID):
    return f"{sandbox.api_url}/accounts/{account}/ai-gateway/billing/{path}"


def create(sandbox, body=None, headers=TOKEN, **kwargs):
    return requests.post(
        billing(sandbox), json=body or {"amount": 5000}, headers=headers, timeout=10, **kwargs
    )


def status(sandbox, payment_intent_id, account=DEMO_ACCOUNT_ID):
    return requests.post(
        billing(sandbox, "topup/status", account),
        json={"payment_intent_id": payment_intent_id},
        headers=TOKEN,
        timeout=10,
    )


def pay(sandbox, client_secret, number="4242424242424242"):
    """What the Stripe.js stand-in sends when the customer types a card."""
    card = {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    return requests.post(
        f"{sandbox.url}/__sandbox/stripe/confirm",
        json={"key": "pk_test_sandbox", "client_secret": client_secret, "card": card},
        timeout=10,
    )


def authenticate(sandbox, intent, success=True):
    """What the stand-in's 3-D Secure dialog sends to localstripe, then to the sandbox."""
    response = requests.post(
        f"{sandbox.localstripe_url}/v1/payment_intents/{intent['id']}/_authenticate",
        data={
            "key": "pk_test_sandbox",
            "client_secret": intent["client_secret"],
            "success": "true" if success else "false",
        },
        timeout=10,
    )
    response.raise_for_status()
    return requests.post(
        f"{sandbox.url}/__sandbox/stripe/authenticated",
        json={"key": "pk_test_sandbox", "client_secret": intent["client_secret"]},
        timeout=10,
    ).json()


def assert_error(response, http_status, code):
    assert response.status_code == http_status
    assert response.headers["Content-Type"] == "application/json"
    payload = response.json()
    assert list(payload) == ENVELOPE_KEYS
    assert payload["success"] is False
    assert payload["result"] is None
    assert payload["messages"] == []
    assert payload["errors"], "success:false must carry errors"
    for error in payload["errors"]:
        assert set(error) == {"code", "message"}
        assert type(error["code"]) is int
        assert isinstance(error["message"], str)
    assert payload["errors"][0]["code"] == code
    return payload["errors"]


def assert_cloudflare_error(response, http_status, code):
    """An error whose code is one Cloudflare's API really answers with."""
    assert code in CLOUDFLARE_CODES
    return assert_error(response, http_status, code)


def assert_sandbox_error(response, http_status, code):
    """An error whose code is the sandbox's own (Cloudflare does not document one)."""
    assert code in SANDBOX_CODES
    return assert_error(response, http_status, code)
