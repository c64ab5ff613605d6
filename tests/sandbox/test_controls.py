"""The sandbox's controls: the request log, runtime settings and reset."""

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
