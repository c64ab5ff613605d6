"""No secret ever leaves the server. The suite's flows run with a recognisable API token (from
the environment) and a recognisable global API key (stored, sealed, on a second account, set
through the admin, first wrong and then right); then every response body and header, every log
record (DEBUG included), everything written to stdout and stderr, the audit trail, the admin's
history and a dump of the whole database are searched for them.

Every client secret Cloudflare issues is searched for too: only its payer's pay page may carry
it (Stripe.js needs it there), and nothing else, ever."""

import logging
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import CloudflareAccount, Membership
from tests.conftest import DEMO_ACCOUNT_ID, STAGING_ACCOUNT_ID
from tests.test_access import urls
from tests.topups.steps import pay_with_card
from topups.models import TopUp, TopUpEvent
from topups.states import TopUpState

TOKEN = "cfTOKEN-canary-9f3b1c7d5e2a4f6b8d0c"
EMAIL = "canary-ops@example.com"
GLOBAL_KEY = "cfKEY-canary-2e4c6a8b0d1f3e5a7c9b"
WRONG_KEY = "cfKEY-canary-WRONG-7a5c3e1f9b8d6f4a"
CREDENTIALS = (TOKEN, GLOBAL_KEY, WRONG_KEY)
CLOUDFLARE_REFUSAL = {
    "success": False,
    "errors": [{"code": 1004, "message": "amount: must be at least 1000"}],
    "messages": [],
    "result": None,
}

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Seen:
    who: str
    path: str
    text: str


class RecordingClient(Client):
    """A test client that keeps every response it gets, headers and body, streams included."""

    def __init__(self, who: str, seen: list[Seen]):
        super().__init__()
        self.who, self.seen = who, seen

    def request(self, **request):
        response = super().request(**request)
        if response.streaming:
            body = b"".join(response.streaming_content)
            response.streaming_content = [body]
        else:
            body = response.content
        headers = "\n".join(f"{name}: {value}" for name, value in response.items())
        cookies = response.cookies.output()
        text = f"{headers}\n{cookies}\n{body.decode(errors='replace')}"
        self.seen.append(Seen(self.who, request["PATH_INFO"], text))
        return response


@pytest.fixture
def canary(sandbox, sandbox_settings):
    """The sandbox and the app agree on recognisable credentials (the sandbox fixture restores
    its own for the next test)."""
    sandbox.configure(api_token=TOKEN, email=EMAIL, global_key=GLOBAL_KEY)
    sandbox_settings.CLOUDFLARE_API_TOKEN = TOKEN
    return sandbox


def signed_in(username: str, seen: list[Seen]) -> RecordingClient:
    client = RecordingClient(username, seen)
    response = client.post(reverse("login"), {"username": username, "password": "pw-" + username})
    assert response.status_code == 302, f"{username} could not sign in"
    return client


def store_credential(root: RecordingClient, account: CloudflareAccount | None, key: str):
    form = {
        "name": "Other organisation",
        "account_id": STAGING_ACCOUNT_ID,
        "credential": "stored",
        "api_token": "",
        "email": EMAIL,
        "api_key": key,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if account is None:
        url = reverse("admin:accounts_cloudflareaccount_add")
    else:
        url = reverse("admin:accounts_cloudflareaccount_change", args=[account.pk])
    assert root.post(url, form).status_code == 302
    return CloudflareAccount.objects.get(account_id=STAGING_ACCOUNT_ID)


def start_topup(client: RecordingClient, account_id: str, issued: dict[str, TopUp]) -> TopUp:
    """Amount, review and confirm, as the pages send them; the client secret Cloudflare issued
    (if any) is remembered with its top-up."""
    a = {"account_id": account_id}
    client.get(reverse("topups:amount", kwargs=a))
    client.get(reverse("topups:review", kwargs=a), {"amount": "50"})
    key = uuid.uuid4()
    client.post(reverse("topups:confirm", kwargs=a), {"amount_cents": 5000, "request_key": key})
    topup = TopUp.objects.get(request_key=key)
    if topup.client_secret:
        issued[topup.client_secret] = topup
    return topup


def pay(client: RecordingClient, sandbox, topup: TopUp) -> None:
    t = {"account_id": topup.account.account_id, "pk": topup.pk}
    client.get(reverse("topups:pay", kwargs=t))
    pay_with_card(sandbox, topup.client_secret)
    client.post(reverse("topups:paid", kwargs=t), {"stripe_status": "succeeded"})
    # Stripe puts the client secret in the return URL of redirect-based payments.
    client.get(
        reverse("topups:return", kwargs=t),
        {
            "payment_intent": topup.payment_intent_id,
            "payment_intent_client_secret": topup.client_secret,
            "redirect_status": "succeeded",
        },
    )
    client.get(reverse("topups:status", kwargs=t))


def test_no_credential_or_client_secret_leaves_the_server(
    canary, account, admin_user, finance_user, viewer_user, operator_user, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    seen: list[Seen] = []
    issued: dict[str, TopUp] = {}
    root = signed_in(operator_user.username, seen)
    alice = signed_in(admin_user.username, seen)

    # The production account uses the environment's token. One top-up left awaiting payment
    # (its secret stays, for its pay page only), one paid by card, one whose create's outcome
    # is unknown, one Cloudflare refused.
    waiting = start_topup(alice, DEMO_ACCOUNT_ID, issued)
    paid = start_topup(alice, DEMO_ACCOUNT_ID, issued)
    pay(alice, canary, paid)
    canary.fault("create", "500")
    unknown = start_topup(alice, DEMO_ACCOUNT_ID, issued)
    canary.fault("create", "body", status=400, body=CLOUDFLARE_REFUSAL)
    refused = start_topup(alice, DEMO_ACCOUNT_ID, issued)

    # Another organisation's account, with its own global API key stored through the admin:
    # first a wrong one (Cloudflare refuses it), then the right one.
    staging = store_credential(root, None, WRONG_KEY)
    Membership.objects.create(user=admin_user, account=staging, role=Membership.Role.ADMIN)
    Membership.objects.create(user=finance_user, account=staging, role=Membership.Role.FINANCE)
    denied = start_topup(alice, STAGING_ACCOUNT_ID, issued)
    staging = store_credential(root, staging, GLOBAL_KEY)
    other_org = start_topup(alice, STAGING_ACCOUNT_ID, issued)
    pay(alice, canary, other_org)

    # Finance confirms, reconciles and exports; everyone reads every page of every top-up.
    fiona = signed_in(finance_user.username, seen)
    victor = signed_in(viewer_user.username, seen)
    topups = [paid, waiting, unknown, refused, denied, other_org]
    fiona.post(reverse("finance:confirm", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": paid.pk}))
    fiona.post(reverse("finance:reconcile_now"))
    fiona.get(reverse("finance:export"), {"kind": "all"})
    for client in (alice, fiona, victor):
        for topup in topups:
            for name, (method, url) in urls(topup).items():
                if method == "get" and name != "return":
                    client.get(url.replace(DEMO_ACCOUNT_ID, topup.account.account_id))
    for topup in topups:
        root.get(reverse("admin:topups_topup_change", args=[topup.pk]))
    for name in ("topups_topup", "topups_topupevent", "accounts_cloudflareaccount"):
        root.get(reverse(f"admin:{name}_changelist"))
    root.get(reverse("admin:accounts_cloudflareaccount_change", args=[staging.pk]))
    call_command("refresh_topups")
    call_command("reconcile_invoices")

    # The flows really ran: each credential reached Cloudflare, and was told apart.
    for topup in topups:
        topup.refresh_from_db()
    assert paid.state == other_org.state == TopUpState.COMPLETED
    assert (waiting.state, unknown.state) == (TopUpState.AWAITING_PAYMENT, TopUpState.UNKNOWN)
    assert refused.state == denied.state == TopUpState.FAILED
    assert {r["auth"] for r in canary.requests("create")} == {"token", "global_key", "invalid"}
    assert len(issued) == 3  # paid, waiting, other_org

    # Credentials: nowhere.
    printed = capfd.readouterr()
    logged = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    trail = str(list(TopUpEvent.objects.values_list("detail", flat=True)))
    history = str(list(LogEntry.objects.values_list("change_message", flat=True)))
    database = dump_database(capfd)
    for secret in CREDENTIALS:
        leaks = [f"{s.who} {s.path}" for s in seen if secret in s.text]
        assert not leaks, f"{secret} in responses: {leaks}"
        for place, text in [
            ("logs", logged),
            ("stdout", printed.out),
            ("stderr", printed.err),
            ("audit trail", trail),
            ("admin history", history),
            ("database", database),
        ]:
            assert secret not in text, f"{secret} in the {place}"

    # Client secrets: on their payer's pay page, and nowhere else.
    for secret, topup in issued.items():
        pay_page = reverse(
            "topups:pay", kwargs={"account_id": topup.account.account_id, "pk": topup.pk}
        )
        places = {(s.who, s.path) for s in seen if secret in s.text}
        assert places <= {(admin_user.username, pay_page)}, places
        assert places, "the pay page hands the secret to Stripe.js"
        for place, text in [
            ("logs", logged),
            ("stdout", printed.out),
            ("stderr", printed.err),
            ("audit trail", trail),
        ]:
            assert secret not in text, f"a client secret in the {place}"


def dump_database(capfd) -> str:
    call_command("dumpdata", "--all", "--indent=0")
    return capfd.readouterr().out
