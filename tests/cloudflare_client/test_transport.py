"""The transport's read policy, over real HTTP to the sandbox: urllib3's Retry repeats reads on
transient faults with backoff and honours a short Retry-After; anything definite is not retried."""

import threading
import time

import pytest

from cloudflare_client import (
    CloudflareAuthError,
    CloudflareBusy,
    CloudflareNotFound,
    CloudflareRateLimited,
    CloudflareSlow,
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


def test_a_read_that_times_out_on_every_attempt_is_slow(client_factory, sandbox):
    cf = client_factory(read_timeout=0.5, read_attempts=2, backoff_factor=0)
    sandbox.fault("status", "hang", count=5, hang_seconds=3)
    with pytest.raises(CloudflareSlow):
        cf.topups.status(A, "in_whatever")
    assert len(sandbox.requests("status")) == 2


def test_a_read_without_a_free_slot_is_not_sent(client_factory, sandbox):
    """Two slots, both held by reads hanging on Cloudflare: a third read is refused at once,
    nothing is sent, and a write still goes out."""
    slots = threading.BoundedSemaphore(2)
    cf = client_factory(read_timeout=1.5, read_attempts=1, read_slots=slots)
    sandbox.fault("status", "hang", count=2, hang_seconds=3)
    outcomes = []

    def hang():
        try:
            cf.topups.status(A, "in_x")
        except CloudflareSlow as exc:
            outcomes.append(exc)

    hanging = [threading.Thread(target=hang) for _ in range(2)]
    for thread in hanging:
        thread.start()
    deadline = time.monotonic() + 5
    while len(sandbox.requests("status")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    started = time.monotonic()
    with pytest.raises(CloudflareBusy):
        cf.topups.status(A, "in_whatever")
    assert time.monotonic() - started < 0.5
    assert len(sandbox.requests("status")) == 2
    assert cf.topups.create(A, amount_cents=5000).payment_intent_id

    for thread in hanging:
        thread.join()
    assert len(outcomes) == 2
    created = cf.topups.create(A, amount_cents=5000)
    assert cf.topups.status(A, created.payment_intent_id).status == "pending"  # slots given back
