"""Steps of the top-up flow, server-side: the POST the review page sends, and the card the
Stripe.js stand-in would send to the sandbox."""

import uuid

import requests
from django.urls import reverse

from accounts.cloudflare import client_for_account
from tests.conftest import DEMO_ACCOUNT_ID

A = {"account_id": DEMO_ACCOUNT_ID}


def confirm(client, amount_cents=5000, request_key=None):
    return client.post(
        reverse("topups:confirm", kwargs=A),
        {"amount_cents": amount_cents, "request_key": request_key or uuid.uuid4()},
    )


def pay_with_card(sandbox, client_secret, number="4242424242424242"):
    requests.post(
        f"{sandbox.url}/__sandbox/stripe/confirm",
        timeout=10,
        json={
            "key": "pk_test_sandbox",
            "client_secret": client_secret,
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        },
    ).raise_for_status()


def paid_at_cloudflare(account, sandbox, amount_cents=5000) -> str:
    """The id of a top-up Cloudflare (the sandbox) has been paid for: the account's first with a
    new card, later ones charged to that card, saved by then."""
    created = client_for_account(account).topups.create(
        account.account_id, amount_cents=amount_cents
    )
    if created.client_secret:
        pay_with_card(sandbox, created.client_secret)
    return created.payment_intent_id
