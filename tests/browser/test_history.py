"""The history in Chromium: pending rows turn completed without a reload, announced through
aria-live; many tabs share the upstream calls; the page on a desktop and a phone."""

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.models import CloudflareAccount
from tests import factories
from tests.browser import flow
from tests.topups.steps import paid_at_cloudflare
from topups.models import TopUp
from topups.states import TopUpState


def paid_processing_rows(sandbox, count: int) -> list[TopUp]:
    """`count` top-ups paid at Cloudflare (the sandbox) and still `processing` here."""
    account = CloudflareAccount.objects.get(account_id=flow.DEMO_ACCOUNT_ID)
    admin = get_user_model().objects.get(username="admin")
    rows = []
    for _ in range(count):
        payment_intent_id = paid_at_cloudflare(account, sandbox, amount_cents=2500)
        rows.append(
            factories.topup(
                account=account,
                created_by=admin,
                amount_cents=2500,
                state=TopUpState.PROCESSING,
                payment_intent_id=payment_intent_id,
                card_brand="visa",
                card_last4="4242",
            )
        )
    sandbox.control("DELETE", "requests")
    return rows


def test_a_pending_row_turns_completed_without_a_reload(app, page, sandbox, screenshot):
    sandbox.configure(settle_seconds=4)
    (row,) = paid_processing_rows(sandbox, 1)
    factories.topup(
        account=row.account,
        created_by=row.created_by,
        amount_cents=1000,
        state=TopUpState.COMPLETED,
    )
    flow.sign_in(page, app)
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/topups/")
    line = page.locator(f"#topup-row-{row.pk}")
    expect(line).to_contain_text("Processing")
    screenshot(page, "history-pending-desktop")

    expect(line).to_contain_text("Completed", timeout=30_000)

    expect(page.locator("#history-announcer")).to_contain_text(f"Top-up #{row.pk}")
    expect(page.locator("#history-announcer")).to_contain_text("Completed")
    assert page.url.endswith("/topups/")  # no reload, no navigation
    screenshot(page, "history-completed-desktop")
    row.refresh_from_db()
    assert row.state == TopUpState.COMPLETED
    assert page.console_errors == []


def test_ten_tabs_share_the_upstream_calls(app, page, sandbox):
    sandbox.configure(settle_seconds=600)  # they stay pending throughout
    rows = paid_processing_rows(sandbox, 5)
    flow.sign_in(page, app)
    polls = []
    tabs = []
    for _ in range(10):
        tab = page.context.new_page()
        tab.on("request", lambda r: "/topups/live/" in r.url and polls.append(r.url))
        tab.goto(f"{app}/topups/")
        tabs.append(tab)

    page.wait_for_timeout(8000)

    status_calls = sandbox.requests("status")
    # Each tab polls on its own (one request for all its rows) ...
    assert len(polls) >= 10 * 2
    # ... but each top-up is asked about once per interval, whoever asks.
    assert len(status_calls) == len(rows)
    assert {r["body"]["payment_intent_id"] for r in status_calls} == {
        row.payment_intent_id for row in rows
    }


def test_history_filters_on_a_phone(app, phone_page, sandbox, screenshot):
    paid_processing_rows(sandbox, 2)
    flow.sign_in(phone_page, app)
    phone_page.goto(f"{app}/topups/")
    expect(phone_page.get_by_role("heading", name="Top-ups of all your accounts")).to_be_visible()
    screenshot(phone_page, "history-phone")
    phone_page.get_by_label("State").select_option("completed")
    phone_page.get_by_role("button", name="Filter").click()
    expect(phone_page.get_by_text("No top-ups match these filters.")).to_be_visible()
    assert "state=completed" in phone_page.url
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
