"""Access control as a URL matrix: every URL of the site against anonymous, viewer, admin, finance,
another admin of the account, and a member of another account. Anonymous → sign-in, another
tenant → 404 (no information leak), a missing role → 403."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from notifications.models import BalanceThreshold, Channel
from tests.conftest import DEMO_ACCOUNT_ID, STAGING_ACCOUNT_ID
from topups.models import TopUp

pytestmark = pytest.mark.django_db

# The demo account's webhook and threshold of the notifications URLs (the `notification_rows`
# fixture makes them); other tests find none there, so those URLs are a 404 for them.
CHANNEL_PK, THRESHOLD_PK = 7001, 7002


def urls(topup) -> dict[str, tuple[str, str]]:
    a = {"account_id": DEMO_ACCOUNT_ID}
    t = {**a, "pk": topup.pk}
    live_rows = f"?rows={topup.pk}:{topup.state}"
    return {
        "home": ("get", reverse("topups:home")),
        "overview": ("get", reverse("accounts:overview", kwargs=a)),
        "invoices": ("get", reverse("accounts:invoices", kwargs=a)),
        "auto_topup": ("get", reverse("accounts:auto_topup", kwargs=a)),
        "auto_topup_set": ("post", reverse("accounts:auto_topup", kwargs=a)),
        "auto_topup_remove": ("post", reverse("accounts:auto_topup_remove", kwargs=a)),
        "history_all": ("get", reverse("topups:history_all")),
        "live_all": ("get", reverse("topups:history_live_all") + live_rows),
        "amount": ("get", reverse("topups:amount", kwargs=a)),
        "review": ("get", reverse("topups:review", kwargs=a) + "?amount=50"),
        "confirm": ("post", reverse("topups:confirm", kwargs=a)),
        "history": ("get", reverse("topups:history", kwargs=a)),
        "live": ("get", reverse("topups:history_live", kwargs=a) + live_rows),
        "detail": ("get", reverse("topups:detail", kwargs=t)),
        "status": ("get", reverse("topups:status", kwargs=t)),
        "pay": ("get", reverse("topups:pay", kwargs=t)),
        "paid": ("post", reverse("topups:paid", kwargs=t)),
        "return": ("get", reverse("topups:return", kwargs=t)),
        "desk": ("get", reverse("finance:desk")),
        "export": ("get", reverse("finance:export") + f"?account={DEMO_ACCOUNT_ID}"),
        "confirm_many": ("post", reverse("finance:confirm_many")),
        "fin_confirm": ("post", reverse("finance:confirm", kwargs=t)),
        "resolve": ("get", reverse("finance:resolve", kwargs=t)),
        "reconciliation": ("get", reverse("finance:reconciliation")),
        "reconcile_now": ("post", reverse("finance:reconcile_now")),
        "record": ("post", reverse("finance:record_invoices", kwargs=a)),
        "password": ("get", reverse("password_change")),
        "password_set": ("post", reverse("password_change")),  # an empty form: shown again
        "password_changed": ("get", reverse("password_change_done")),
        **notification_urls(),
    }


def notification_urls() -> dict[str, tuple[str, str]]:
    a = {"account_id": DEMO_ACCOUNT_ID}
    c = {**a, "pk": CHANNEL_PK}
    return {
        "notifications": ("get", reverse("notifications:settings", kwargs=a)),
        "threshold_add": ("post", reverse("notifications:threshold_add", kwargs=a)),
        "email_set": ("post", reverse("notifications:email_set", kwargs=a)),
        "slack_add": ("post", reverse("notifications:slack_add", kwargs=a)),
        "webhook_add": ("post", reverse("notifications:webhook_add", kwargs=a)),
        "deliveries": ("get", reverse("notifications:deliveries", kwargs=c)),
        "channel_test": ("post", reverse("notifications:channel_test", kwargs=c)),
        "threshold_remove": (
            "post",
            reverse("notifications:threshold_remove", kwargs={**a, "pk": THRESHOLD_PK}),
        ),
        "channel_remove": ("post", reverse("notifications:channel_remove", kwargs=c)),  # last
    }


NAMES = tuple(urls(TopUp(pk=1, state="creating")))
READ = (
    "home overview invoices auto_topup history_all live_all history live detail status "
    "notifications"
)
AUTO_TOPUP_WRITES = "auto_topup_set auto_topup_remove"
FINANCE_DESK = "desk export confirm_many fin_confirm resolve reconciliation reconcile_now record"
PAYING = "pay paid return"
OWN_PASSWORD = "password password_set password_changed"  # everyone's, whatever their roles
NOTIFICATION_FORMS = "threshold_add slack_add webhook_add"  # posted empty: shown again, 400
NOTIFICATION_CHANGES = "email_set channel_test threshold_remove channel_remove"
NOTIFICATION_ADMIN = f"{NOTIFICATION_FORMS} {NOTIFICATION_CHANGES} deliveries"
# What each kind of user gets on each URL of the demo account; every URL is named exactly once.
EXPECTED = {
    "admin": {
        200: f"{READ} {OWN_PASSWORD} amount review pay paid deliveries",
        302: f"confirm return auto_topup_remove {NOTIFICATION_CHANGES}",
        400: f"auto_topup_set {NOTIFICATION_FORMS}",  # empty forms
        403: FINANCE_DESK,
    },
    "other_admin": {
        200: f"{READ} {OWN_PASSWORD} amount review deliveries",
        302: f"confirm auto_topup_remove {NOTIFICATION_CHANGES}",
        400: f"auto_topup_set {NOTIFICATION_FORMS}",
        403: f"{PAYING} {FINANCE_DESK}",
    },
    "finance": {
        200: f"{READ} {OWN_PASSWORD} desk export resolve reconciliation",
        302: "confirm_many fin_confirm reconcile_now record",
        403: f"amount review confirm {PAYING} {AUTO_TOPUP_WRITES} {NOTIFICATION_ADMIN}",
    },
    "viewer": {
        200: f"{READ} {OWN_PASSWORD}",
        403: f"amount review confirm {PAYING} {FINANCE_DESK} {AUTO_TOPUP_WRITES} "
        f"{NOTIFICATION_ADMIN}",
    },
    # finance of another account only: this account's URLs do not exist for them
    "stranger": {
        200: f"home history_all desk export reconciliation {OWN_PASSWORD}",
        302: "confirm_many reconcile_now",
        404: f"overview invoices auto_topup {AUTO_TOPUP_WRITES} live_all amount review confirm "
        f"history live detail status {PAYING} fin_confirm resolve record notifications "
        f"{NOTIFICATION_ADMIN}",
    },
}


@pytest.fixture
def people(admin_user, second_admin_user, finance_user, viewer_user, make_member, other_account):
    stranger = make_member("sam-stranger", Membership.Role.FINANCE, account=other_account)
    return {
        "admin": admin_user,
        "other_admin": second_admin_user,
        "finance": finance_user,
        "viewer": viewer_user,
        "stranger": stranger,
    }


@pytest.fixture
def notification_rows(account):
    Channel.objects.create(
        pk=CHANNEL_PK,
        account=account,
        kind=Channel.Kind.WEBHOOK,
        url="https://93.184.215.14/hook",
        sealed_secret="sealed",
    )
    BalanceThreshold.objects.create(pk=THRESHOLD_PK, account=account, cents=2500)


@pytest.mark.parametrize("who", list(EXPECTED))
def test_access_matrix(client, people, awaiting_topup, notification_rows, who):
    topup = awaiting_topup
    client.force_login(people[who])
    got = {}
    for name, (method, url) in urls(topup).items():
        got[name] = getattr(client, method)(url).status_code
    expected = {name: code for code, names in EXPECTED[who].items() for name in names.split()}
    assert sorted(expected) == sorted(NAMES), "every URL is named exactly once"
    assert got == expected


@pytest.mark.parametrize("name", NAMES)
def test_anonymous_is_sent_to_sign_in(client, awaiting_topup, name):
    topup = awaiting_topup
    method, url = urls(topup)[name]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_another_tenant_sees_nothing_of_this_account_in_lists_and_exports(
    client, people, awaiting_topup
):
    client.force_login(people["stranger"])
    history = client.get(reverse("topups:history_all"))
    desk = client.get(reverse("finance:desk"), {"kind": "all"})
    export = client.get(reverse("finance:export"), {"kind": "all"})

    assert list(history.context["page"].object_list) == []
    assert list(desk.context["page"].object_list) == []
    assert b"".join(export.streaming_content).decode().count("\n") == 1  # the header only


def test_unknown_account_is_404_even_for_an_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("topups:amount", kwargs={"account_id": "0" * 32})).status_code == 404
    # A real account the user has no role on looks exactly the same.
    assert (
        client.get(reverse("topups:amount", kwargs={"account_id": STAGING_ACCOUNT_ID})).status_code
        == 404
    )


def test_top_up_of_another_account_is_404_under_this_one(
    client, admin_user, make_topup, other_account
):
    other = make_topup(account=other_account)
    client.force_login(admin_user)
    url = reverse("topups:detail", kwargs={"account_id": DEMO_ACCOUNT_ID, "pk": other.pk})
    assert client.get(url).status_code == 404
