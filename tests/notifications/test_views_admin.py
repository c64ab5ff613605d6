"""The operators' view of notifications in the Django admin: everything listed, a channel's
sealed secret never shown, the outbox read-only."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.credentials import seal_text
from notifications.events import EventType
from notifications.models import BalanceThreshold, Channel, Delivery, Notification

pytestmark = pytest.mark.django_db

SECRET = "whsec_admin-canary-0123456789abcdef"


@pytest.fixture
def outbox(account):
    webhook = Channel.objects.create(
        account=account,
        kind=Channel.Kind.WEBHOOK,
        url="https://93.184.215.14/h",
        sealed_secret=seal_text(SECRET),
    )
    slack = Channel.objects.create(
        account=account,
        kind=Channel.Kind.SLACK,
        sealed_secret=seal_text("https://hooks.slack.com/services/T/B/slack-canary"),
    )
    notification = Notification.objects.create(
        event_id="evt_admin",
        account=account,
        type=EventType.TEST,
        key="k",
        created_at=timezone.now(),
    )
    delivery = Delivery.objects.create(
        notification=notification, channel=webhook, next_attempt_at=timezone.now()
    )
    threshold = BalanceThreshold.objects.create(account=account, cents=2500)
    return {"webhook": webhook, "slack": slack, "notification": notification,
            "delivery": delivery, "threshold": threshold}  # fmt: skip


def test_every_page_opens_and_no_secret_is_on_any(client, operator_user, outbox):
    client.force_login(operator_user)
    pages = [reverse(f"admin:notifications_{model}_changelist") for model in (
        "balancethreshold", "channel", "notification", "delivery")]  # fmt: skip
    pages += [
        reverse(f"admin:notifications_{obj._meta.model_name}_change", args=[obj.pk])
        for obj in outbox.values()
    ]
    for page in pages:
        response = client.get(page)

        assert response.status_code == 200, page
        text = response.content.decode()
        assert SECRET not in text
        assert "slack-canary" not in text
        assert outbox["webhook"].sealed_secret not in text
        assert outbox["slack"].sealed_secret not in text


def test_the_outbox_is_read_only_and_channels_are_added_on_the_page(client, operator_user, outbox):
    client.force_login(operator_user)

    for model in ("channel", "notification", "delivery"):
        assert client.get(reverse(f"admin:notifications_{model}_add")).status_code == 403
    delivery_page = reverse("admin:notifications_delivery_change", args=[outbox["delivery"].pk])
    client.post(delivery_page, {"state": "delivered"})
    outbox["delivery"].refresh_from_db()
    assert outbox["delivery"].state == Delivery.State.PENDING


def test_an_operator_can_switch_a_channel_off(client, operator_user, outbox):
    client.force_login(operator_user)
    webhook = outbox["webhook"]

    client.post(reverse("admin:notifications_channel_change", args=[webhook.pk]), {})

    webhook.refresh_from_db()
    assert webhook.is_active is False
    assert webhook.url == "https://93.184.215.14/h"  # the rest is not editable here
