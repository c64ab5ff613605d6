"""Paying and the status that follows: the client secret stays with its owner, the browser's
word is only a trigger, and Cloudflare is asked at most once per interval."""

import logging

import pytest
from django.urls import reverse

from tests.topups.steps import A, confirm, pay_with_card
from topups.models import TopUp, TopUpEvent
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


def test_pay_page_hands_the_secret_to_the_script_only(admin_client, sandbox, settings):
    response = confirm(admin_client)
    topup = TopUp.objects.get()

    page = admin_client.get(response["Location"])

    html = page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert html.count(topup.client_secret) == 1
    assert (
        f'<script id="payment-config" type="application/json">'
        f'{{"clientSecret": "{topup.client_secret}"'
    ) in html
    assert settings.CLOUDFLARE_API_TOKEN not in html
    assert f'<script src="{settings.STRIPE_JS_URL}"></script>' in html
    assert topup.client_secret not in page.headers.get("Location", "")


def test_secret_is_forgotten_and_pay_page_closed_once_paid(admin_client, sandbox):
    confirm(admin_client)
    topup = TopUp.objects.get()
    pay_with_card(sandbox, topup.client_secret)

    admin_client.post(
        reverse("topups:paid", kwargs={**A, "pk": topup.pk}), {"stripe_status": "succeeded"}
    )

    topup.refresh_from_db()
    assert topup.state == TopUpState.COMPLETED
    assert topup.client_secret == ""
    pay = admin_client.get(reverse("topups:pay", kwargs={**A, "pk": topup.pk}))
    assert pay["Location"] == reverse("topups:detail", kwargs={**A, "pk": topup.pk})


def test_browser_success_is_not_the_truth(admin_client, sandbox):
    """The browser says "succeeded" without paying: the row waits for Cloudflare."""
    confirm(admin_client)
    topup = TopUp.objects.get()

    data = admin_client.post(
        reverse("topups:paid", kwargs={**A, "pk": topup.pk}), {"stripe_status": "succeeded"}
    ).json()

    assert data["state"] == "processing"
    topup.refresh_from_db()
    assert topup.state == TopUpState.PROCESSING
    assert topup.completed_at is None


def test_return_url_ignores_redirect_status_and_drops_the_secret(admin_client, sandbox):
    confirm(admin_client)
    topup = TopUp.objects.get()
    url = reverse("topups:return", kwargs={**A, "pk": topup.pk})

    response = admin_client.get(
        url,
        {
            "payment_intent": "pi_x",
            "payment_intent_client_secret": topup.client_secret,
            "redirect_status": "succeeded",
        },
    )

    assert response["Location"] == reverse("topups:detail", kwargs={**A, "pk": topup.pk})
    topup.refresh_from_db()
    assert topup.state == TopUpState.AWAITING_PAYMENT  # Cloudflare still says pending


def test_no_secret_reaches_the_audit_trail_or_the_logs(admin_client, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    confirm(admin_client)
    topup = TopUp.objects.get()
    secret = topup.client_secret
    admin_client.get(reverse("topups:pay", kwargs={**A, "pk": topup.pk}))
    pay_with_card(sandbox, secret)
    admin_client.post(reverse("topups:paid", kwargs={**A, "pk": topup.pk}))

    trail = str(list(TopUpEvent.objects.values("detail", "kind")))
    assert "_secret_" not in trail
    assert secret not in caplog.text
    assert "sandbox-token" not in caplog.text


def test_request_log_redacts_a_client_secret_in_a_url():
    from billing_portal.log_filters import RedactSecrets

    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /r/?payment_intent_client_secret=pi_1_secret_2&x=1 HTTP/1.1", 302, 0),
        None,
    )
    RedactSecrets().filter(record)
    assert record.getMessage() == (
        '"GET /r/?payment_intent_client_secret=[redacted]&x=1 HTTP/1.1" 302 0'
    )


def test_status_checks_are_throttled_through_the_database(admin_client, sandbox):
    confirm(admin_client)
    topup = TopUp.objects.get()
    pay_with_card(sandbox, topup.client_secret)
    TopUp.objects.filter(pk=topup.pk).update(state=TopUpState.PROCESSING)
    sandbox.configure(settle_seconds=30)
    url = reverse("topups:status", kwargs={**A, "pk": topup.pk})

    for _ in range(5):
        assert admin_client.get(url).json()["state"] == "processing"

    assert len(sandbox.requests("status")) == 1


def test_status_endpoint_answers_rendered_html(admin_client, sandbox):
    confirm(admin_client)
    topup = TopUp.objects.get()
    data = admin_client.get(reverse("topups:status", kwargs={**A, "pk": topup.pk})).json()
    assert data["state"] == "awaiting_payment"
    assert data["final"] is False
    assert data["next_url"] == reverse("topups:pay", kwargs={**A, "pk": topup.pk})
    assert "Continue to payment" in data["html"]
