"""The top-ups resource against the sandbox over real HTTP: typed results, the exception each
failure becomes, and create sent exactly once whatever goes wrong."""

import pytest
import requests

from cloudflare_client import (
    CloudflareAuthError,
    CloudflareError,
    CloudflareOutcomeUnknown,
    CloudflareRateLimited,
    CloudflareUnavailable,
    CloudflareValidationError,
    Credentials,
    TopUpCreated,
    TopUpLimits,
    TopUpStatus,
)
from tests.conftest import DEMO_ACCOUNT_ID
from tests.sandbox_process import free_port

A = DEMO_ACCOUNT_ID


def test_create_returns_a_typed_result(cf, sandbox):
    created = cf.topups.create(A, amount_cents=5000)

    assert isinstance(created, TopUpCreated)
    assert created.payment_intent_id.startswith("in_")
    assert created.needs_browser_confirmation
    assert created.onboarding is False
    assert (created.brand, created.last4) == (None, None)
    assert "secret" not in repr(created)
    assert sandbox.requests("create")[0]["body"] == {"amount": 5000}


def test_create_sends_payment_method_id_when_given(cf, sandbox):
    with pytest.raises(CloudflareValidationError) as info:
        cf.topups.create(A, amount_cents=5000, payment_method_id="pm_unknown")
    assert sandbox.requests("create")[0]["body"] == {
        "amount": 5000,
        "payment_method_id": "pm_unknown",
    }
    assert info.value.errors[0].message == "payment_method_id was not found"


def test_create_refuses_a_non_integer_amount_before_sending(cf, sandbox):
    with pytest.raises(TypeError):
        cf.topups.create(A, amount_cents=50.0)
    assert sandbox.requests() == []


def test_status_and_limits_are_typed(cf):
    created = cf.topups.create(A, amount_cents=5000)
    status = cf.topups.status(A, created.payment_intent_id)
    assert status == TopUpStatus(payment_intent_id=created.payment_intent_id, status="pending")
    assert not status.is_completed
    assert cf.topups.limits(A) == TopUpLimits("usd", 1000, 1_000_000)


def test_global_key_credentials(client_factory, sandbox):
    cf = client_factory(
        credentials=Credentials(email="sandbox@example.com", api_key="sandbox-global-key")
    )
    cf.topups.create(A, amount_cents=5000)
    assert sandbox.requests("create")[0]["auth"] == "global_key"


def test_bad_token_is_an_auth_error(client_factory):
    cf = client_factory(credentials=Credentials(api_token="not-the-token"))
    with pytest.raises(CloudflareAuthError) as info:
        cf.topups.create(A, amount_cents=5000)
    assert info.value.status_code == 403
    assert [(e.code, e.message) for e in info.value.errors] == [(10000, "Authentication error")]


def test_account_without_access_is_an_auth_error(cf):
    with pytest.raises(CloudflareAuthError) as info:
        cf.topups.status("f" * 32, "in_x")
    assert info.value.errors[0].code == 9109


def test_validation_error_carries_cloudflares_codes_and_messages(cf):
    with pytest.raises(CloudflareValidationError) as info:
        cf.topups.create(A, amount_cents=999)
    assert info.value.status_code == 400
    assert [(e.code, e.message) for e in info.value.errors] == [
        (10002, "amount must be at least 1000 cents")
    ]
    assert info.value.user_message == "amount must be at least 1000 cents"


# --- create: every fault reaches the caller as the right exception, sent exactly once ------

CREATE_FAULTS = [
    ("500", {}, CloudflareOutcomeUnknown),
    ("html_502", {}, CloudflareOutcomeUnknown),
    ("malformed_json", {}, CloudflareOutcomeUnknown),
    ("hang", {"hang_seconds": 3}, CloudflareOutcomeUnknown),
    ("429", {"retry_after": 7}, CloudflareRateLimited),
    ("success_false", {}, CloudflareValidationError),
]


@pytest.mark.parametrize(
    ("mode", "options", "expected"), CREATE_FAULTS, ids=[f[0] for f in CREATE_FAULTS]
)
def test_create_fault_modes(client_factory, sandbox, mode, options, expected):
    cf = client_factory(read_timeout=1)
    sandbox.fault("create", mode, **options)

    with pytest.raises(expected):
        cf.topups.create(A, amount_cents=5000)

    assert len(sandbox.requests("create")) == 1, "a create is never sent twice"


def test_create_rate_limited_reports_retry_after(cf, sandbox):
    sandbox.fault("create", "429", retry_after=7)
    with pytest.raises(CloudflareRateLimited) as info:
        cf.topups.create(A, amount_cents=5000)
    assert info.value.retry_after == 7
    assert info.value.retryable


@pytest.mark.parametrize("mode", ["hang", "500", "malformed_json"])
def test_create_whose_answer_is_lost_after_charging_is_called_once(client_factory, sandbox, mode):
    """The card is really charged (saved card, server-side) and only the answer is lost."""
    cf = client_factory(read_timeout=1)
    first = cf.topups.create(A, amount_cents=5000)
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}

    requests.post(
        f"{sandbox.url}/__sandbox/stripe/confirm",
        json={"key": "pk_test_sandbox", "client_secret": first.client_secret, "card": card},
        timeout=10,
    ).raise_for_status()
    sandbox.control("DELETE", "requests")
    sandbox.fault("create", mode, apply=True, hang_seconds=3)

    with pytest.raises(CloudflareOutcomeUnknown) as info:
        cf.topups.create(A, amount_cents=2500)

    assert "may or may not have been charged" in info.value.user_message
    creates = sandbox.requests("create")
    assert len(creates) == 1
    assert creates[0]["fault"] == mode


def test_create_that_never_left_is_unavailable_not_unknown(client_factory, sandbox):
    cf = client_factory(base_url=f"http://127.0.0.1:{free_port()}/client/v4")
    # Catch the whole family: the check below must be able to see an OutcomeUnknown.
    with pytest.raises(CloudflareError) as info:
        cf.topups.create(A, amount_cents=5000)
    assert type(info.value) is CloudflareUnavailable


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"success": True, "errors": [], "messages": [], "result": {"client_secret": None}},
            "missing",
        ),
        ({"success": True, "errors": [], "messages": [], "result": None}, "not an object"),
        (
            {
                "success": True,
                "errors": [],
                "messages": [],
                "result": {
                    "client_secret": None,
                    "onboarding": "yes",
                    "payment_intent_id": "in_1",
                    "brand": None,
                    "last4": None,
                },
            },
            "type",
        ),
        (
            {
                "success": True,
                "errors": [],
                "messages": [],
                "result": {
                    "client_secret": None,
                    "onboarding": True,
                    "payment_intent_id": "in_1",
                    "brand": "visa",
                    "last4": 4242,
                },
            },
            "four digits",
        ),
        ({"success": False, "errors": [], "messages": [], "result": None}, "unexpected"),
        ({"ok": True}, "unexpected"),
    ],
    ids=[
        "missing-fields",
        "null-result",
        "wrong-type",
        "bad-last4",
        "false-without-errors",
        "not-an-envelope",
    ],
)
def test_create_success_that_breaks_the_contract_is_outcome_unknown(cf, sandbox, body, reason):
    sandbox.fault("create", "body", body=body)
    with pytest.raises(CloudflareOutcomeUnknown, match=reason):
        cf.topups.create(A, amount_cents=5000)


def test_unknown_extra_fields_are_tolerated(cf, sandbox):
    sandbox.fault(
        "create",
        "body",
        body={
            "success": True,
            "errors": [],
            "messages": [{"code": 1, "message": "hi"}],
            "result_info": {"page": 1},
            "result": {
                "client_secret": None,
                "onboarding": True,
                "payment_intent_id": "in_1",
                "brand": "visa",
                "last4": "4242",
                "receipt_url": "https://x",
                "new": [1],
            },
        },
    )
    created = cf.topups.create(A, amount_cents=5000)
    assert (created.payment_intent_id, created.brand, created.last4) == ("in_1", "visa", "4242")
    assert not created.needs_browser_confirmation


def test_unknown_status_value_is_never_read_as_completed(cf, sandbox):
    sandbox.fault(
        "status",
        "body",
        body={
            "success": True,
            "errors": [],
            "messages": [],
            "result": {"payment_intent_id": "in_1", "status": "refunded"},
        },
    )
    assert cf.topups.status(A, "in_1").status == "pending"
