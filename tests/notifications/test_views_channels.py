"""Slack and signed webhooks on the notifications page: addresses checked, secrets sealed and a
webhook's shown once, a test event to one channel, removal under the right account only."""

import io
import re
import socket

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.credentials import open_sealed
from accounts.models import Membership
from notifications.events import EventType
from notifications.forms import SECRETS_NEED_KEY
from notifications.models import Channel, Delivery, Notification
from notifications.services import MAX_WEBHOOKS
from notifications.validators import NOT_HTTPS
from tests.conftest import DEMO_ACCOUNT_ID

pytestmark = pytest.mark.django_db

A = {"account_id": DEMO_ACCOUNT_ID}
PAGE = reverse("notifications:settings", kwargs=A)
SLACK = reverse("notifications:slack_add", kwargs=A)
WEBHOOKS = reverse("notifications:webhook_add", kwargs=A)
SLACK_URL = "https://hooks.slack.com/services/T0AAA/B0BBB/s3cr3tPathXyZ9"
PUBLIC_HOOK = "https://93.184.215.14/billing-hook"  # a public address: nothing to resolve
SECRET_RE = re.compile(r"whsec_[A-Za-z0-9_-]{32}")


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def database_dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def live_mode(settings, monkeypatch):
    """Live mode, where every name resolves to one public address (the tests use no DNS)."""
    settings.BILLING_SANDBOX = False
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: public)
    return settings


@pytest.fixture
def email(account):
    """The email channel every account has (migration 0002 gave the accounts there were one)."""
    return Channel.objects.create(
        account=account, kind=Channel.Kind.EMAIL, email_roles=["admin", "finance"]
    )


def add_webhook(client, url=PUBLIC_HOOK, event_types=()):
    return client.post(
        WEBHOOKS, {"webhook-url": url, "webhook-event_types": list(event_types)}, follow=True
    )


# --- Slack ---------------------------------------------------------------------------------------


def test_a_slack_url_is_stored_sealed_and_shown_masked(admin, account, live_mode):
    response = admin.post(
        SLACK, {"slack-url": SLACK_URL, "slack-event_types": ["balance.low"]}, follow=True
    )

    assert flashed(response) == ["Slack is set up. Send a test event to see a message arrive."]
    slack = Channel.objects.get(account=account, kind=Channel.Kind.SLACK)
    assert (slack.url, slack.event_types, slack.is_active) == ("", ["balance.low"], True)
    assert open_sealed(slack.sealed_secret) == SLACK_URL
    page = response.content.decode()
    assert "https://hooks.slack.com/…XyZ9" in page
    assert "s3cr3tPath" not in page
    assert "s3cr3tPath" not in database_dump()


def test_a_second_slack_channel_is_refused(admin, account):
    admin.post(SLACK, {"slack-url": SLACK_URL})

    again = admin.post(SLACK, {"slack-url": SLACK_URL + "2"})

    assert again.status_code == 400
    assert again.context["slack_form"].non_field_errors() == [
        "Slack is set up already: remove it first to post somewhere else."
    ]
    assert Channel.objects.filter(kind=Channel.Kind.SLACK).count() == 1


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("javascript:alert(1)", "Enter a valid URL."),
        ("https://hooks.slack.com/" + "a" * 5000, "Ensure this value has at most 2000"),
        ("http://hooks.slack.com/services/x", NOT_HTTPS),
        ("https://10.0.0.7/services/x", "private, loopback or reserved"),
        ("https://[::1]/x", "private, loopback or reserved"),
        ("", "This field is required."),
    ],
)
def test_a_crafted_address_is_a_form_error_in_live_mode(admin, account, live_mode, url, error):
    for endpoint, prefix in ((SLACK, "slack"), (WEBHOOKS, "webhook")):
        response = admin.post(endpoint, {f"{prefix}-url": url})

        assert response.status_code == 400
        assert error in " ".join(response.context[f"{prefix}_form"].errors["url"])
    assert not Channel.objects.exclude(kind=Channel.Kind.EMAIL).exists()


def test_an_unknown_event_type_is_a_form_error(admin, account):
    for event_type in ("topup.refunded", "test", "x" * 10_000):
        response = admin.post(
            WEBHOOKS,
            {"webhook-url": PUBLIC_HOOK, "webhook-event_types": ["balance.low", event_type]},
        )

        assert response.status_code == 400
        assert (
            "is not one of the available choices"
            in (response.context["webhook_form"].errors["event_types"][0])
        )
    assert not Channel.objects.filter(kind=Channel.Kind.WEBHOOK).exists()


def test_without_an_encryption_key_in_live_mode_no_secret_can_be_stored(admin, account, live_mode):
    live_mode.CREDENTIALS_ENCRYPTION_KEYS = []

    page = admin.get(PAGE).content.decode()
    slack = admin.post(SLACK, {"slack-url": SLACK_URL})
    webhook = admin.post(WEBHOOKS, {"webhook-url": PUBLIC_HOOK})

    assert page.count(SECRETS_NEED_KEY) == 2  # in place of both forms
    assert 'name="slack-url"' not in page
    assert slack.context["slack_form"].non_field_errors() == [SECRETS_NEED_KEY]
    assert webhook.context["webhook_form"].non_field_errors() == [SECRETS_NEED_KEY]
    assert not Channel.objects.exclude(kind=Channel.Kind.EMAIL).exists()


def test_a_key_that_is_not_a_fernet_key_is_a_clear_refusal(admin, account, settings):
    settings.CREDENTIALS_ENCRYPTION_KEYS = ["not-a-key"]

    response = admin.post(SLACK, {"slack-url": SLACK_URL})

    assert response.status_code == 400
    assert (
        "CREDENTIALS_ENCRYPTION_KEY is not set or not a valid key"
        in (response.context["slack_form"].non_field_errors()[0])
    )


# --- signed webhooks -----------------------------------------------------------------------------


def test_a_webhooks_secret_is_shown_once_and_stored_only_sealed(admin, account, live_mode):
    added = add_webhook(admin, event_types=["topup.completed", "balance.low"])

    assert flashed(added) == ["Webhook added. Copy its signing secret now: it is not shown again."]
    webhook = Channel.objects.get(account=account, kind=Channel.Kind.WEBHOOK)
    assert (webhook.url, webhook.event_types) == (PUBLIC_HOOK, ["balance.low", "topup.completed"])
    shown = SECRET_RE.findall(added.content.decode())
    assert len(shown) == 1
    secret = shown[0]
    assert open_sealed(webhook.sealed_secret) == secret
    assert "it is not shown again" in added.content.decode()
    assert added["Cache-Control"].startswith("max-age=0")
    assert "no-store" in added["Cache-Control"]

    again = admin.get(PAGE).content.decode()
    assert secret not in again
    assert "whsec_…" in again
    assert secret not in database_dump()  # sessions included
    assert webhook.sealed_secret not in again


def test_the_secret_waits_for_its_own_accounts_page(admin, admin_user, account, other_account):
    Membership.objects.create(user=admin_user, account=other_account, role=Membership.Role.ADMIN)
    other_page = reverse("notifications:settings", kwargs={"account_id": other_account.account_id})
    admin.post(WEBHOOKS, {"webhook-url": PUBLIC_HOOK})

    elsewhere = admin.get(other_page).content.decode()
    here = admin.get(PAGE).content.decode()

    assert not SECRET_RE.search(elsewhere)
    assert len(SECRET_RE.findall(here)) == 1


def test_an_account_has_at_most_so_many_webhooks(admin, account):
    for n in range(MAX_WEBHOOKS):
        Channel.objects.create(
            account=account, kind=Channel.Kind.WEBHOOK, url=f"{PUBLIC_HOOK}/{n}", sealed_secret="x"
        )

    response = admin.post(WEBHOOKS, {"webhook-url": PUBLIC_HOOK})

    assert response.status_code == 400
    assert response.context["webhook_form"].non_field_errors() == [
        f"An account has at most {MAX_WEBHOOKS} webhooks: remove one first."
    ]


def test_sandbox_mode_takes_the_sandboxs_loopback_receiver(admin, account):
    response = add_webhook(admin, url="http://127.0.0.1:8025/__sandbox/webhooks")

    assert response.status_code == 200
    assert Channel.objects.get(kind=Channel.Kind.WEBHOOK).url.startswith("http://127.0.0.1")


# --- test events and removal ---------------------------------------------------------------------


def test_a_test_event_goes_to_that_channel_alone(admin, account, email):
    add_webhook(admin)
    add_webhook(admin, url=PUBLIC_HOOK + "/second")
    _, second = Channel.objects.filter(kind=Channel.Kind.WEBHOOK).order_by("pk")
    assert email.is_active  # three channels would take a test event from notify()

    response = admin.post(
        reverse("notifications:channel_test", kwargs={**A, "pk": second.pk}), follow=True
    )

    assert flashed(response) == [
        "A test event is on its way to the webhook to https://93.184.215.14: it arrives within a "
        "minute."
    ]
    notification = Notification.objects.get()
    assert notification.type == EventType.TEST
    assert notification.account == account
    assert [(d.channel, d.state) for d in Delivery.objects.all()] == [
        (second, Delivery.State.PENDING)
    ]
    assert not any(SECRET_RE.search(str(v)) for v in notification.payload().values())


def test_a_test_event_to_email_that_is_off_is_refused(admin, email):
    email.is_active = False
    email.save()

    response = admin.post(
        reverse("notifications:channel_test", kwargs={**A, "pk": email.pk}), follow=True
    )

    assert flashed(response) == ["This channel is off: turn it on before sending it a test event."]
    assert not Notification.objects.exists()


def test_another_accounts_channel_is_not_found_here(admin, account, other_account):
    theirs = Channel.objects.create(
        account=other_account, kind=Channel.Kind.WEBHOOK, url=PUBLIC_HOOK, sealed_secret="x"
    )
    for name, method in (
        ("channel_test", "post"),
        ("channel_remove", "post"),
        ("deliveries", "get"),
    ):
        url = reverse(f"notifications:{name}", kwargs={**A, "pk": theirs.pk})

        assert getattr(admin, method)(url).status_code == 404, name
    assert Channel.objects.filter(pk=theirs.pk).exists()
    assert not Notification.objects.exists()


def test_removing_a_webhook_forgets_it_and_its_secret(admin, account):
    add_webhook(admin)
    webhook = Channel.objects.get(kind=Channel.Kind.WEBHOOK)

    response = admin.post(
        reverse("notifications:channel_remove", kwargs={**A, "pk": webhook.pk}), follow=True
    )

    assert flashed(response) == ["Removed the webhook to https://93.184.215.14."]
    assert not Channel.objects.filter(kind=Channel.Kind.WEBHOOK).exists()


def test_the_email_channel_is_turned_off_not_removed(admin, email):
    response = admin.post(reverse("notifications:channel_remove", kwargs={**A, "pk": email.pk}))

    assert response.status_code == 404
    assert Channel.objects.filter(pk=email.pk).exists()


@pytest.mark.parametrize("who", ["finance_user", "viewer_user"])
def test_only_admins_add_remove_or_test_channels(client, request, account, who):
    webhook = Channel.objects.create(
        account=account,
        kind=Channel.Kind.WEBHOOK,
        url=PUBLIC_HOOK + "/token-in-path",
        sealed_secret="x",
    )
    client.force_login(request.getfixturevalue(who))

    page = client.get(PAGE).content.decode()
    posts = [
        client.post(SLACK, {"slack-url": SLACK_URL}),
        client.post(WEBHOOKS, {"webhook-url": PUBLIC_HOOK}),
        client.post(reverse("notifications:channel_test", kwargs={**A, "pk": webhook.pk})),
        client.post(reverse("notifications:channel_remove", kwargs={**A, "pk": webhook.pk})),
    ]

    assert [p.status_code for p in posts] == [403] * 4
    assert "https://93.184.215.14/…" in page  # where it goes, not its path
    assert "token-in-path" not in page
    assert Channel.objects.filter(kind=Channel.Kind.WEBHOOK).count() == 1
    assert not Notification.objects.exists()
