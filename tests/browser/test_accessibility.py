"""Accessibility in Chromium: axe-core finds no serious or critical WCAG A/AA violation on any
page, for each role, on a desktop and on a phone; a top-up can be made with the keyboard alone,
and whatever has the focus shows it."""

from functools import partial

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.cloudflare import client_for_account
from accounts.models import CloudflareAccount
from tests import factories
from tests.browser import flow
from tests.browser.accessibility import axe_violations, focus_ring
from tests.test_access import urls
from topups.states import TopUpState

# JSON, a CSV download and a redirect: not pages.
NOT_PAGES = {"status", "live", "live_all", "export", "return"}
PASSWORDS = {"admin": "admin-sandbox", "finance": "finance-sandbox", "viewer": "viewer-sandbox"}


@pytest.fixture
def topups(app, demo):
    """One top-up in each state a page shows differently; the awaiting one is real at the
    sandbox, so its pay page mounts the card form."""
    account = CloudflareAccount.objects.get(account_id=flow.DEMO_ACCOUNT_ID)
    # The demo's production account has a saved card: a new card is asked for on staging.
    staging = CloudflareAccount.objects.exclude(pk=account.pk).get()
    admin = get_user_model().objects.get(username="admin")
    created = client_for_account(staging).topups.create(staging.account_id, amount_cents=5000)
    make = partial(factories.topup, account=account, created_by=admin, amount_cents=2500)
    return [
        make(
            account=staging,
            state=TopUpState.AWAITING_PAYMENT,
            payment_intent_id=created.payment_intent_id,
            client_secret=created.client_secret,
        ),
        make(state=TopUpState.COMPLETED, payment_intent_id="in_a11y1"),
        make(state=TopUpState.UNKNOWN),
        make(state=TopUpState.FAILED, error_code=1004, error_message="Declined"),
    ]


def pages_of(role: str, topups) -> list[str]:
    paths = {"/login/"} if role == "admin" else set()
    for topup in topups:
        for name, (method, path) in urls(topup).items():
            if method == "get" and name not in NOT_PAGES:
                paths.add(path.replace(flow.DEMO_ACCOUNT_ID, topup.account.account_id))
    paths.add("/no-such-page/")
    return sorted(paths)


@pytest.mark.parametrize("role", ["admin", "finance", "viewer"])
def test_no_serious_violation_on_any_page(role, app, topups, axe_pages):
    found = []
    for browser_page in axe_pages:
        flow.sign_in(browser_page, app, role, PASSWORDS[role])
        for path in pages_of(role, topups):
            response = browser_page.goto(app + path)
            if response.status in (403, 404) and path != "/no-such-page/":
                continue  # the role may not see it; its refusal page is checked once below
            browser_page.wait_for_load_state("networkidle")
            found += [
                f"{path} ({browser_page.viewport_size['width']}px): {v}"
                for v in axe_violations(browser_page)
            ]
    assert not found, "\n".join(found)


def test_no_serious_violation_in_the_states_pages_change_into(app, topups, axe_pages):
    page = axe_pages[0]
    flow.sign_in(page, app)
    found = []
    # A refused amount, the refusal page of a role, the export dialog open.
    flow.open_amount_page(page, app)
    page.get_by_label("Or enter an amount").fill("3")
    page.get_by_role("button", name="Review top-up").click()
    expect(page.locator(".field-error")).to_be_visible()
    found += axe_violations(page)
    page.goto(app + "/finance/")
    found += axe_violations(page)
    page = axe_pages[1]
    flow.sign_in(page, app, "finance", PASSWORDS["finance"])
    page.goto(app + "/finance/?kind=all")
    page.get_by_role("link", name="Export CSV").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    found += axe_violations(page)
    assert not found, "\n".join(found)


def test_a_top_up_with_the_keyboard_alone_always_showing_the_focus(app, page, screenshot):
    """With a new card (no saved one): the card form is part of the walk."""
    rings = []

    def tab_to(name: str, *, limit=40):
        """Tab until the focus is on `name`, checking that every stop shows its focus."""
        for _ in range(limit):
            page.keyboard.press("Tab")
            ring = focus_ring(page)
            rings.append(ring)
            if name in ring["element"]:
                return
        raise AssertionError(f"Tab never reached {name!r}: {rings[-limit:]}")

    page.goto(f"{app}/login/")
    tab_to("input#id_username")
    page.keyboard.type("admin")
    tab_to("input#id_password")
    page.keyboard.type("admin-sandbox")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your Cloudflare accounts")).to_be_visible()

    tab_to("a Top up")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()
    tab_to("input#id_amount")
    page.keyboard.type("25")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Review your top-up")).to_be_visible()
    tab_to("button Confirm and pay")
    page.keyboard.press("Enter")

    # The card form (Stripe's Payment Element; here the stand-in's) is reached with Tab too.
    expect(flow.pay_button(page)).to_be_enabled()
    card_number = page.get_by_label("Card number")
    for _ in range(20):
        page.keyboard.press("Tab")
        rings.append(focus_ring(page))
        if card_number.evaluate("el => el === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the card number")
    page.keyboard.type(flow.GOOD)
    page.keyboard.press("Tab")
    page.keyboard.type("12 / 34")
    page.keyboard.press("Tab")
    page.keyboard.type("123")
    tab_to("button#pay-button")
    screenshot(page, "keyboard-pay-focus")
    page.keyboard.press("Enter")

    expect(flow.status_panel(page)).to_contain_text("$25.00 of credits added", timeout=20_000)
    assert len(rings) > 10
    # `body`: the focus left the page for the browser's own controls between two laps.
    hidden_focus = [r for r in rings if not r["element"].startswith("body") and not r["ringed"]]
    assert hidden_focus == []
