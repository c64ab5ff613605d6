"""Each fault mode answers as documented in sandbox/cloudflare/faults.py (raw HTTP view)."""

import time

import pytest
import requests

from sandbox.cloudflare.faults import FAULT_ANSWERS, MODES
from tests.conftest import DEMO_ACCOUNT_ID, SANDBOX_TOKEN

TOKEN = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}


def create(sandbox, timeout=10):
    url = f"{sandbox.api_url}/accounts/{DEMO_ACCOUNT_ID}/ai-gateway/billing/topup"
    return requests.post(url, json={"amount": 5000}, headers=TOKEN, timeout=timeout)


def error(code: int, message: str) -> dict:
    errors = [{"code": code, "message": message}]
    return {"success": False, "errors": errors, "messages": [], "result": None}


# Cloudflare's envelope in each; the codes are the sandbox's own (see contract.py).
SERVER_ERROR = error(10500, "Internal server error")
EXPECTED = {
    "500": (500, SERVER_ERROR),
    "429": (
        429,
        error(10429, "Rate limited. Please wait and consider throttling your request speed"),
    ),
    "success_false": (200, SERVER_ERROR),
    "hang": (504, error(10504, "Gateway timeout")),
}


def test_every_mode_but_body_answers_from_the_one_table():
    assert (*FAULT_ANSWERS, "body") == MODES


@pytest.mark.parametrize("mode", sorted(FAULT_ANSWERS))
def test_each_fault_answers_exactly_its_row_of_the_table(sandbox, mode):
    sandbox.fault("create", mode, hang_seconds=0.1)
    response = create(sandbox)
    answer = FAULT_ANSWERS[mode]
    assert (response.status_code, response.content) == (answer.status, answer.body)
    assert response.headers["Content-Type"] == answer.content_type
    assert sandbox.requests("create")[0]["status"] == answer.status
    if mode in EXPECTED:
        assert (response.status_code, response.json()) == EXPECTED[mode]


def test_500_answers_an_error_envelope(sandbox):
    sandbox.fault("create", "500")
    response = create(sandbox)
    assert response.status_code == 500
    assert response.json()["success"] is False


def test_429_carries_retry_after(sandbox):
    sandbox.fault("create", "429", retry_after=7)
    response = create(sandbox)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_html_502_is_an_html_page(sandbox):
    sandbox.fault("create", "html_502")
    response = create(sandbox)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html"
    assert "502 Bad Gateway" in response.text


def test_success_false_with_200(sandbox):
    sandbox.fault("create", "success_false")
    response = create(sandbox)
    assert response.status_code == 200
    assert response.json()["success"] is False
    assert response.json()["errors"]


def test_malformed_json(sandbox):
    sandbox.fault("create", "malformed_json")
    response = create(sandbox)
    assert response.status_code == 200
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decoding error
        response.json()


def test_hang_outlives_a_short_timeout(sandbox):
    sandbox.fault("create", "hang", hang_seconds=2)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        create(sandbox, timeout=0.5)
    assert time.monotonic() - started < 2


def test_faults_count_down_then_the_real_answer_returns(sandbox):
    sandbox.fault("create", "500", count=2)
    assert [create(sandbox).status_code for _ in range(3)] == [500, 500, 200]
    assert [r["fault"] for r in sandbox.requests("create")] == ["500", "500", ""]


def test_apply_carries_out_the_call_before_spoiling_its_answer(sandbox):
    sandbox.fault("create", "500", apply=True)
    assert create(sandbox).status_code == 500
    assert [r["fault"] for r in sandbox.requests("create")] == ["500"]
    # The spoiled call really created a PaymentIntent in localstripe.
    intents = requests.get(
        f"{sandbox.localstripe_url}/v1/payment_intents",
        headers={"Authorization": "Bearer sk_test_sandbox"},
        timeout=10,
    ).json()
    assert [intent["amount"] for intent in intents["data"]] == [5000]


def test_fault_for_one_endpoint_leaves_others_alone(sandbox):
    sandbox.fault("status", "500")
    assert create(sandbox).status_code == 200


def test_latency_is_added_to_billing_calls(sandbox):
    sandbox.configure(latency_ms=300)
    started = time.monotonic()
    create(sandbox)
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    "fault",
    [
        {"endpoint": "nope", "mode": "500"},
        {"endpoint": "create", "mode": "explode"},
        {"endpoint": "create", "mode": "500", "count": 0},
        {"endpoint": "create"},
    ],
)
def test_bad_fault_plans_are_refused(sandbox, fault):
    response = requests.post(f"{sandbox.url}/__sandbox/faults", json=fault, timeout=10)
    assert response.status_code == 400
    assert sandbox.control("GET", "faults") == {"faults": []}
