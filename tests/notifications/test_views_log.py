"""A channel's delivery log: its deliveries alone, newest first, a page at a time; the ones given
up stand out; admins only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.events import EventType
from notifications.models import Channel, Delivery, Notification
from notifications.views import LOG_PAGE_SIZE, ONLY_ADMINS_SEE_LOG
from tests.conftest import DEMO_ACCOUNT_ID

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(account):
    return Channel.objects.create(
        account=account, kind=Channel.Kind.WEBHOOK, url="https://93.184.215.14/h", sealed_secret="x"
    )


def log_url(channel) -> str:
    return reverse(
        "notifications:deliveries", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": channel.pk}
    )


def deliver(channel, n: int, *, minutes_ago: int = 0, **fields) -> Delivery:
    """A delivery of event number `n`, made `minutes_ago` (its place in the log)."""
    at = timezone.now() - timedelta(minutes=minutes_ago)
    notification = Notification.objects.create(
        event_id=f"evt_{n:024d}",
        account=channel.account,
        type=EventType.BALANCE_LOW,
        key=f"k{n}",
        created_at=at,
    )
    delivery = Delivery.objects.create(
        notification=notification, channel=channel, next_attempt_at=at, **fields
    )
    Delivery.objects.filter(pk=delivery.pk).update(created_at=at)  # auto_now_add set it to now
    return delivery


def test_the_log_shows_each_delivery_newest_first_with_its_facts(client, admin_user, webhook):
    deliver(
        webhook, 1, minutes_ago=60, state=Delivery.State.DELIVERED, attempts=1, last_status_code=204
    )
    failing = deliver(
        webhook,
        2,
        minutes_ago=5,
        attempts=3,
        last_status_code=500,
        last_error="HTTP 500 from the receiver",
    )
    client.force_login(admin_user)

    page = client.get(log_url(webhook))

    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [d.notification.event_id for d in rows] == [f"evt_{2:024d}", f"evt_{1:024d}"]
    text = page.content.decode()
    assert text.index(f"evt_{2:024d}") < text.index(f"evt_{1:024d}")
    assert "HTTP 500 from the receiver" in text
    assert '<span class="badge badge--state-processing">Pending</span>' in text
    assert '<span class="badge badge--state-completed">Delivered</span>' in text
    assert f'<time datetime="{timezone.localtime(failing.next_attempt_at).isoformat()}' in text
    assert 'id="gave-up"' not in text


def test_given_up_deliveries_stand_out(client, admin_user, webhook):
    deliver(webhook, 1, state=Delivery.State.GAVE_UP, attempts=17, last_status_code=503)
    client.force_login(admin_user)

    text = client.get(log_url(webhook)).content.decode()

    assert '<span class="badge badge--state-failed">Gave up</span>' in text
    assert "1 delivery gave up: the receiver did not take it within about a day." in text


def test_the_log_pages_through_every_delivery_once(client, admin_user, webhook, account):
    other = Channel.objects.create(account=account, kind=Channel.Kind.EMAIL, email_roles=["admin"])
    for n in range(LOG_PAGE_SIZE + 3):
        deliver(webhook, n, minutes_ago=n)
    deliver(other, 999)
    client.force_login(admin_user)

    first = client.get(log_url(webhook))
    older = client.get(log_url(webhook), {"older": first.context["page"].older})

    seen = [d.notification.event_id for d in first.context["page"].object_list] + [
        d.notification.event_id for d in older.context["page"].object_list
    ]
    assert seen == [f"evt_{n:024d}" for n in range(LOG_PAGE_SIZE + 3)]
    assert older.context["page"].older is None
    assert "Older →" in first.content.decode()


@pytest.mark.parametrize("cursor", ["9" * 4400, "1700000000000000.99999999999999999999", "-1.-1"])
def test_a_crafted_cursor_shows_the_newest_page(client, admin_user, webhook, cursor):
    only = deliver(webhook, 1)
    client.force_login(admin_user)

    for direction in ("older", "newer"):
        response = client.get(log_url(webhook), {direction: cursor})

        assert response.status_code == 200
        assert list(response.context["page"].object_list) == [only]


@pytest.mark.parametrize("who", ["finance_user", "viewer_user"])
def test_only_admins_see_the_log(client, request, webhook, who):
    client.force_login(request.getfixturevalue(who))

    response = client.get(log_url(webhook))

    assert response.status_code == 403
    assert ONLY_ADMINS_SEE_LOG in response.content.decode()


def test_an_empty_log_says_how_to_fill_it(client, admin_user, webhook):
    client.force_login(admin_user)

    text = client.get(log_url(webhook)).content.decode()

    assert "Nothing sent yet. Send a test event" in text
