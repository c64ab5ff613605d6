"""The transport's read policy, over real HTTP to the sandbox: urllib3's Retry repeats reads on
transient faults with backoff and honours a short Retry-After; anything definite is not retried."""

import time

import pytest

from cloudflare_client import (
    CloudflareAuthError,
    CloudflareNotFound,
    CloudflareRateLimited,
    CloudflareUnavailable,
    CloudflareValidationError,
    Credentials,
)
from tests.conftest import DEMO_ACCOUNT_ID

A = DEMO_ACCOUNT_ID


@pytest.mark.parametrize("mode", ["500", "html_502", "429", "hang"])
def test_status_retries_transient_faults_then_succeeds(client_factory, sandbox, mode):
    cf = client_factory(read_timeout=1)
    created = cf.topups.create(A, amount_cents=5000)
    sandbox.fault("status", mode, hang_seconds=3, retry_after=0)

    status = cf.topups.status(A, created.payment_intent_id)

    assert status.status == "pending"
    assert [r["fault"] for r in sandbox.requests("status")] == [mode, ""]


@pytest.mark.parametrize(
    ("mode", "error"),
    [("success_false", CloudflareValidationError), ("malformed_json", CloudflareUnavailable)],
)
def test_an_answer_that_arrived_is_not_asked_again(cf, sandbox, mode, error):
    """A definite refusal stands; an unreadable 200 is reported and the next poll asks again."""
    sandbox.fault("status", mode)
    with pytest.raises(error):
        cf.topups.status(A, "in_whatever")
    assert len(sandbox.requests("status")) == 1


def test_status_gives_up_after_the_configured_attempts_with_backoff(client_factory, sandbox):
    cf = client_factory(read_attempts=3, backoff_factor=0.2)
    sandbox.fault("status", "500", count=10)

    started = time.monotonic()
    with pytest.raises(CloudflareUnavailable):
        cf.topups.status(A, "in_whatever")

    assert len(sandbox.requests("status")) == 3
    # urllib3 backs off exponentially: no wait before the 2nd attempt, 0.2 * 2 before the 3rd.
    assert time.monotonic() - started >= 0.4


def test_status_honours_a_short_retry_after(cf, sandbox):
    created = cf.topups.create(A, amount_cents=5000)
    sandbox.fault("status", "429", retry_after=1)

    started = time.monotonic()
    assert cf.topups.status(A, created.payment_intent_id).status == "pending"

    assert time.monotonic() - started >= 1.0
    assert [r["status"] for r in sandbox.requests("status")] == [429, 200]


def test_status_does_not_wait_out_a_long_retry_after(cf, sandbox):
    sandbox.fault("status", "429", retry_after=120)
    started = time.monotonic()
    with pytest.raises(CloudflareRateLimited) as info:
        cf.topups.status(A, "in_whatever")
    assert info.value.retry_after == 120
    assert time.monotonic() - started < 60
    assert len(sandbox.requests("status")) == 1


def test_auth_errors_are_not_retried(client_factory, sandbox):
    cf = client_factory(Credentials(api_token="nope"))
    with pytest.raises(CloudflareAuthError):
        cf.topups.status(A, "in_x")
    assert len(sandbox.requests("status")) == 1


def test_unknown_id_is_not_found_and_not_retried(cf, sandbox):
    with pytest.raises(CloudflareNotFound) as info:
        cf.topups.status(A, "in_never_issued")
    assert info.value.status_code == 404
    assert len(sandbox.requests("status")) == 1
