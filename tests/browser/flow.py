"""Steps of the top-up flow in the browser, shared by the browser tests."""

from playwright.sync_api import Page, expect

from topups.models import TopUp

DEMO_ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
GOOD, THREE_DS, DECLINED_ON_SAVE, DECLINED_ON_CHARGE = (
    "4242424242424242",
    "4000002760003184",
    "4000000000000002",
    "4000000000000341",
)


def sign_in(page: Page, base_url: str, username="admin", password="admin-sandbox"):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your Cloudflare accounts")).to_be_visible()


def open_amount_page(page: Page, base_url: str, account_id=DEMO_ACCOUNT_ID):
    page.goto(f"{base_url}/accounts/{account_id}/topup/")
    expect(page.get_by_role("heading", name="Add AI Gateway credits")).to_be_visible()


def review(page: Page, amount: str):
    page.get_by_label("Or enter an amount").fill(amount)
    page.get_by_role("button", name="Review top-up").click()
    expect(page.get_by_role("heading", name="Review your top-up")).to_be_visible()


def confirm_and_pay(page: Page):
    page.get_by_role("button", name="Confirm and pay").click()


def start_topup(page: Page, base_url: str, amount: str):
    """From the amount page to whatever follows "Confirm and pay"."""
    open_amount_page(page, base_url)
    review(page, amount)
    confirm_and_pay(page)


def fill_card(page: Page, number: str, expiry="12 / 34", cvc="123"):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date").fill(expiry)
    page.get_by_label("Security code").fill(cvc)


def pay_button(page: Page):
    return page.locator("#pay-button")


def status_panel(page: Page):
    return page.locator("#topup-status")


def only_topup() -> TopUp:
    (topup,) = TopUp.objects.all()
    return topup


def pay_new_card(page, app, amount="50", card=GOOD):
    start_topup(page, app, amount)
    expect(pay_button(page)).to_be_enabled()
    fill_card(page, card)
    pay_button(page).click()
