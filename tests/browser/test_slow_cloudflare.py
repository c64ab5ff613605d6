"""Live pages while Cloudflare is slow, and when the session ends under them: the top-up page and
the history say why the status is not moving, keep polling (less often) and settle by themselves
once Cloudflare answers again; a session that ended stops them, with a message that says so."""

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.models import CloudflareAccount
from tests import factories
from tests.browser import flow
from tests.topups.steps import paid_at_cloudflare
from topups.models import StatusProblem, TopUp, TopUpEvent
from topups.states import TopUpState

SLOW = StatusProblem.SLOW.label
SESSION_ENDED = (
    "Your session has ended or you no longer have access. Reload the page to sign in again."
)


def processing_topup(sandbox) -> TopUp:
    """A $25 top-up paid at Cloudflare (the sandbox) that Cloudflare will not call completed
    until `settle_seconds` is lowered again."""
    sandbox.configure(settle_seconds=600)
    account = CloudflareAccount.objects.get(account_id=flow.DEMO_ACCOUNT_ID)
    admin = get_user_model().objects.get(username="admin")
    topup = factories.topup(
        account=account,
        created_by=admin,
        amount_cents=2500,
        state=TopUpState.PROCESSING,
        payment_intent_id=paid_at_cloudflare(account, sandbox, amount_cents=2500),
        card_brand="visa",
        card_last4="4242",
    )
    # The trail its page shows, as a charge to a saved card leaves it.
    TopUpEvent.objects.create(
        topup=topup, actor=admin, kind=TopUpEvent.Kind.CREATED, to_state=TopUpState.CREATING
    )
    TopUpEvent.objects.create(
        topup=topup,
        kind=TopUpEvent.Kind.CREATE_ANSWERED,
        from_state=TopUpState.CREATING,
        to_state=TopUpState.PROCESSING,
    )
    return topup


def hang_status(sandbox) -> None:
    """Every status call hangs well past the page read timeout (1 s in these tests)."""
    sandbox.fault("status", "hang", count=1000, hang_seconds=4)


def topup_url(app, topup) -> str:
    return f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/topups/{topup.pk}/"


def requests_to(page, fragment: str) -> list[str]:
    """The URLs the page requests that contain `fragment`, filled in as they go."""
    seen = []
    page.on("request", lambda request: fragment in request.url and seen.append(request.url))
    return seen


def sign_out_in_another_tab(page, app) -> None:
    other = page.context.new_page()
    other.goto(f"{app}/topups/")
    other.get_by_role("button", name="Sign out").click()
    expect(other.get_by_label("Username")).to_be_visible()
    other.close()


def assert_polling_stopped(page, polls: list[str]) -> None:
    """No request follows, even when the tab comes back or the network returns (both restart
    a poller that is still running, after its first delay of 1 or 2 s)."""
    before = len(polls)
    page.evaluate(
        """() => {
          window.dispatchEvent(new Event("online"));
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_timeout(3000)
    assert polls[before:] == []


def test_the_top_up_page_says_cloudflare_is_slow_then_settles_by_itself(
    app, page, sandbox, settings, screenshot
):
    settings.CLOUDFLARE_PAGE_READ_TIMEOUT = 1
    topup = processing_topup(sandbox)
    flow.sign_in(page, app)
    with page.expect_response(lambda response: response.url.endswith("/status/")):
        page.goto(topup_url(app, topup))  # the script is polling before Cloudflare hangs
    region = flow.status_panel(page)
    expect(region).to_contain_text("This page updates by itself.")

    hang_status(sandbox)
    # The message is in the aria-live region, replacing "This page updates by itself".
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region.locator(".status-delay")).to_have_text(SLOW, timeout=8000)
    expect(region).not_to_contain_text("This page updates by itself.")
    expect(page.locator("#state-badge")).to_have_text("Processing")
    expect(page.locator("#poll-note")).to_be_hidden()
    screenshot(page, "slow-cloudflare-topup-desktop")
    page.set_viewport_size({"width": 375, "height": 740})
    screenshot(page, "slow-cloudflare-topup-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.console_errors == []

    sandbox.control("DELETE", "faults")
    sandbox.configure(settle_seconds=0)
    # The page asks again after its slow pause (5 s), by when the top-up's back-off (5 s from
    # the failed call) has passed; should it just not have, the next ask is 16 s later.
    expect(page.locator("#state-badge")).to_have_text("Completed", timeout=40_000)
    expect(region).to_contain_text("$25.00 of credits added")
    expect(page.locator(".status-delay")).to_have_count(0)
    assert page.console_errors == []
    topup.refresh_from_db()
    assert topup.state == TopUpState.COMPLETED
    assert topup.status_problem == ""


def test_a_top_up_page_opened_while_cloudflare_hangs_says_so_on_a_phone(
    app, phone_page, sandbox, settings, screenshot
):
    settings.CLOUDFLARE_PAGE_READ_TIMEOUT = 1
    topup = processing_topup(sandbox)
    flow.sign_in(phone_page, app)
    hang_status(sandbox)
    phone_page.goto(topup_url(app, topup))

    expect(phone_page.locator("#topup-status .status-delay")).to_have_text(SLOW)
    expect(phone_page.locator("#state-badge")).to_have_text("Processing")
    screenshot(phone_page, "slow-cloudflare-topup-opened-phone")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    assert phone_page.console_errors == []


def test_the_top_up_page_stops_when_the_session_ends(app, page, sandbox, screenshot):
    topup = processing_topup(sandbox)
    flow.sign_in(page, app)
    polls = requests_to(page, f"/topups/{topup.pk}/status/")
    with page.expect_response(lambda response: response.url.endswith("/status/")):
        page.goto(topup_url(app, topup))

    sign_out_in_another_tab(page, app)

    note = page.locator("#poll-note")
    expect(note).to_have_text(SESSION_ENDED)
    expect(note).to_be_visible()
    # The panel no longer claims to update by itself, nor spins.
    expect(page.get_by_text("This page updates by itself.")).to_be_hidden()
    expect(page.locator("#topup-status .spinner")).to_be_hidden()
    screenshot(page, "session-ended-topup-desktop")
    assert_polling_stopped(page, polls)
    assert page.url == topup_url(app, topup)  # still there, not sent away mid-read
    assert page.console_errors == []


def test_the_history_says_cloudflare_is_slow_then_stops_when_the_session_ends(
    app, page, sandbox, settings, screenshot
):
    settings.CLOUDFLARE_PAGE_READ_TIMEOUT = 1
    topup = processing_topup(sandbox)
    hang_status(sandbox)
    flow.sign_in(page, app)
    polls = requests_to(page, "/topups/live/")
    page.goto(f"{app}/accounts/{flow.DEMO_ACCOUNT_ID}/topups/")

    note = page.locator("#history-note")
    expect(note).to_have_text(SLOW, timeout=8000)
    expect(page.locator(f"#topup-row-{topup.pk}")).to_contain_text("Processing")
    screenshot(page, "slow-cloudflare-history-desktop")

    page.context.clear_cookies()  # the session expired

    expect(note).to_have_text(SESSION_ENDED, timeout=15_000)
    assert_polling_stopped(page, polls)
    assert page.console_errors == []
