"""The sandbox answers exactly as Cloudflare's documented contract says, over real HTTP.
Each error test says whose code it checks: Cloudflare's, or the sandbox's own."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.cloudflare import contract
from tests.conftest import SANDBOX_TOKEN
from tests.sandbox.helpers import (
    CLIENT_SECRET,
    CREATE_KEYS,
    ENVELOPE_KEYS,
    TOKEN,
    assert_cloudflare_error,
    assert_sandbox_error,
    authenticate,
    billing,
    create,
    pay,
    status,
)


def test_create_without_a_card_returns_a_client_secret(sandbox):
    response = create(sandbox)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    payload = response.json()
    assert list(payload) == ENVELOPE_KEYS
    assert payload["success"] is True
    assert payload["errors"] == []
    assert payload["messages"] == []
    result = payload["result"]
    assert list(result) == CREATE_KEYS
    assert CLIENT_SECRET.match(result["client_secret"])
    assert result["onboarding"] is False
    assert re.match(r"^in_[A-Za-z0-9]{24}$", result["payment_intent_id"])
    assert result["brand"] is None
    assert result["last4"] is None


def test_status_is_pending_until_paid_then_completed(sandbox):
    result = create(sandbox).json()["result"]
    first = status(sandbox, result["payment_intent_id"])
    assert first.status_code == 200
    assert first.json() == {
        "success": True,
        "errors": [],
        "messages": [],
        "result": {"payment_intent_id": result["payment_intent_id"], "status": "pending"},
    }

    paid = pay(sandbox, result["client_secret"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "succeeded"

    after = status(sandbox, result["payment_intent_id"]).json()["result"]
    assert after == {"payment_intent_id": result["payment_intent_id"], "status": "completed"}


def test_settle_delay_keeps_a_paid_top_up_pending(sandbox):
    sandbox.configure(settle_seconds=1.5)
    result = create(sandbox).json()["result"]
    pay(sandbox, result["client_secret"]).raise_for_status()

    assert status(sandbox, result["payment_intent_id"]).json()["result"]["status"] == "pending"
    time.sleep(2.1)
    assert status(sandbox, result["payment_intent_id"]).json()["result"]["status"] == "completed"


def test_saved_card_is_charged_server_side_on_the_next_top_up(sandbox):
    first = create(sandbox).json()["result"]
    pay(sandbox, first["client_secret"]).raise_for_status()

    second = create(sandbox, {"amount": 2500}).json()["result"]

    assert list(second) == CREATE_KEYS
    assert second["client_secret"] is None
    assert second["onboarding"] is True
    assert (second["brand"], second["last4"]) == ("visa", "4242")
    assert second["payment_intent_id"] != first["payment_intent_id"]
    assert status(sandbox, second["payment_intent_id"]).json()["result"]["status"] == "completed"


def test_saved_card_needing_3ds_returns_client_secret_with_brand_and_last4(sandbox):
    first = create(sandbox).json()["result"]
    intent = pay(sandbox, first["client_secret"], "4000002760003184").json()
    assert intent["status"] == "requires_action"
    assert authenticate(sandbox, intent)["status"] == "succeeded"

    second = create(sandbox).json()["result"]

    assert CLIENT_SECRET.match(second["client_secret"])
    assert (second["brand"], second["last4"], second["onboarding"]) == ("visa", "3184", True)
    assert status(sandbox, second["payment_intent_id"]).json()["result"]["status"] == "pending"


def test_failed_3ds_leaves_the_payment_pending_and_the_card_unsaved(sandbox):
    first = create(sandbox).json()["result"]
    intent = pay(sandbox, first["client_secret"], "4000002760003184").json()

    after = authenticate(sandbox, intent, success=False)

    assert after["status"] == "requires_payment_method"
    assert after["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert status(sandbox, first["payment_intent_id"]).json()["result"]["status"] == "pending"
    assert create(sandbox).json()["result"]["onboarding"] is False


def test_card_declined_when_saved(sandbox):
    result = create(sandbox).json()["result"]
    response = pay(sandbox, result["client_secret"], "4000000000000002")
    assert response.status_code == 402
    assert response.json()["error"]["type"] == "card_error"
    assert response.json()["error"]["code"] == "card_declined"
    assert response.json()["error"]["message"] == "Your card was declined."


def test_card_declined_at_charge_then_retried_with_a_good_card(sandbox):
    result = create(sandbox).json()["result"]
    declined = pay(sandbox, result["client_secret"], "4000000000000341")
    assert declined.status_code == 402
    assert declined.json()["error"]["payment_intent"]["status"] == "requires_payment_method"

    retried = pay(sandbox, result["client_secret"], "4242424242424242")

    assert retried.status_code == 200
    assert retried.json()["status"] == "succeeded"
    assert status(sandbox, result["payment_intent_id"]).json()["result"]["status"] == "completed"


def test_global_api_key_is_accepted(sandbox):
    headers = {"X-Auth-Email": "sandbox@example.com", "X-Auth-Key": "sandbox-global-key"}
    assert create(sandbox, headers=headers).status_code == 200
    assert sandbox.requests("create")[-1]["auth"] == "global_key"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {SANDBOX_TOKEN}"},
        {"X-Auth-Email": "sandbox@example.com", "X-Auth-Key": "wrong"},
        {"X-Auth-Email": "sandbox@example.com"},
    ],
    ids=["none", "bad-token", "wrong-scheme", "bad-key", "email-only"],
)
def test_bad_auth_is_403_code_10000(sandbox, headers):
    errors = assert_cloudflare_error(create(sandbox, headers=headers), 403, contract.AUTH_ERROR)
    assert errors[0]["message"] == "Authentication error"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"amount": 999}, "amount must be at least 1000 cents"),
        ({"amount": 0}, "amount must be at least 1000 cents"),
        ({"amount": -5000}, "amount must be at least 1000 cents"),
        ({"amount": 5000.5}, "amount must be an integer number of cents"),
        ({"amount": 5000.0}, "amount must be an integer number of cents"),
        ({"amount": "5000"}, "amount must be an integer number of cents"),
        ({"amount": True}, "amount must be an integer number of cents"),
        ({"amount": None}, "amount must be an integer number of cents"),
        ({"amount": 1_000_001}, "amount must be at most 1000000 cents"),
        ({"cents": 5000}, "amount is required"),
    ],
)
def test_invalid_amounts_are_refused_without_charging(sandbox, body, message):
    errors = assert_sandbox_error(create(sandbox, body), 400, contract.INVALID_AMOUNT)
    assert errors[0]["message"] == message


def test_body_that_is_not_json_is_refused(sandbox):
    response = requests.post(billing(sandbox), data=b"amount=5000", headers=TOKEN, timeout=10)
    assert_sandbox_error(response, 400, contract.INVALID_BODY)


def test_unknown_account_is_forbidden(sandbox):
    response = requests.post(
        billing(sandbox, account="f" * 32), json={"amount": 5000}, headers=TOKEN, timeout=10
    )
    errors = assert_cloudflare_error(response, 403, contract.ACCOUNT_FORBIDDEN)
    assert errors[0]["message"] == "Unauthorized to access requested resource"


def test_malformed_account_id_cannot_be_routed(sandbox):
    response = requests.post(
        billing(sandbox, account="not-an-account"), json={"amount": 5000}, headers=TOKEN, timeout=10
    )
    errors = assert_cloudflare_error(response, 400, contract.BAD_IDENTIFIER)
    assert [e["code"] for e in errors] == [7003, 7000]


def test_unknown_payment_intent_id_is_404(sandbox):
    errors = assert_sandbox_error(status(sandbox, "in_doesnotexist"), 404, contract.TOPUP_NOT_FOUND)
    assert "in_doesnotexist" in errors[0]["message"]


def test_status_of_another_accounts_top_up_is_404(sandbox):
    other = "4f1e5cfd2e7a4b9a8c3d6e0f1a2b3c4d"
    result = create(sandbox).json()["result"]
    assert_sandbox_error(
        status(sandbox, result["payment_intent_id"], account=other), 404, contract.TOPUP_NOT_FOUND
    )


def test_status_without_payment_intent_id_is_400(sandbox):
    response = requests.post(billing(sandbox, "topup/status"), json={}, headers=TOKEN, timeout=10)
    assert_sandbox_error(response, 400, contract.INVALID_BODY)


def test_wrong_method_is_405(sandbox):
    assert_sandbox_error(
        requests.get(billing(sandbox), headers=TOKEN, timeout=10), 405, contract.METHOD_NOT_ALLOWED
    )


def test_limits(sandbox):
    response = requests.get(billing(sandbox, "topup/limits"), headers=TOKEN, timeout=10)
    assert response.json() == {
        "success": True,
        "errors": [],
        "messages": [],
        "result": {"currency": "usd", "min_cents": 1000, "max_cents": 1000000},
    }


def test_whose_error_codes_are_whose():
    """Cloudflare's codes are the ones its API answers everywhere; every other code the sandbox
    answers with is its own, and no code is both."""
    assert frozenset({10000, 9109, 7000, 7003}) == contract.CLOUDFLARE_CODES
    assert not contract.CLOUDFLARE_CODES & contract.SANDBOX_CODES
    codes = {
        value for name, value in vars(contract).items() if name.isupper() and type(value) is int
    }
    assert codes == contract.CLOUDFLARE_CODES | contract.SANDBOX_CODES


def test_concurrent_first_top_ups_of_an_account_share_one_customer(sandbox):
    sandbox.configure(latency_ms=100)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: create(sandbox).json()["result"], range(6)))
    intents = [
        requests.get(
            f"{sandbox.url}/__sandbox/stripe/payment_intent",
            params={"key": "pk_test_sandbox", "client_secret": r["client_secret"]},
            timeout=10,
        ).json()["id"]
        for r in results
    ]
    customers = {
        requests.get(
            f"{sandbox.localstripe_url}/v1/payment_intents/{intent}",
            headers={"Authorization": "Bearer sk_test_sandbox"},
            timeout=10,
        ).json()["customer"]
        for intent in intents
    }
    assert len(customers) == 1
    listed = requests.get(
        f"{sandbox.localstripe_url}/v1/customers",
        headers={"Authorization": "Bearer sk_test_sandbox"},
        timeout=10,
    ).json()["data"]
    assert [c["id"] for c in listed] == list(customers)  # the losers' customers were removed
