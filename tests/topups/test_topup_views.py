"""The top-up pages server-side, against the sandbox over HTTP."""

import logging
import threading
import uuid

import pytest
import requests
from django.urls import reverse

from tests.conftest import DEMO_ACCOUNT_ID
from topups import services
from topups.models import TopUp, TopUpEvent
from topups.states import TopUpState

pytestmark = pytest.mark.django_db

A = {"account_id": DEMO_ACCOUNT_ID}


@pytest.fixture
def admin_client(client, admin_user, sandbox_settings):
    client.force_login(admin_user)
    return client


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


# --- amount validation: refused with a clear message and no upstream call -------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter an amount, for example 50 or 49.99."),
        ("abc", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("-50", "Enter a positive amount."),
        ("0", "The minimum top-up is $10.00."),
        ("0.00", "The minimum top-up is $10.00."),
        ("9.99", "The minimum top-up is $10.00."),
        ("10.001", "Use at most two decimals (whole cents)."),
        ("1e3", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("1E3", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("50,00", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("NaN", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("Infinity", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("0x32", "Enter an amount in dollars using digits, for example 50 or 49.99."),
        ("\u0665\u0660", "Use the digits 0 to 9."),  # Arabic-Indic 50
        ("\uff15\uff10", "Use the digits 0 to 9."),  # full-width 50
        ("10000.01", "The maximum top-up is $10,000.00."),
        ("99999999999999999999999", "The maximum top-up is $10,000.00."),
        ("9" * 30 + ".99", "The maximum top-up is $10,000.00."),
    ],
)
def test_bad_amounts_are_refused_without_a_create(admin_client, sandbox, amount, message):
    response = admin_client.get(reverse("topups:review", kwargs=A), {"amount": amount})
    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == [message]
    assert sandbox.requests("create") == []
    assert not TopUp.objects.exists()


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("10", 1000),
        ("50", 5000),
        ("49.99", 4999),
        ("$25.5", 2550),
        ("1,000.00", 100000),
        (" 12.30 ", 1230),
        ("10000", 1000000),
        ("0010.00", 1000),
    ],
)
def test_good_amounts_reach_the_review(admin_client, amount, cents):
    response = admin_client.get(reverse("topups:review", kwargs=A), {"amount": amount})
    assert response.status_code == 200
    assert response.context["form"].initial["amount_cents"] == cents
    assert response["Cache-Control"] == "private, no-cache"


def test_limits_come_from_cloudflare_and_are_cached_in_the_database(admin_client, sandbox, account):
    admin_client.get(reverse("topups:amount", kwargs=A))
    admin_client.get(reverse("topups:amount", kwargs=A))
    assert len(sandbox.requests("limits")) == 1
    account.refresh_from_db()
    assert (account.limits_min_cents, account.limits_max_cents) == (1000, 1_000_000)


def test_review_refuses_a_tampered_amount(admin_client, sandbox):
    response = confirm(admin_client, amount_cents=999)
    assert response.status_code == 302
    assert not TopUp.objects.exists()
    assert sandbox.requests("create") == []


# --- confirm: row first, one create, repeats land on the same top-up ------------------------


def test_confirm_writes_the_row_then_records_the_answer(admin_client, sandbox, admin_user):
    response = confirm(admin_client)

    topup = TopUp.objects.get()
    assert response["Location"] == reverse("topups:pay", kwargs={**A, "pk": topup.pk})
    assert topup.state == TopUpState.AWAITING_PAYMENT
    assert topup.payment_intent_id.startswith("in_")
    assert topup.client_secret.startswith("pi_")
    assert topup.created_by == admin_user
    assert [e.kind for e in topup.events.all()] == ["created", "create_answered"]
    assert [e.to_state for e in topup.events.all()] == ["creating", "awaiting_payment"]
    assert sandbox.requests("create")[0]["body"] == {"amount": 5000}


def test_same_request_key_twice_is_one_create(admin_client, sandbox):
    key = uuid.uuid4()
    first = confirm(admin_client, request_key=key)
    second = confirm(admin_client, request_key=key)

    assert first["Location"] == second["Location"]
    assert TopUp.objects.count() == 1
    assert len(sandbox.requests("create")) == 1


def test_someone_elses_request_key_is_refused(client, admin_user, sandbox_settings, account):
    from tests.conftest import _member

    other = _member("olga-admin", account, "admin")
    client.force_login(admin_user)
    key = uuid.uuid4()
    confirm(client, request_key=key)
    client.force_login(other)

    response = confirm(client, request_key=key)

    assert response["Location"] == reverse("topups:amount", kwargs=A)
    assert TopUp.objects.get().created_by == admin_user


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_of_one_form_make_one_create(
    live_server, admin_user, sandbox, sandbox_settings, client
):
    sandbox.configure(latency_ms=200)  # widen the window: every POST arrives mid-create
    client.force_login(admin_user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    review = session.get(f"{live_server.url}{reverse('topups:review', kwargs=A)}?amount=50")
    csrf = review.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    key = str(uuid.uuid4())
    barrier = threading.Barrier(20)
    landed, errors = [], []

    def post():
        barrier.wait()
        try:
            response = session.post(
                f"{live_server.url}{reverse('topups:confirm', kwargs=A)}",
                data={"csrfmiddlewaretoken": csrf, "amount_cents": 5000, "request_key": key},
                headers={"Referer": live_server.url},
                allow_redirects=False,
                timeout=30,
            )
            landed.append((response.status_code, response.headers.get("Location")))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    topup = TopUp.objects.get()
    assert len(landed) == 20
    # Every repeat lands on the one top-up (its pay page, or its page while still creating).
    own_pages = {
        reverse(name, kwargs={**A, "pk": topup.pk}) for name in ("topups:pay", "topups:detail")
    }
    assert {status for status, _ in landed} == {302}
    assert {location for _, location in landed} <= own_pages
    assert len(sandbox.requests("create")) == 1


# --- create outcomes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "state", "message"),
    [
        ({"mode": "500"}, "unknown", services.CREATE_ERROR_MESSAGES["unknown"]),
        ({"mode": "html_502"}, "unknown", services.CREATE_ERROR_MESSAGES["unknown"]),
        ({"mode": "malformed_json"}, "unknown", services.CREATE_ERROR_MESSAGES["unknown"]),
        (
            {"mode": "429", "retry_after": 1},
            "failed",
            services.CREATE_ERROR_MESSAGES["rate_limited"].format(seconds="1 second"),
        ),
        (
            {"mode": "success_false"},
            "failed",
            "Cloudflare refused this top-up: Internal server error",
        ),
    ],
    ids=["500", "html_502", "malformed_json", "429", "success_false"],
)
def test_create_faults_become_states_with_plain_messages(
    admin_client, sandbox, fault, state, message
):
    sandbox.fault("create", **fault)
    response = confirm(admin_client)

    topup = TopUp.objects.get()
    assert topup.state == state
    assert topup.error_message == message
    assert response["Location"] == reverse("topups:detail", kwargs={**A, "pk": topup.pk})
    page = admin_client.get(response["Location"])
    assert message.encode() in page.content.replace(b"&#x27;", b"'")
    assert len(sandbox.requests("create")) == 1


def test_cloudflare_validation_error_is_shown_in_its_words(admin_client, sandbox, settings):
    settings.TOPUP_MAX_CENTS = 10_000_000
    sandbox.configure(limits_enabled=False)  # our max is above Cloudflare's: Cloudflare refuses
    confirm(admin_client, amount_cents=2_000_000)
    topup = TopUp.objects.get()
    assert topup.state == TopUpState.FAILED
    assert topup.error_code == 10002
    assert topup.error_message == (
        "Cloudflare refused this top-up: amount must be at most 1000000 cents"
    )


def test_bad_credentials_fail_with_an_operator_message(admin_client, sandbox, settings):
    settings.CLOUDFLARE_API_TOKEN = "revoked"
    confirm(admin_client)
    topup = TopUp.objects.get()
    assert (topup.state, topup.error_message) == (
        TopUpState.FAILED,
        services.CREATE_ERROR_MESSAGES["auth"],
    )


def test_saved_card_charge_goes_to_processing_then_completes(admin_client, sandbox):
    confirm(admin_client)
    pay_with_card(sandbox, TopUp.objects.get().client_secret)
    sandbox.configure(settle_seconds=30)

    response = confirm(admin_client, amount_cents=2500)

    second = TopUp.objects.latest("pk")
    assert response["Location"] == reverse("topups:detail", kwargs={**A, "pk": second.pk})
    assert (second.state, second.card_display, second.client_secret) == (
        TopUpState.PROCESSING,
        "Visa •••• 4242",
        "",
    )
    assert "Charging Visa •••• 4242…" in admin_client.get(response["Location"]).content.decode()
    sandbox.configure(settle_seconds=0)
    TopUp.objects.filter(pk=second.pk).update(status_checked_at=None)  # the interval has passed
    data = admin_client.get(reverse("topups:status", kwargs={**A, "pk": second.pk})).json()
    assert data["state"] == "completed"


# --- pay page: the client secret stays with its owner ---------------------------------------


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


# --- status: one upstream call per interval, whoever asks -----------------------------------


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


def test_stale_creating_rows_become_unknown(admin_user, account, sandbox_settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    stale = TopUp.objects.create(account=account, created_by=admin_user, amount_cents=5000)
    fresh = TopUp.objects.create(account=account, created_by=admin_user, amount_cents=5000)
    TopUp.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    call_command("expire_stale_topups", stdout=open("/dev/null", "w"))  # noqa: SIM115

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.state == TopUpState.UNKNOWN
    assert stale.error_message == services.CREATE_ERROR_MESSAGES["unknown"]
    assert fresh.state == TopUpState.CREATING


def test_history_lists_the_accounts_top_ups_newest_first(
    client, viewer_user, admin_user, account, other_account
):
    for cents in (1000, 2000, 3000):
        TopUp.objects.create(account=account, created_by=admin_user, amount_cents=cents)
    TopUp.objects.create(account=other_account, created_by=admin_user, amount_cents=9900)
    client.force_login(viewer_user)

    response = client.get(reverse("topups:history", kwargs=A))

    assert [t.amount_cents for t in response.context["page"].object_list] == [3000, 2000, 1000]
    assert b"$99.00" not in response.content
    assert b"New top-up" not in response.content  # viewers cannot top up


def test_review_warns_about_an_unfinished_top_up_of_the_same_amount(admin_client, sandbox):
    confirm(admin_client, amount_cents=5000)
    topup = TopUp.objects.get()

    same = admin_client.get(reverse("topups:review", kwargs=A), {"amount": "50"})
    other = admin_client.get(reverse("topups:review", kwargs=A), {"amount": "60"})

    assert same.context["duplicate"] == topup
    assert f"Continue top-up #{topup.pk}" in same.content.decode()
    assert other.context["duplicate"] is None
