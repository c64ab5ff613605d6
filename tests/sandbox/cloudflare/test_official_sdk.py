"""The sandbox driven by Cloudflare's official Python SDK (the `cloudflare` package), with strict
response validation: every endpoint answers in the shapes Cloudflare publishes, errors included,
through a client we did not write."""

import time

import cloudflare
import pytest

from tests.conftest import DEMO_ACCOUNT_ID, SANDBOX_TOKEN
from tests.sandbox.helpers import pay

A = {"account_id": DEMO_ACCOUNT_ID}


@pytest.fixture
def sdk(sandbox):
    with cloudflare.Cloudflare(
        api_token=SANDBOX_TOKEN,
        base_url=sandbox.api_url,
        max_retries=0,
        _strict_response_validation=True,
    ) as client:
        yield client.ai_gateway.billing


def test_top_up_create_and_status(sdk, sandbox):
    created = sdk.topup.create(**A, amount=5000)
    assert created.client_secret
    assert created.onboarding is False
    assert sdk.topup.status(**A, payment_intent_id=created.payment_intent_id).status == "pending"

    pay(sandbox, created.client_secret).raise_for_status()

    status = sdk.topup.status(**A, payment_intent_id=created.payment_intent_id)
    assert status.status == "completed"
    again = sdk.topup.create(**A, amount=1000)  # the saved card, charged server-side
    assert (again.client_secret, again.brand, again.last4) == (None, "visa", "4242")


def test_account_reads(sdk, demo):
    balance = sdk.credit_balance(**A)
    assert balance.payment_method.last4 == "4242"
    assert balance.topup_config.threshold == 1000
    history = sdk.invoice_history(**A, type="auto")
    assert history.invoices
    assert all(i.invoice_origin == "auto" for i in history.invoices)
    assert history.pagination.total_count >= len(history.invoices)
    preview = sdk.invoice_preview(**A)
    assert preview.status == "draft"
    assert preview.invoice_lines
    now = int(time.time() * 1000)
    hours = sdk.usage_history(
        **A, value_grouping_window="hour", start_time=now - 6 * 3_600_000, end_time=now
    )
    assert len(hours.history) in (6, 7)
    assert sdk.usage_history(**A, value_grouping_window="day").history


def test_auto_top_up_config(sdk, sandbox):
    assert sdk.topup.config.get(**A).amount is None
    with pytest.raises(cloudflare.PermissionDeniedError):
        sdk.topup.config.create(**A, amount=5000, threshold=1000)

    sandbox.configure(topup_config_writes=True)
    written = sdk.topup.config.create(**A, amount=5000, threshold=1000)

    assert (written.amount, written.threshold) == (5000, 1000)
    assert sdk.topup.config.get(**A).threshold == 1000
    sdk.topup.config.delete(**A)
    assert sdk.topup.config.get(**A).threshold is None


def test_errors_are_the_sdks_exceptions(sdk, sandbox):
    with pytest.raises(cloudflare.BadRequestError) as refused:
        sdk.topup.create(**A, amount=999)
    assert refused.value.status_code == 400
    with pytest.raises(cloudflare.PermissionDeniedError):
        sdk.credit_balance(account_id="f" * 32)
    sandbox.fault("status", "429")
    with pytest.raises(cloudflare.RateLimitError):
        sdk.topup.status(**A, payment_intent_id="in_anything")
