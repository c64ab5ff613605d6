"""Delivering the outbox (notifications.delivery, notifications.senders) against receivers on
loopback: the signature, back-off and giving up, claims, errors that name no secret, email."""

import hashlib
import hmac
import http.server
import json
import logging
import socket
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core import mail

from accounts.credentials import seal_text
from accounts.models import Membership
from notifications import senders
from notifications.delivery import BACKOFF, CHANNEL_OFF, deliveries_send_due
from notifications.events import EventType
from notifications.models import Channel, Delivery
from notifications.services import notify
from tests.accounts.smtp import point_smtp_at, smtp_server
from tests.concurrency import at_once
from tests.sandbox_process import free_port

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_0123456789"


class Receiver(http.server.ThreadingHTTPServer):
    """Answers each POST with the next of `statuses` (then 200), after `delay` seconds;
    keeps (headers, body) of each."""

    def __init__(self, statuses=(), delay=0.0, headers=None):
        self.statuses, self.delay, self.extra_headers = list(statuses), delay, headers or {}
        self.received: list[tuple[dict, bytes]] = []
        self.released = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        server: Receiver = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server.received.append((dict(self.headers), body))
        server.released.wait(server.delay)
        self.send_response(server.statuses.pop(0) if server.statuses else 200)
        for name, value in server.extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def receiver(*statuses, delay=0.0, headers=None):
    server = Receiver(statuses, delay, headers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def silent_listener():
    """Accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"


def webhook(account, url, secret=SECRET, **fields):
    return Channel.objects.create(
        account=account,
        kind=Channel.Kind.WEBHOOK,
        url=url,
        sealed_secret=seal_text(secret),
        **fields,
    )


def slack(account, url):
    return Channel.objects.create(
        account=account, kind=Channel.Kind.SLACK, sealed_secret=seal_text(url)
    )


def email_channel(account, roles=("admin", "finance")):
    return Channel.objects.create(account=account, kind=Channel.Kind.EMAIL, email_roles=list(roles))


def balance_low(account, key="balance.low:1"):
    return notify(
        account=account,
        type=EventType.BALANCE_LOW,
        key=key,
        data={"balance_cents": 1250, "threshold_cents": 2500},
    )


def only_delivery() -> Delivery:
    (delivery,) = Delivery.objects.all()
    return delivery


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


# --- webhooks: the body, the signature, the headers --------------------------------------------


def test_a_webhook_is_posted_signed_as_stripe_signs(account):
    with receiver() as server:
        webhook(account, server.url)
        notification = balance_low(account)

        summary = deliveries_send_due()

    (headers, body) = server.received[0]
    assert body == json.dumps(notification.payload()).encode()
    assert headers["Content-Type"] == "application/json"
    assert headers["Billing-Event-Id"] == notification.event_id
    assert "Billing-Portal" in headers["User-Agent"]
    # Verified from the spec, not with the code that signed it.
    fields = dict(part.split("=", 1) for part in headers["Billing-Signature"].split(","))
    expected = hmac.new(
        SECRET.encode(), fields["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert summary.delivered == 1
    delivery = only_delivery()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at == delivery.last_attempt_at
    assert delivery.claimed_until is None


def test_the_signature_changes_with_the_secret_and_the_body():
    header = senders.signature_header(secret=SECRET, body=b"{}", timestamp=1700000000)

    assert header.startswith("t=1700000000,v1=")
    assert header != senders.signature_header(
        secret="whsec_other", body=b"{}", timestamp=1700000000
    )
    assert header != senders.signature_header(secret=SECRET, body=b"{ }", timestamp=1700000000)


def test_a_redirect_is_not_followed_and_is_tried_again(account):
    with receiver() as target, receiver(302, headers={"Location": "http://x"}) as server:
        server.extra_headers["Location"] = target.url
        webhook(account, server.url)
        balance_low(account)

        deliveries_send_due()

    assert target.received == []
    delivery = only_delivery()
    assert (delivery.state, delivery.last_status_code) == ("pending", 302)
    assert delivery.last_error == senders.REDIRECTED.format(status=302)


def test_a_receiver_that_never_answers_is_left_after_the_read_timeout(account, monkeypatch):
    monkeypatch.setattr(senders, "READ_TIMEOUT", 0.5)
    with silent_listener() as url:
        webhook(account, url)
        balance_low(account)

        deliveries_send_due()

    delivery = only_delivery()
    assert delivery.last_error.startswith("No answer within")
    assert delivery.last_status_code is None
    assert delivery.state == "pending"


# --- back-off and giving up --------------------------------------------------------------------


def test_failures_back_off_then_give_up_about_a_day_after_the_event(account):
    webhook(account, f"http://127.0.0.1:{free_port()}/hook")  # nothing listens
    notification = balance_low(account)
    clock = Clock(notification.created_at)
    waits = []
    while (delivery := only_delivery()).state == "pending":
        clock.at = delivery.next_attempt_at
        deliveries_send_due(now=clock)
        delivery.refresh_from_db()
        if delivery.state == "pending":
            waits.append(delivery.next_attempt_at - delivery.last_attempt_at)

    assert waits == list(BACKOFF)
    assert delivery.state == "gave_up"
    assert delivery.attempts == len(BACKOFF) + 1
    assert delivery.last_error == senders.NO_CONNECTION
    assert delivery.last_attempt_at - notification.created_at < timedelta(hours=24)


def test_a_delivery_not_yet_due_is_left_alone(account):
    with receiver() as server:
        webhook(account, server.url)
        notification = balance_low(account)
        Delivery.objects.update(next_attempt_at=notification.created_at + timedelta(minutes=1))

        assert deliveries_send_due().attempted == 0

    assert server.received == []


# --- claims: never sent twice at once ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_senders_running_at_once_send_each_email_once(account, admin_user, settings):
    admin_user.email = "a@x.test"
    admin_user.save()
    email_channel(account)
    balance_low(account)
    with smtp_server(delay=0.5) as server:  # each sender holds its claim half a second
        point_smtp_at(settings, server.port)
        summaries = at_once(lambda _: deliveries_send_due(), 4)

    assert len(server.messages) == 1
    assert sum(s.delivered for s in summaries) == 1
    assert only_delivery().attempts == 1


def test_a_claim_held_by_a_live_sender_is_skipped_and_an_expired_one_taken_over(account):
    with receiver() as server:
        webhook(account, server.url)
        notification = balance_low(account)
        now = notification.created_at + timedelta(seconds=1)
        Delivery.objects.update(claimed_until=now + timedelta(seconds=30))
        assert deliveries_send_due(now=Clock(now)).attempted == 0

        Delivery.objects.update(claimed_until=now - timedelta(seconds=1))
        assert deliveries_send_due(now=Clock(now)).delivered == 1

    assert len(server.received) == 1


# --- errors: short, clear, and naming no secret -----------------------------------------------


def test_errors_name_no_secret_and_one_bad_channel_does_not_stop_the_others(
    account, settings, caplog
):
    secret_url = f"http://127.0.0.1:{free_port()}/services/T000/B000/XXXXsecretXXXX"
    slack(account, secret_url)
    locked = webhook(account, "http://127.0.0.1:9/hook")
    Channel.objects.filter(pk=locked.pk).update(
        sealed_secret=Fernet(Fernet.generate_key()).encrypt(b"whsec_lost").decode()
    )
    with receiver(500) as server, caplog.at_level(logging.DEBUG):
        webhook(account, server.url)
        balance_low(account)

        summary = deliveries_send_due()

    assert (summary.attempted, summary.retrying) == (3, 3)
    errors = {
        d.channel.kind + (":locked" if d.channel == locked else ""): d.last_error
        for d in Delivery.objects.select_related("channel")
    }
    assert errors == {
        "slack": senders.NO_CONNECTION,
        "webhook:locked": senders.CANNOT_OPEN_SEALED,
        "webhook": "The receiver answered 500.",
    }
    for text in (*errors.values(), caplog.text):
        assert "XXXXsecretXXXX" not in text
        assert "whsec_" not in text


def test_a_private_address_is_refused_in_live_mode_as_a_failed_attempt(account, settings):
    settings.BILLING_SANDBOX = False
    webhook(account, "https://127.0.0.1/hook")
    balance_low(account)

    deliveries_send_due()

    delivery = only_delivery()
    assert delivery.state == "pending"
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("Address refused: The address must be reachable")


def test_a_channel_turned_off_is_given_up_without_sending(account):
    with receiver() as server:
        channel = webhook(account, server.url)
        balance_low(account)
        Channel.objects.filter(pk=channel.pk).update(is_active=False)

        deliveries_send_due()

    assert server.received == []
    delivery = only_delivery()
    assert (delivery.state, delivery.last_error) == ("gave_up", CHANNEL_OFF)


# --- email and Slack -------------------------------------------------------------------------


@pytest.fixture
def team(account, admin_user, finance_user, viewer_user, make_member):
    for user, address in (
        (admin_user, "a@x.test"),
        (finance_user, "f@x.test"),
        (viewer_user, "v@x.test"),
    ):
        user.email = address
        user.save()
    gone = make_member("gone-admin", Membership.Role.ADMIN)
    gone.email, gone.is_active = "gone@x.test", False
    gone.save()
    return account


def test_an_email_goes_to_the_active_members_with_the_chosen_roles(team):
    email_channel(team)
    balance_low(team)

    deliveries_send_due()

    (message,) = mail.outbox
    assert sorted(message.to) == ["a@x.test", "f@x.test"]
    assert message.subject == "Acme AI (production): AI Gateway credits are running low ($12.50)"
    assert "is $12.50, below the alert threshold of $25.00." in message.body
    assert "Top up: http://" in message.body
    assert "/accounts/023e105f4ecef8ad9ca31a8372d0c353/" in message.body
    assert "You get this once each time it falls below." in message.body
    assert only_delivery().state == "delivered"


def test_an_email_channel_nobody_receives_is_given_up_at_once_saying_why(team):
    email_channel(team, roles=["viewer"])
    Membership.objects.filter(role="viewer").update(role="finance")
    balance_low(team)

    deliveries_send_due()

    assert mail.outbox == []
    delivery = only_delivery()
    assert (delivery.state, delivery.last_error) == ("gave_up", senders.NOBODY_TO_EMAIL)


def test_a_mail_server_that_is_down_is_tried_again_later(team, settings):
    point_smtp_at(settings, free_port(), timeout=1)  # nothing listens
    email_channel(team)
    balance_low(team)

    deliveries_send_due()

    delivery = only_delivery()
    assert (delivery.state, delivery.last_error) == ("pending", senders.MAIL_FAILED)
    with smtp_server() as server:
        point_smtp_at(settings, server.port)
        Delivery.objects.update(next_attempt_at=delivery.last_attempt_at)
        deliveries_send_due()
    assert len(server.messages) == 1
    assert only_delivery().state == "delivered"


def test_the_slack_message_says_it_in_words_with_a_button_to_the_top_up(account):
    with receiver() as server:
        slack(account, server.url)
        notify(
            account=account,
            type=EventType.TOPUP_COMPLETED,
            key="topup.completed:7",
            data={"topup_id": 7, "amount_cents": 5000},
        )
        deliveries_send_due()

    message = json.loads(server.received[0][1])
    assert message["text"].startswith("Acme AI (production): top-up of $50.00 completed")
    header, section, actions, _ = message["blocks"]
    assert header["text"]["text"] == "Acme AI (production): top-up of $50.00 completed"
    assert "The top-up of $50.00 to Acme AI (production) completed" in section["text"]["text"]
    (button,) = actions["elements"]
    assert button["url"].endswith("/accounts/023e105f4ecef8ad9ca31a8372d0c353/topups/7/")
    assert button["text"]["text"] == "See the top-up"


def test_slack_text_cannot_smuggle_a_link_or_mention(account):
    account.name = "<!channel> & <http://evil|x>"
    account.save()
    with receiver() as server:
        slack(account, server.url)
        balance_low(account)
        deliveries_send_due()

    section = json.loads(server.received[0][1])["blocks"][1]["text"]["text"]
    assert "<" not in section
    assert "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;" in section
