import pytest
from django.contrib.auth import get_user_model

from accounts.cloudflare import client_for_account
from accounts.models import CloudflareAccount, Membership
from billing_portal.csp import content_security_policy
from cloudflare_client import CloudflareClient, Credentials
from tests import factories
from tests.sandbox_process import Sandbox, start_sandbox, stop
from topups.states import TopUpState

DEMO_ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
STAGING_ACCOUNT_ID = "4f1e5cfd2e7a4b9a8c3d6e0f1a2b3c4d"
SANDBOX_TOKEN = "sandbox-token"


@pytest.fixture(scope="session")
def sandbox_session():
    sandbox = start_sandbox()
    yield sandbox
    stop(sandbox.process)


@pytest.fixture
def sandbox(sandbox_session) -> Sandbox:
    """The sandbox, reset to a blank slate: no customers, cards, faults or logged requests."""
    sandbox_session.reset()
    return sandbox_session


@pytest.fixture
def demo(sandbox, sandbox_settings):
    """The sandbox with the demo accounts' past (usage, invoices, auto top-ups, a saved card on
    the production account), and the app pointed at it."""
    sandbox.reset(demo_history=True)
    return sandbox


@pytest.fixture
def sandbox_settings(settings, sandbox):
    """Point the app at this test run's sandbox."""
    settings.BILLING_SANDBOX = True
    settings.CLOUDFLARE_BASE_URL = sandbox.api_url
    settings.CLOUDFLARE_API_TOKEN = SANDBOX_TOKEN
    settings.STRIPE_JS_URL = f"{sandbox.url}/stripe-js/v3/"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_sandbox"
    settings.CONTENT_SECURITY_POLICY = content_security_policy(
        stripe_js_url=settings.STRIPE_JS_URL,
        sandbox_origins=(sandbox.url, sandbox.localstripe_url),
    )
    return settings


@pytest.fixture
def client_factory(sandbox):
    """A client of this run's sandbox; fast backoff, so retry tests do not wait long."""

    def make(credentials=None, **options) -> CloudflareClient:
        options.setdefault("base_url", sandbox.api_url)
        options.setdefault("connect_timeout", 2)
        options.setdefault("read_timeout", 5)
        options.setdefault("backoff_factor", 0.01)
        return CloudflareClient(credentials or Credentials(api_token=SANDBOX_TOKEN), **options)

    return make


@pytest.fixture
def cf(client_factory) -> CloudflareClient:
    return client_factory()


# --- people and their top-ups (tests/factories.py) ---------------------------------------------


@pytest.fixture
def account(db):
    return CloudflareAccount.objects.create(name="Acme AI (production)", account_id=DEMO_ACCOUNT_ID)


@pytest.fixture
def other_account(db):
    return CloudflareAccount.objects.create(name="Other Corp", account_id=STAGING_ACCOUNT_ID)


@pytest.fixture
def make_member(account):
    """`make_member(username, role)`: a new user with `role` on the demo account (or on
    `account=`), or on none (role None); password "pw-<username>"."""

    def make(username, role, *, account=account):
        return factories.member(username=username, account=account, role=role)

    return make


@pytest.fixture
def admin_user(make_member):
    return make_member("alice-admin", Membership.Role.ADMIN)


@pytest.fixture
def second_admin_user(make_member):
    return make_member("olga-admin", Membership.Role.ADMIN)


@pytest.fixture
def finance_user(make_member):
    return make_member("fiona-finance", Membership.Role.FINANCE)


@pytest.fixture
def second_finance_user(make_member):
    """Another finance member: the second pair of eyes."""
    return make_member("frank-finance", Membership.Role.FINANCE)


@pytest.fixture
def viewer_user(make_member):
    return make_member("victor-viewer", Membership.Role.VIEWER)


@pytest.fixture
def stranger(make_member):
    return make_member("sam-stranger", None)


@pytest.fixture
def operator_user(db):
    """A superuser with no role on any account: whoever runs the portal, in the Django admin."""
    return get_user_model().objects.create_superuser("root", password="pw-root")


@pytest.fixture
def make_topup(account, admin_user):
    """`make_topup(**fields)`: tests.factories.topup on the demo account (or `account=`),
    started by `admin_user` (or `created_by=`) unless recorded `from_invoice`."""

    def make(**fields):
        fields.setdefault("account", account)
        if not fields.get("from_invoice"):
            fields.setdefault("created_by", admin_user)
        return factories.topup(**fields)

    return make


@pytest.fixture
def awaiting_topup(account, make_topup, sandbox_settings):
    """Awaiting payment, started by `admin`, with an id Cloudflare (the sandbox) really issued."""
    created = client_for_account(account).topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    return make_topup(
        state=TopUpState.AWAITING_PAYMENT,
        payment_intent_id=created.payment_intent_id,
        client_secret=created.client_secret,
    )
