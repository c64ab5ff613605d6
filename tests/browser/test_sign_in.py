"""Sign-in and the account overview in Chromium, desktop and phone, with screenshots."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect


@pytest.fixture
def demo_users(transactional_db, settings):
    settings.BILLING_SANDBOX = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def sign_in(page, base_url, username, password):
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_sign_in_as_the_demo_admin(request, live_server, demo_users, screenshot, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("No real card is charged")
    screenshot(page, f"login-{device}")

    sign_in(page, live_server.url, "admin", "admin-sandbox")

    expect(page.get_by_role("heading", name="Your Cloudflare accounts")).to_be_visible()
    expect(page.get_by_role("heading", name="Acme AI (production)")).to_be_visible()
    expect(page.get_by_role("heading", name="Acme AI (staging)")).to_be_visible()
    screenshot(page, f"home-{device}")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= page.viewport_size["width"], "no sideways scrolling"
    assert page.console_errors == []


def test_wrong_password_shows_an_error(page, live_server, demo_users, screenshot):
    sign_in(page, live_server.url, "admin", "wrong")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    screenshot(page, "login-error")


def test_lockout_after_repeated_wrong_passwords(page, live_server, demo_users, screenshot):
    for _ in range(5):
        sign_in(page, live_server.url, "admin", "wrong")
    expect(page.get_by_role("heading", name="Too many sign-in attempts")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("after 5 wrong passwords")
    screenshot(page, "login-locked-out")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_changing_the_password_from_the_header(
    request, live_server, demo_users, screenshot, device
):
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    sign_in(page, live_server.url, "viewer", "viewer-sandbox")
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()

    page.get_by_label("Old password").fill("viewer-sandbox")
    page.get_by_label("New password", exact=True).fill("viewer")
    page.get_by_label("New password confirmation").fill("viewer")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert").first).to_contain_text("too short")
    screenshot(page, f"password-change-{device}")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= page.viewport_size["width"], "no sideways scrolling"

    page.get_by_label("Old password").fill("viewer-sandbox")
    page.get_by_label("New password", exact=True).fill("plum-harbour-sixty-lanterns")
    page.get_by_label("New password confirmation").fill("plum-harbour-sixty-lanterns")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    assert page.console_errors == []


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_operator_without_a_role_is_told_what_accounts_there_are(
    request, live_server, demo_users, django_user_model, screenshot, device
):
    django_user_model.objects.create_superuser("root", password="root-sandbox-passphrase")
    page = request.getfixturevalue("page" if device == "desktop" else "phone_page")
    if device == "phone":
        page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "root", "root-sandbox-passphrase")

    expect(page.get_by_role("heading", name="No role on an account yet")).to_be_visible()
    expect(
        page.get_by_text("Cloudflare accounts, and you have no role on any of them")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Operations → Memberships")).to_be_visible()
    screenshot(page, f"home-operator-without-role-{device}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.console_errors == []
