"""Paying and the status that follows: the client secret stays with its owner, the browser's
word is only a trigger, and Cloudflare is asked at most once per interval."""

import logging
import time
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import ApiBudget
from tests.concurrency import thread_with_own_connection
from tests.topups.steps import A, confirm, pay_with_card
from topups.models import StatusProblem, TopUp, TopUpEvent
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


# --- a slow or failing Cloudflare -------------------------------------------------------------


@pytest.fixture
def processing(admin_client, sandbox, settings):
    """A paid top-up Cloudflare keeps pending, and page reads bounded to 1 s."""
    settings.CLOUDFLARE_PAGE_READ_TIMEOUT = 1
    confirm(admin_client)
    topup = TopUp.objects.get()
    pay_with_card(sandbox, topup.client_secret)
    TopUp.objects.filter(pk=topup.pk).update(state=TopUpState.PROCESSING)
    sandbox.configure(settle_seconds=300)
    return topup


def _poll(client, topup) -> dict:
    return client.get(reverse("topups:status", kwargs={**A, "pk": topup.pk})).json()


def test_a_page_waits_one_short_attempt_then_says_cloudflare_is_slow(
    admin_client, sandbox, processing
):
    sandbox.fault("status", "hang", count=10, hang_seconds=5)

    started = time.monotonic()
    data = _poll(admin_client, processing)

    assert time.monotonic() - started < 3  # one attempt of 1 s, not three of 20 s
    assert len(sandbox.requests("status")) == 1
    assert data["state"] == "processing"
    assert data["delayed"] == StatusProblem.SLOW.label
    assert StatusProblem.SLOW.label in data["html"]
    assert "updates by itself" not in data["html"]


@pytest.mark.django_db(transaction=True)
def test_no_poll_asks_while_a_call_is_in_flight(admin_client, sandbox, processing):
    """The claim lasts as long as the call can take: however late the poll, only one call."""
    sandbox.fault("status", "hang", count=10, hang_seconds=5)
    in_flight = thread_with_own_connection(_poll, admin_client, processing)
    in_flight.start()
    deadline = time.monotonic() + 5
    while not sandbox.requests("status") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2.2)  # past the 2 s interval of the top-up's own page

    data = _poll(admin_client, processing)
    in_flight.join()

    assert len(sandbox.requests("status")) == 1
    assert data["delayed"] == StatusProblem.SLOW.label  # a call waiting for 2 s is slow


def test_after_a_check_that_timed_out_polls_back_off_then_the_next_answer_clears_it(
    admin_client, sandbox, processing
):
    sandbox.fault("status", "hang", hang_seconds=3)
    assert _poll(admin_client, processing)["delayed"] == StatusProblem.SLOW.label
    TopUp.objects.filter(pk=processing.pk).update(status_checked_at=None)  # the interval passed
    for _ in range(3):
        _poll(admin_client, processing)
    assert len(sandbox.requests("status")) == 1  # backing off: nobody asks for a while

    TopUp.objects.filter(pk=processing.pk).update(status_hold_until=None, status_checked_at=None)
    data = _poll(admin_client, processing)

    assert len(sandbox.requests("status")) == 2
    assert data["delayed"] == ""
    assert "updates by itself" in data["html"]


def test_an_error_answered_at_once_is_said_and_asked_again_at_the_usual_interval(
    admin_client, sandbox, processing
):
    sandbox.fault("status", "500")
    assert _poll(admin_client, processing)["delayed"] == StatusProblem.UNAVAILABLE.label
    _poll(admin_client, processing)
    assert len(sandbox.requests("status")) == 1  # within the 2 s interval

    TopUp.objects.filter(pk=processing.pk).update(status_checked_at=None)  # the interval passed
    assert _poll(admin_client, processing)["delayed"] == ""
    assert len(sandbox.requests("status")) == 2


def test_a_spent_budget_is_said_instead_of_updating_by_itself(
    admin_client, sandbox, processing, settings
):
    settings.CLOUDFLARE_API_BUDGET = ApiBudget.objects.get().calls + 1
    settings.CLOUDFLARE_API_BUDGET_RESERVE = 0
    sandbox.fault("status", "500")  # the budget's last call
    _poll(admin_client, processing)
    TopUp.objects.filter(pk=processing.pk).update(status_hold_until=None, status_checked_at=None)

    data = _poll(admin_client, processing)

    assert data["delayed"] == StatusProblem.BUDGET.label
    assert len(sandbox.requests("status")) == 1
    window = ApiBudget.objects.get()
    window_ends = window.window_started_at + timedelta(
        seconds=settings.CLOUDFLARE_API_BUDGET_WINDOW
    )
    held_until = TopUp.objects.get().status_hold_until
    assert abs((held_until - window_ends).total_seconds()) < 2  # until the budget's window ends


@pytest.mark.django_db(transaction=True)
def test_only_a_few_threads_of_a_process_wait_on_cloudflare(admin_client, sandbox, settings):
    """Six top-ups polled at once while status hangs: two wait, the others answer at once."""
    settings.CLOUDFLARE_PAGE_READ_TIMEOUT = 3
    settings.CLOUDFLARE_PAGE_READ_SLOTS = 2
    sandbox.configure(settle_seconds=300)
    for _ in range(6):
        confirm(admin_client)
    TopUp.objects.update(state=TopUpState.PROCESSING)
    sandbox.fault("status", "hang", count=10, hang_seconds=5)
    timings = []

    def poll(topup):
        started = time.monotonic()
        _poll(admin_client, topup)
        timings.append(time.monotonic() - started)

    threads = [thread_with_own_connection(poll, topup) for topup in TopUp.objects.all()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(sandbox.requests("status")) == 2
    assert sum(seconds < 2 for seconds in timings) == 4


def test_cloudflare_completing_a_top_up_whose_known_invoice_is_for_another_amount_goes_to_finance(
    account, make_topup, sandbox, sandbox_settings
):
    """The status says completed, but the invoice already read is for $50, not $60: not settled
    by itself; finance sees both amounts and decides."""
    from accounts.snapshots import account_invoices
    from tests.topups.steps import paid_at_cloudflare
    from topups.services.status import topup_refresh_status

    topup = make_topup(
        amount_cents=6000,
        state=TopUpState.PROCESSING,
        payment_intent_id=paid_at_cloudflare(account, sandbox, amount_cents=5000),
    )
    account_invoices(account=account)  # the invoices as finance's pages read them

    topup_refresh_status(topup=topup)

    topup.refresh_from_db()
    assert topup.state == TopUpState.STALE
    assert topup.completed_at is None
    assert topup.stale_reason == (
        "Cloudflare says completed, but its invoice is for $50.00, not $60.00: finance decides."
    )
