"""The sandbox's controls: the request log, runtime settings, the balance and reset."""

import time

import pytest
import requests

from sandbox.cloudflare import contract
from tests.conftest import SANDBOX_TOKEN
from tests.sandbox.helpers import (
    TOKEN,
    assert_cloudflare_error,
    billing,
    create,
    pay,
)


def test_request_log_records_calls_without_secrets(sandbox):
    create(sandbox, {"amount": 1234})
    records = sandbox.requests()
    assert len(records) == 1
    record = records[0]
    assert (record["method"], record["endpoint"], record["auth"]) == ("POST", "create", "token")
    assert record["body"] == {"amount": 1234}
    assert record["status"] == 200
    assert SANDBOX_TOKEN not in str(records)


def test_reset_forgets_customers_and_cards(sandbox):
    first = create(sandbox).json()["result"]
    pay(sandbox, first["client_secret"]).raise_for_status()
    assert create(sandbox).json()["result"]["onboarding"] is True

    sandbox.reset()

    assert create(sandbox).json()["result"]["onboarding"] is False


def test_limits_can_be_switched_off_to_answer_like_an_unknown_route(sandbox):
    sandbox.configure(limits_enabled=False)
    response = requests.get(billing(sandbox, "topup/limits"), headers=TOKEN, timeout=10)
    assert_cloudflare_error(response, 404, contract.NO_ROUTE)


def test_the_balance_can_be_set_below_zero_and_given_a_spend_rate(sandbox):
    answer = sandbox.control("POST", "balance", {"balance": -320})
    assert answer["balance"] == -320
    read = requests.get(billing(sandbox, "credit-balance"), headers=TOKEN, timeout=10).json()
    assert read["result"]["balance"] == -320  # what Cloudflare answers: cents, below zero

    sandbox.control("POST", "balance", {"balance": 10000, "hourly_rate": 0.0001})
    now = int(time.time()) * 1000
    usage = requests.get(
        billing(sandbox, "usage-history"),
        params={
            "value_grouping_window": "day",
            "start_time": now - 8 * 86_400_000,
            "end_time": now,
        },
        headers=TOKEN,
        timeout=10,
    ).json()["result"]["history"]
    assert all(0 < bucket["aggregated_value"] < 0.01 for bucket in usage[:-1])  # a tiny burn
    read = requests.get(billing(sandbox, "credit-balance"), headers=TOKEN, timeout=10).json()
    assert 9999.99 < read["result"]["balance"] <= 10000


@pytest.mark.parametrize(
    "body",
    [
        {"balance": "-3.20"},
        {"balance": True},
        {"balance": 100, "hourly_rate": -1},
        {"balance": 100, "account_id": "0" * 32},
        [],
    ],
)
def test_the_balance_control_refuses_what_it_cannot_set(sandbox, body):
    response = requests.post(f"{sandbox.url}/__sandbox/balance", json=body, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]
