"""The notifications page and a delivery log in Chromium, on a desktop and a 375 px phone: an
admin sets thresholds, email, Slack and a signed webhook (its secret shown once), sends a test
event and reads the log; axe finds nothing serious on any of it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import CloudflareAccount
from notifications.events import EventType
from notifications.models import BalanceThreshold, Channel, Delivery, Notification
from tests.browser import flow
from tests.browser.accessibility import axe_violations

SETTINGS = f"/accounts/{flow.DEMO_ACCOUNT_ID}/notifications/"
SLACK_URL = "https://hooks.slack.com/services/T0DEMO/B0DEMO/demoSecretPath1234"
WEBHOOK_URL = "https://billing-hooks.example.com/cloudflare/events"


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def set_up_everything(page, app):
    """Through the page, as an admin would: two thresholds, email, Slack and a webhook."""
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/")
    page.get_by_role("link", name="Notifications", exact=True).first.click()
    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    for dollars in ("100", "25"):
        page.get_by_label("Notify when the balance falls below").fill(dollars)
        page.get_by_role("button", name="Add threshold").click()
        expect(page.get_by_role("status")).to_contain_text(f"falls below ${dollars}.00")
    page.get_by_label("Admins").check()
    page.get_by_label("Finance members").check()
    page.get_by_role("button", name="Save email settings").click()
    expect(page.get_by_role("status")).to_contain_text("Email settings saved.")
    page.get_by_label("Slack incoming-webhook URL").fill(SLACK_URL)
    page.get_by_role("button", name="Connect Slack").click()
    expect(page.get_by_role("status")).to_contain_text("Slack is set up.")
    page.get_by_label("Endpoint URL").fill(WEBHOOK_URL)
    webhook_form = page.locator("form", has=page.get_by_role("button", name="Add webhook"))
    webhook_form.get_by_text("Only some events").click()
    webhook_form.get_by_label("The balance fell below a threshold").check()
    webhook_form.get_by_label("Auto top-up failed").check()
    page.get_by_role("button", name="Add webhook").click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_admin_sets_up_notifications_and_sends_a_test_event(request, app, screenshot, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    flow.sign_in(page, app)
    set_up_everything(page, app)

    secret_box = page.locator("#new-secret")
    expect(secret_box).to_contain_text("Copy it now: it is not shown again.")
    secret = page.locator("#new-secret-value").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{32}", secret)
    expect(page.get_by_text("https://hooks.slack.com/…1234")).to_be_visible()
    screenshot(page, f"notifications-new-secret-{device}")
    assert fits(page)

    page.reload()
    expect(secret_box).to_have_count(0)
    assert secret not in page.content()
    expect(page.get_by_text("whsec_…")).to_be_visible()
    screenshot(page, f"notifications-settings-{device}")
    assert fits(page)

    page.get_by_text("Remove… Slack").click()
    screenshot(page, f"notifications-remove-slack-{device}")
    page.get_by_role("button", name="Remove Slack").click()
    expect(page.get_by_role("status")).to_contain_text("Removed Slack.")
    expect(page.get_by_role("button", name="Connect Slack")).to_be_visible()

    page.get_by_role(
        "button", name="Send test event to the webhook to https://billing-hooks"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("it arrives within a minute")
    webhook = Channel.objects.get(kind=Channel.Kind.WEBHOOK)
    assert [d.channel for d in Delivery.objects.all()] == [webhook]
    page.get_by_role("link", name="Delivery log of the webhook to https://billing-hooks").click()
    expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
    expect(page.get_by_role("cell", name="test evt_")).to_be_visible()
    assert fits(page)
    assert page.console_errors == []


def fill_log(channel: Channel) -> None:
    """A day of a webhook's life: delivered, retried, given up, waiting."""
    now = timezone.now()
    states = [
        (Delivery.State.PENDING, 2, 500, "the receiver answered: upstream timed out"),
        (Delivery.State.GAVE_UP, 18, None, "Timed out after 10 s (connect)"),
        (Delivery.State.DELIVERED, 3, 200, ""),
        (Delivery.State.DELIVERED, 1, 204, ""),
    ]
    for n, (state, attempts, status, error) in enumerate(states):
        at = now - timedelta(hours=n * 7)
        notification = Notification.objects.create(
            event_id=f"evt_{n:024x}",
            account=channel.account,
            type=[EventType.BALANCE_LOW, EventType.TOPUP_COMPLETED][n % 2],
            key=f"log{n}",
            created_at=at,
        )
        delivery = Delivery.objects.create(
            notification=notification,
            channel=channel,
            state=state,
            attempts=attempts,
            last_status_code=status,
            last_error=error,
            next_attempt_at=now + timedelta(minutes=4),
        )
        Delivery.objects.filter(pk=delivery.pk).update(created_at=at)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_delivery_log_with_a_delivery_given_up(request, app, screenshot, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    account = CloudflareAccount.objects.get(account_id=flow.DEMO_ACCOUNT_ID)
    webhook = Channel.objects.create(
        account=account, kind=Channel.Kind.WEBHOOK, url=WEBHOOK_URL, sealed_secret="sealed"
    )
    fill_log(webhook)
    flow.sign_in(page, app)
    page.goto(f"{app}{SETTINGS}channels/{webhook.pk}/deliveries/")

    expect(page.locator("#gave-up")).to_contain_text("1 delivery gave up")
    expect(page.get_by_text("Gave up", exact=True)).to_be_visible()
    screenshot(page, f"notifications-log-{device}")
    assert fits(page)

    page.goto(f"{app}{SETTINGS}")
    expect(page.get_by_text("1 gave up")).to_be_visible()
    assert page.console_errors == []


def test_finance_sees_the_settings_but_no_form(app, page, screenshot):
    flow.sign_in(page, app, "finance", "finance-sandbox")
    page.goto(f"{app}{SETTINGS}")

    expect(page.get_by_text("Only account admins can change notifications.")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(1)  # signing out
    screenshot(page, "notifications-settings-finance")


def test_no_serious_violation_on_the_pages_and_their_states(app, axe_pages):
    found = []
    for page in axe_pages:
        Channel.objects.all().delete()
        BalanceThreshold.objects.all().delete()
        Notification.objects.all().delete()
        flow.sign_in(page, app)
        width = page.viewport_size["width"]
        set_up_everything(page, app)  # the page showing a new secret
        found += [f"{width}px, secret shown: {v}" for v in axe_violations(page)]
        page.get_by_label("Notify when the balance falls below").fill("9" * 30)
        page.get_by_role("button", name="Add threshold").click()  # a form error
        found += [f"{width}px, form error: {v}" for v in axe_violations(page)]
        webhook = Channel.objects.get(kind=Channel.Kind.WEBHOOK)
        fill_log(webhook)
        page.goto(f"{app}{SETTINGS}")
        found += [f"{width}px, settings: {v}" for v in axe_violations(page)]
        page.goto(f"{app}{SETTINGS}channels/{webhook.pk}/deliveries/")
        found += [f"{width}px, log: {v}" for v in axe_violations(page)]
    assert not found, "\n".join(found)
