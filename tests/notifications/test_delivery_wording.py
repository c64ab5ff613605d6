"""Every event type is said in words (notifications.wording), for Slack and email alike, and a
missing or odd field makes it say less, never fail."""

import pytest

from notifications.events import EventType
from notifications.models import Notification
from notifications.senders import email_message, slack_message
from notifications.wording import describe

pytestmark = pytest.mark.django_db

FULL = {
    EventType.BALANCE_LOW: {"balance_cents": 1250, "threshold_cents": 2500},
    EventType.AUTO_TOPUP_FAILED: {"error": "card_declined"},
    EventType.AUTO_TOPUP_DISABLED: {"disabled_reason": "too many failures"},
    EventType.AUTO_TOPUP_CHARGED: {"amount_cents": 5000},
    EventType.TOPUP_COMPLETED: {"topup_id": 3, "amount_cents": 5000},
    EventType.TOPUP_FAILED: {"topup_id": 3, "amount_cents": 5000},
    EventType.TOPUP_OUTCOME_UNKNOWN: {"topup_id": 3, "amount_cents": 5000},
    EventType.TOPUP_WAITING_FOR_FINANCE: {"topup_id": 3, "amount_cents": 5000, "waiting_hours": 24},
    EventType.TEST: {},
}


def event(account, type, data) -> Notification:
    return Notification.objects.create(
        event_id="evt_1",
        account=account,
        type=type,
        key="k",
        data=data,
        created_at="2025-01-01T00:00Z",
    )


def test_each_event_type_has_its_own_words():
    assert set(FULL) == set(EventType)


@pytest.mark.parametrize("type", list(EventType))
def test_each_event_type_is_said_in_words_with_its_amounts_in_dollars(account, type):
    wording = describe(event(account, type, FULL[type]))

    assert wording.title.startswith("Acme AI (production): ")
    assert not wording.summary.startswith("Event ")  # its own words, not the fallback
    assert wording.link_url.startswith("http://127.0.0.1:8000/accounts/")
    for cents in ("amount_cents", "balance_cents", "threshold_cents"):
        if cents in FULL[type]:
            assert f"${FULL[type][cents] / 100:,.2f}" in wording.summary


@pytest.mark.parametrize("type", list(EventType))
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"amount_cents": "50", "topup_id": "x", "waiting_hours": -1, "error": 5},
        {"topup_id": True},
    ],
)
def test_missing_or_odd_fields_say_less_and_never_fail(account, type, data):
    notification = event(account, type, data)

    wording = describe(notification)
    slack_message(notification)
    email_message(notification, ["a@x.test"])

    assert "None" not in wording.title + wording.summary
    assert "/topups/" not in wording.link_url


def test_cloudflare_s_words_are_kept_to_one_short_line(account):
    wording = describe(event(account, EventType.AUTO_TOPUP_FAILED, {"error": "a\n\nb " * 200}))

    assert "\n" not in wording.summary
    assert len(wording.summary) < 400
