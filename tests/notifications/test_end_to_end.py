"""The issue's walk-through, as `make run` offers it: an admin sets a threshold above the
balance on the notifications page, the next page that reads the balance crosses it, and one
pass of the sender delivers a signed `balance.low` to the sandbox's webhook receiver, a Slack
message to its Slack route and an email — all over real HTTP to the sandbox."""

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from notifications.delivery import deliveries_send_due
from notifications.models import Notification
from tests.conftest import DEMO_ACCOUNT_ID
from tests.notifications.test_delivery_sandbox import DEMO_SECRET, demo_channels, received, verify

pytestmark = pytest.mark.django_db
__all__ = ["demo_channels"]  # the fixture, used by name


def test_a_threshold_above_the_balance_is_told_by_webhook_slack_and_email(
    demo_channels, sandbox, client
):
    client.force_login(User.objects.get(username="admin"))
    page = reverse("notifications:settings", kwargs={"account_id": DEMO_ACCOUNT_ID})
    add = reverse("notifications:threshold_add", kwargs={"account_id": DEMO_ACCOUNT_ID})
    assert client.post(add, {"threshold-amount": "5000"}).status_code == 302
    assert client.get(page).status_code == 200

    overview = reverse("accounts:overview", kwargs={"account_id": DEMO_ACCOUNT_ID})
    assert client.get(overview).status_code == 200  # reads the balance from the sandbox
    (notification,) = Notification.objects.filter(type="balance.low")
    assert notification.data["threshold_cents"] == 500000
    assert notification.data["balance_cents"] < 500000

    assert deliveries_send_due().delivered == 3
    (record,) = received(sandbox)
    event = verify(record, DEMO_SECRET)
    assert (event["id"], event["type"]) == (notification.event_id, "balance.low")
    assert event["data"]["threshold_cents"] == 500000
    (slack,) = received(sandbox, "slack")
    assert "$5,000.00" in str(slack["json"])
    (email,) = mail.outbox
    assert "admin@example.com" in email.to
    assert "$5,000.00" in email.body
