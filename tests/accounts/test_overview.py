"""The account overview: balance, card, auto top-up, usage charts and the runway, from the
sandbox's demo books; what each role sees."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from accounts.credentials import seal
from accounts.models import CachedRead
from accounts.runway import Outlook, runway
from accounts.services import AmountLimits
from cloudflare_client import Credentials, UsageBucket
from notifications.models import BalanceThreshold
from tests.conftest import DEMO_ACCOUNT_ID
from tests.sandbox_process import free_port

pytestmark = pytest.mark.django_db
URL = reverse("accounts:overview", kwargs={"account_id": DEMO_ACCOUNT_ID})
LIMITS = AmountLimits(1000, 1_000_000)  # Cloudflare's usual ones


def day(offset: int, cents: str, now: datetime) -> UsageBucket:
    start = now - timedelta(days=offset)
    return UsageBucket(f"d{offset}", Decimal(cents), start, start + timedelta(days=1))


def test_runway_on_known_data():
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    daily = [day(n, "1000", now) for n in range(8, 0, -1)] + [day(0, "999999", now)]

    estimate = runway(balance_cents=Decimal("5000.5"), daily=daily, now=now)

    assert estimate.burn_cents_per_day == Decimal(1000)  # today, unfinished, is left out
    assert estimate.days_left == Decimal("5.0005")
    assert estimate.runs_out_at.date() == datetime(2026, 3, 15, tzinfo=UTC).date()
    # $300 - $50.01, whole dollars up
    assert estimate.cover_cents(30, Decimal("5000.5"), LIMITS) == 25000
    assert estimate.cover_cents(3, Decimal("5000.5"), LIMITS) == 1000  # never below the minimum


def test_no_spend_means_no_runway():
    assert runway(balance_cents=Decimal(10), daily=[], now=datetime.now(tz=UTC)).days_left is None


def test_a_tiny_burn_rate_lasts_more_than_a_year():
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    daily = [day(n, "0", now) for n in range(8, 1, -1)] + [day(1, "0.0001", now)]

    estimate = runway(balance_cents=Decimal(10000), daily=daily, now=now)  # 700 million days

    assert estimate.outlook == Outlook.MORE_THAN_A_YEAR
    assert estimate.runs_out_at is None
    assert estimate.cover_cents(30, Decimal(10000), LIMITS) == 1000


def test_the_overview_of_an_account_that_hardly_spends_says_more_than_a_year(
    client, admin_user, sandbox, sandbox_settings
):
    sandbox.control("POST", "balance", {"balance": 10000, "hourly_rate": 0.0001})
    client.force_login(admin_user)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "<strong>less than $0.01 a day</strong>, the credits last <strong>more than a year" in page
    )


def test_a_balance_at_or_below_zero_has_run_out_and_the_cover_pays_the_debt():
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    daily = [day(n, "500", now) for n in range(8, 0, -1)]

    estimate = runway(balance_cents=Decimal(-320), daily=daily, now=now)

    assert estimate.outlook == Outlook.RUN_OUT
    assert estimate.burn_cents_per_day == Decimal(500)
    assert estimate.cover_cents(30, Decimal(-320), LIMITS) == 15400  # $150 + $3.20 owed, dollars up
    assert runway(balance_cents=Decimal(0), daily=[], now=now).outlook == Outlook.RUN_OUT
    assert runway(balance_cents=Decimal(-1), daily=None, now=now).outlook == Outlook.RUN_OUT


def test_without_usage_the_runway_is_unknown():
    estimate = runway(balance_cents=Decimal(10), daily=None, now=datetime.now(tz=UTC))
    assert estimate.outlook == Outlook.UNKNOWN


def test_the_overview_of_a_balance_below_zero_says_the_credits_have_run_out(
    client, admin_user, viewer_user, sandbox, sandbox_settings
):
    sandbox.control("POST", "balance", {"balance": -320})
    sandbox.fault("usage", "500", count=10)  # even without the usage, the balance says it
    client.force_login(admin_user)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<p class="overview__money">\u2212$3.20</p>' in page
    assert "The credits have run out." in page


def test_the_overview_shows_balance_card_auto_top_up_charts_and_runway(client, admin_user, demo):
    client.force_login(admin_user)
    page = client.get(URL).content.decode()

    assert "Credit balance" in page
    assert "card on file: Visa •••• 4242" in page
    assert "when the balance falls below <strong>$10.00</strong>" in page
    assert "auto top-up keeps the balance above <strong>$10.00</strong>." in page  # no run-out
    assert "Spend per day, last 30 days" in page
    assert page.count('class="chart__bar"') >= 30 + 48
    assert f"/accounts/{DEMO_ACCOUNT_ID}/topup/?amount=" in page


def test_viewers_see_the_overview_without_the_top_up_button(client, viewer_user, demo):
    client.force_login(viewer_user)
    page = client.get(URL).content.decode()
    assert "Credit balance" in page
    assert "Top up $" not in page


def test_the_overview_says_plainly_when_cloudflare_cannot_be_asked(
    client, admin_user, sandbox, sandbox_settings
):
    sandbox.fault("any", "500", count=30)
    client.force_login(admin_user)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Cloudflare could not be asked for the balance just now" in page.content.decode()


def test_another_tenant_gets_404(client, admin_user, other_account):
    client.force_login(admin_user)
    other = reverse("accounts:overview", kwargs={"account_id": other_account.account_id})
    assert client.get(other).status_code == 404


CANNOT_OPEN_ON_PAGE = "This account&#x27;s stored credential cannot be opened"


def test_a_credential_the_configured_keys_cannot_open_is_named_on_the_pages(
    client, admin_user, account, sandbox_settings, settings
):
    account.credential = "stored"
    account.sealed_credential = seal(Credentials(api_token="sandbox-token"))
    account.save()
    settings.CREDENTIALS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key dropped
    client.force_login(admin_user)

    for url in (
        URL,
        reverse("accounts:invoices", kwargs={"account_id": DEMO_ACCOUNT_ID}),
        reverse("accounts:auto_topup", kwargs={"account_id": DEMO_ACCOUNT_ID}),
    ):
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 200
        assert f"{CANNOT_OPEN_ON_PAGE} with the configured keys" in page, url
        assert "could not be asked" not in page, url


USAGE_NOT_ASKED = "Cloudflare could not be asked for the usage just now"


def test_when_cloudflare_is_unreachable_the_usage_says_so_too(
    client, admin_user, sandbox_settings, settings
):
    settings.CLOUDFLARE_BASE_URL = f"http://127.0.0.1:{free_port()}/client/v4"  # nobody there
    client.force_login(admin_user)
    page = client.get(URL).content.decode()

    assert "Cloudflare could not be asked for the balance just now" in page
    assert USAGE_NOT_ASKED in page
    assert "No usage to show yet" not in page


def test_when_the_usage_cannot_be_asked_again_the_last_reading_shows_with_its_time(
    client, admin_user, demo
):
    client.force_login(admin_user)
    client.get(URL)  # read once
    read_at = CachedRead.objects.get(account__account_id=DEMO_ACCOUNT_ID, kind="usage_day")
    CachedRead.objects.filter(kind__startswith="usage").update(
        fetched_at=read_at.fetched_at - timedelta(hours=1)
    )
    demo.fault("usage", "500", count=20)

    page = client.get(URL).content.decode()

    usage = page[page.index('id="usage-title"') :]
    assert "Spend per day, last 30 days" in usage
    assert 'id="usage-as-of">As of <time' in usage
    assert "; Cloudflare could not be asked just now" in usage
    assert USAGE_NOT_ASKED not in usage  # the last reading is there to show


def test_the_overview_lists_the_balance_thresholds_and_links_to_the_settings(
    client, admin_user, account, demo
):
    client.force_login(admin_user)
    settings_url = reverse("notifications:settings", kwargs={"account_id": DEMO_ACCOUNT_ID})
    link = f'<a href="{settings_url}">Notification settings</a>'

    page = client.get(URL).content.decode()
    assert f"No balance notifications · {link}" in page

    for cents in (2500, 10000, 2550):
        BalanceThreshold.objects.create(account=account, cents=cents)
    page = client.get(URL).content.decode()
    assert (
        "Notifications below <strong>$100.00</strong>, <strong>$25.50</strong>, "
        f"<strong>$25.00</strong> · {link}"
    ) in page
    assert "Low-balance alert" not in page
