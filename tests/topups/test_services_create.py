"""Confirm and pay: the row first, one create, repeats land on the same top-up, and every
create outcome becomes a state with a plain message. Against the sandbox over HTTP."""

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from finance.services import account_reconcile
from tests.concurrency import at_once
from tests.sandbox_process import free_port
from tests.topups.steps import A, confirm, paid_at_cloudflare, pay_with_card
from topups.models import TopUp, TopUpEvent
from topups.services.create import (
    TopUpCapReached,
    topup_expire_if_stale,
    topup_start,
    topup_submit,
)
from topups.services.transitions import topup_transition
from topups.states import TopUpState
from topups.user_messages import CAP_REACHED, CREATE_ERROR_MESSAGES

pytestmark = pytest.mark.django_db


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


def test_someone_elses_request_key_is_refused(
    client, admin_user, second_admin_user, sandbox_settings
):
    other = second_admin_user
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

    def post(_):
        response = session.post(
            f"{live_server.url}{reverse('topups:confirm', kwargs=A)}",
            data={"csrfmiddlewaretoken": csrf, "amount_cents": 5000, "request_key": key},
            headers={"Referer": live_server.url},
            allow_redirects=False,
            timeout=30,
        )
        return response.status_code, response.headers.get("Location")

    landed = at_once(post, 20)

    topup = TopUp.objects.get()
    assert len(landed) == 20
    # Every repeat lands on the one top-up (its pay page, or its page while still creating).
    own_pages = {
        reverse(name, kwargs={**A, "pk": topup.pk}) for name in ("topups:pay", "topups:detail")
    }
    assert {status for status, _ in landed} == {302}
    assert {location for _, location in landed} <= own_pages
    assert len(sandbox.requests("create")) == 1


@pytest.mark.parametrize(
    ("fault", "state", "message"),
    [
        ({"mode": "500"}, "unknown", CREATE_ERROR_MESSAGES["unknown"]),
        ({"mode": "html_502"}, "unknown", CREATE_ERROR_MESSAGES["unknown"]),
        ({"mode": "malformed_json"}, "unknown", CREATE_ERROR_MESSAGES["unknown"]),
        (
            {"mode": "429", "retry_after": 1},
            "failed",
            CREATE_ERROR_MESSAGES["rate_limited"].format(seconds="1 second"),
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
    # The trail keeps the transport's words for operators; the page never shows them.
    assert b"HTTP 5" not in page.content
    assert b"unreadable" not in page.content
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
        CREATE_ERROR_MESSAGES["auth"],
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


# --- the per-account cap --------------------------------------------------------------------


def test_the_hourly_cap_refuses_before_anything_is_sent(admin_client, sandbox, settings):
    settings.TOPUP_CAP_PER_HOUR = 2
    first_key = uuid.uuid4()
    confirm(admin_client, request_key=first_key)
    confirm(admin_client)

    refused = admin_client.post(
        reverse("topups:confirm", kwargs=A),
        {"amount_cents": 5000, "request_key": uuid.uuid4()},
        follow=True,
    )

    first = TopUp.objects.order_by("created_at").first()
    retry_at = first.created_at + timedelta(hours=1)
    assert [str(m) for m in refused.context["messages"]] == [
        CAP_REACHED.format(
            account="Acme AI (production)", started="2 top-ups", retry_at=f"{retry_at:%H:%M}"
        )
    ]
    assert TopUp.objects.count() == 2
    assert len(sandbox.requests("create")) == 2
    # The same form sent again is a repeat, not a new top-up: never refused by the cap.
    repeat = confirm(admin_client, request_key=first_key)
    assert repeat["Location"].endswith(f"/topups/{first.pk}/pay/")


def test_top_ups_older_than_an_hour_leave_the_cap(admin_client, sandbox, settings):
    settings.TOPUP_CAP_PER_HOUR = 1
    confirm(admin_client)
    TopUp.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    confirm(admin_client)
    assert TopUp.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_when_several_top_ups_start_at_once(account, admin_user, settings):
    settings.TOPUP_CAP_PER_HOUR = 2

    def start(_):
        try:
            topup_start(
                account=account, user=admin_user, amount_cents=5000, request_key=uuid.uuid4()
            )
        except TopUpCapReached:
            return "refused"
        return "started"

    results = at_once(start, 6)

    assert sorted(results) == ["refused"] * 4 + ["started"] * 2
    assert TopUp.objects.count() == 2


def _fail_by_refusal(sandbox, settings):
    sandbox.fault("create", mode="success_false")


def _fail_by_rate_limit(sandbox, settings):
    sandbox.fault("create", mode="429", retry_after=1)


def _fail_by_bad_credentials(sandbox, settings):
    settings.CLOUDFLARE_API_TOKEN = "revoked"


def _fail_unreachable(sandbox, settings):
    settings.CLOUDFLARE_BASE_URL = f"http://127.0.0.1:{free_port()}/client/v4"  # refused


def _fail_by_our_budget(sandbox, settings):
    settings.CLOUDFLARE_API_BUDGET = 0


@pytest.mark.parametrize(
    "fail",
    [
        _fail_by_refusal,
        _fail_by_rate_limit,
        _fail_by_bad_credentials,
        _fail_unreachable,
        _fail_by_our_budget,
    ],
    ids=["refused", "429", "auth", "unreachable", "our_budget"],
)
def test_creates_that_did_not_happen_leave_the_cap(admin_client, sandbox, settings, fail):
    """Ten failures during an outage must not lock the account out for an hour after it."""
    settings.TOPUP_CAP_PER_HOUR = 2
    working = {
        name: getattr(settings, name)
        for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_BASE_URL", "CLOUDFLARE_API_BUDGET")
    }
    for _ in range(10):
        fail(sandbox, settings)
        confirm(admin_client)
        for name, value in working.items():
            setattr(settings, name, value)
    # Each was a new top-up that failed, none refused by the cap.
    assert set(TopUp.objects.values_list("state", flat=True)) == {TopUpState.FAILED}
    assert TopUp.objects.count() == 10

    confirm(admin_client)
    confirm(admin_client)
    refused = confirm(admin_client)

    assert refused["Location"] == reverse("topups:amount", kwargs=A)
    assert TopUp.objects.exclude(state=TopUpState.FAILED).count() == 2


def test_creates_that_may_have_moved_money_count_toward_the_cap(
    admin_client, sandbox, settings, admin_user
):
    """A lost answer counts, and so does one finance later resolved as not charged: the cap
    does not take the row's state alone as proof that nothing happened."""
    settings.TOPUP_CAP_PER_HOUR = 2
    sandbox.fault("create", mode="500", apply=True)  # charged, answer lost
    confirm(admin_client)
    sandbox.fault("create", mode="500")
    confirm(admin_client)
    lost = TopUp.objects.order_by("pk").last()
    assert lost.state == TopUpState.UNKNOWN
    topup_transition(topup=lost, to_state=TopUpState.FAILED, detail={"outcome": "not_charged"})

    refused = confirm(admin_client)

    assert refused["Location"] == reverse("topups:amount", kwargs=A)
    assert TopUp.objects.count() == 2
    assert len(sandbox.requests("create")) == 2


# --- create's answer racing the stale-creating expiry -----------------------------------------


def _submit_while_marked_unknown(sandbox, topup) -> None:
    """Send create for `topup` from another thread; while the sandbox holds the request (its
    latency), mark the row unknown the way a worker finding it stale does."""
    sent_before = len(sandbox.requests("create"))
    sandbox.configure(latency_ms=1500)
    errors = []

    def submit():
        try:
            topup_submit(topup=topup)
        except Exception as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    submitting = threading.Thread(target=submit)
    submitting.start()
    deadline = time.monotonic() + 10
    while len(sandbox.requests("create")) == sent_before and time.monotonic() < deadline:
        time.sleep(0.05)
    TopUp.objects.filter(pk=topup.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    topup_expire_if_stale(topup=TopUp.objects.get(pk=topup.pk))
    in_flight = TopUp.objects.get(pk=topup.pk).state
    submitting.join(timeout=15)
    assert in_flight == TopUpState.UNKNOWN, "the row was not marked unknown mid-create"
    if errors:
        raise errors[0]
    assert sandbox.requests("create")[-1]["status"], "create never answered"


@pytest.mark.django_db(transaction=True)
def test_an_answer_arriving_after_the_row_was_marked_unknown_is_kept(
    account, admin_user, sandbox, sandbox_settings
):
    """Cloudflare's answer, a charge to the saved card, lands on the row that another worker
    meanwhile marked unknown: it keeps the id, so it can be settled by id."""
    paid_at_cloudflare(account, sandbox, amount_cents=1000)  # the card is saved: Visa 4242
    topup = topup_start(
        account=account, user=admin_user, amount_cents=2500, request_key=uuid.uuid4()
    ).topup

    _submit_while_marked_unknown(sandbox, topup)

    topup.refresh_from_db()
    assert topup.state == TopUpState.UNKNOWN  # finance still sees it
    assert (topup.payment_intent_id or "").startswith("in_")
    assert (topup.card_display, topup.client_secret) == ("Visa •••• 4242", "")
    assert topup.create_outcome == TopUp.CreateOutcome.MADE
    late = topup.events.get(kind=TopUpEvent.Kind.CREATE_ANSWERED)
    assert (late.from_state, late.to_state) == (TopUpState.UNKNOWN, TopUpState.UNKNOWN)
    assert late.detail["payment_intent_id"] == topup.payment_intent_id
    assert late.detail["card"] == "visa 4242"
    assert "secret" not in json.dumps([e.detail for e in topup.events.all()])
    # Reconciliation now finds it by id on Cloudflare's invoices.
    assert account_reconcile(account=account).settled == [(topup, TopUpState.COMPLETED)]


@pytest.mark.django_db(transaction=True)
def test_a_refusal_arriving_after_the_row_was_marked_unknown_settles_it(
    account, admin_user, sandbox, sandbox_settings
):
    """Cloudflare refused the create that a worker meanwhile marked unknown: nothing was
    charged, so the row fails with Cloudflare's words and leaves finance's queue and the cap."""
    topup = topup_start(
        account=account, user=admin_user, amount_cents=2500, request_key=uuid.uuid4()
    ).topup
    sandbox.fault("create", mode="success_false")

    _submit_while_marked_unknown(sandbox, topup)

    topup.refresh_from_db()
    assert (topup.state, topup.create_outcome) == (
        TopUpState.FAILED,
        TopUp.CreateOutcome.NOT_MADE,
    )
    assert topup.error_message == "Cloudflare refused this top-up: Internal server error"
    assert [(e.kind, e.from_state, e.to_state) for e in topup.events.all()] == [
        ("created", "", "creating"),
        ("create_outcome_unknown", "creating", "unknown"),
        ("create_refused", "unknown", "failed"),
    ]
