"""The history: per account and across accounts, filters that survive pagination, and the one
live request that refreshes every unfinished row of a page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.cloudflare import client_for_account
from accounts.models import Membership
from tests.conftest import DEMO_ACCOUNT_ID
from tests.topups.steps import A, pay_with_card
from topups.models import TopUp
from topups.states import TopUpState

pytestmark = pytest.mark.django_db


def amounts(response):
    return [t.amount_cents for t in response.context["page"].object_list]


def test_history_lists_the_accounts_top_ups_newest_first(
    client, viewer_user, make_topup, other_account
):
    for cents in (1000, 2000, 3000):
        make_topup(amount_cents=cents)
    make_topup(account=other_account, amount_cents=9900)
    client.force_login(viewer_user)

    response = client.get(reverse("topups:history", kwargs=A))

    assert amounts(response) == [3000, 2000, 1000]
    assert b"$99.00" not in response.content
    assert b"New top-up" not in response.content  # viewers cannot top up


def test_all_accounts_history_shows_every_account_of_the_user_and_no_other(
    client, admin_user, make_member, make_topup, account, other_account
):
    make_member("third", None)
    Membership.objects.create(user=admin_user, account=other_account, role="viewer")
    stranger_account = type(account).objects.create(name="Elsewhere", account_id="a" * 32)
    make_topup(amount_cents=1000)
    make_topup(account=other_account, amount_cents=2000)
    make_topup(account=stranger_account, amount_cents=7700)
    client.force_login(admin_user)

    response = client.get(reverse("topups:history_all"))

    assert amounts(response) == [2000, 1000]
    assert "Elsewhere" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "completed"}, [3000]),
        ({"state": "failed"}, [2000]),
        ({"creator": "olga"}, [2000]),
        ({"created_from": "2026-01-02"}, [3000, 2000]),
        ({"created_to": "2026-01-01"}, [1000]),
        ({"created_from": "2026-01-02", "created_to": "2026-01-02"}, [2000]),
    ],
)
def test_filters(client, admin_user, make_member, make_topup, query, expected):
    olga = make_member("olga", "admin")
    rows = [
        make_topup(amount_cents=1000),
        make_topup(created_by=olga, amount_cents=2000, state=TopUpState.FAILED),
        make_topup(amount_cents=3000, state=TopUpState.COMPLETED),
    ]
    for day, row in enumerate(rows, start=1):
        TopUp.objects.filter(pk=row.pk).update(created_at=f"2026-01-0{day}T12:00:00Z")
    client.force_login(admin_user)

    assert amounts(client.get(reverse("topups:history", kwargs=A), query)) == expected


def test_bad_filters_are_explained_and_ignored(client, admin_user, make_topup):
    make_topup()
    client.force_login(admin_user)
    response = client.get(
        reverse("topups:history", kwargs=A),
        {"created_from": "2026-02-01", "created_to": "2026-01-01", "state": "nope"},
    )
    assert response.status_code == 200
    assert amounts(response) == [5000]
    page = response.content.decode()
    assert "The end date is before the start date." in page
    assert "Select a valid choice." in page


def test_filters_survive_pagination(client, admin_user, make_topup):
    for _ in range(30):
        make_topup(state=TopUpState.FAILED)
    make_topup(amount_cents=1234)
    client.force_login(admin_user)

    response = client.get(reverse("topups:history", kwargs=A), {"state": "failed"})

    older = response.context["page"].older
    assert f'href="?state=failed&amp;older={older}"' in response.content.decode()
    second = client.get(reverse("topups:history", kwargs=A), {"state": "failed", "older": older})
    assert len(second.context["page"].object_list) == 5
    assert 1234 not in amounts(second)


@pytest.mark.parametrize("all_accounts", [False, True], ids=["one account", "all accounts"])
def test_pages_walk_older_and_back_newer_without_losing_or_repeating_a_row(
    client, admin_user, make_topup, account, other_account, all_accounts
):
    Membership.objects.create(user=admin_user, account=other_account, role="admin")
    # 60 rows, ten of them sharing one instant: the id breaks the tie. Across accounts, the
    # accounts take turns.
    now = timezone.now()
    tied = now - timedelta(hours=1)
    rows = [
        make_topup(
            account=other_account if all_accounts and index % 2 else account,
            created_at=tied if index % 6 == 0 else now - timedelta(minutes=index),
        )
        for index in range(60)
    ]
    newest_first = sorted(rows, key=lambda t: (t.created_at, t.pk), reverse=True)
    client.force_login(admin_user)
    url = reverse("topups:history_all") if all_accounts else reverse("topups:history", kwargs=A)

    pages, params = [], {}
    while True:
        page = client.get(url, params).context["page"]
        pages.append(page)
        if not page.older:
            break
        params = {"older": page.older}

    assert [t.pk for p in pages for t in p.object_list] == [t.pk for t in newest_first]
    assert [len(p.object_list) for p in pages] == [25, 25, 10]
    assert pages[0].newer is None
    back = client.get(url, {"newer": pages[2].newer}).context["page"]
    assert [t.pk for t in back.object_list] == [t.pk for t in pages[1].object_list]
    # From the second page, "newer" is the newest page, whole.
    first = client.get(url, {"newer": pages[1].newer}).context["page"]
    assert [t.pk for t in first.object_list] == [t.pk for t in pages[0].object_list]
    assert first.newer is None


@pytest.mark.parametrize("cursor", ["", "junk", "12.x", "99999999999999999999.1", "1.1"])
def test_a_cursor_that_leads_nowhere_shows_the_newest_page(client, admin_user, make_topup, cursor):
    make_topup(amount_cents=1111)
    client.force_login(admin_user)

    response = client.get(reverse("topups:history", kwargs=A), {"older": cursor})

    assert response.status_code == 200
    assert amounts(response) == [1111]


def test_a_history_page_costs_the_same_few_queries_however_many_rows(
    client, admin_user, make_topup, django_assert_num_queries
):
    for _ in range(30):
        make_topup()
    client.force_login(admin_user)
    url = reverse("topups:history", kwargs=A)
    older = client.get(url).context["page"].older

    # session, user, memberships (access, switcher, navigation), creators, one page of rows
    with django_assert_num_queries(5):
        client.get(url)
    with django_assert_num_queries(5):
        client.get(url, {"older": older})
    with django_assert_num_queries(5):
        client.get(reverse("topups:history_all"), {"older": older})


# --- the live request ------------------------------------------------------------------------


def live(client, *topups, account_id=DEMO_ACCOUNT_ID):
    rows = ",".join(f"{t.pk}:{t.state}" for t in topups)
    url = reverse("topups:history_live", kwargs={"account_id": account_id})
    return client.get(url, {"rows": rows})


@pytest.fixture
def paid(account, make_topup, sandbox, sandbox_settings):
    """A top-up paid with a card, still `processing` on our side."""
    created = client_for_account(account).topups.create(DEMO_ACCOUNT_ID, amount_cents=5000)
    pay_with_card(sandbox, created.client_secret)
    return make_topup(state=TopUpState.PROCESSING, payment_intent_id=created.payment_intent_id)


@pytest.mark.django_db(transaction=True)  # the rows are refreshed in threads of their own
def test_live_answers_only_the_rows_that_changed_as_html(client, admin_user, make_topup, paid):
    waiting = make_topup(amount_cents=2500, state=TopUpState.CREATING)
    client.force_login(admin_user)

    data = live(client, paid, waiting).json()

    assert list(data["rows"]) == [str(paid.pk)]
    assert 'data-state="completed"' in data["rows"][str(paid.pk)]
    assert data["live"] == [waiting.pk]
    paid.refresh_from_db()
    assert paid.state == TopUpState.COMPLETED


def test_live_asks_cloudflare_once_per_interval_however_often_it_is_asked(
    client, admin_user, paid, sandbox
):
    sandbox.configure(settle_seconds=60)
    client.force_login(admin_user)
    for _ in range(5):
        assert live(client, paid).json()["rows"] == {}
    assert len(sandbox.requests("status")) == 1


def test_a_row_cloudflare_does_not_know_needs_attention(
    client, admin_user, make_topup, sandbox_settings, sandbox
):
    lost = make_topup(state=TopUpState.PROCESSING, payment_intent_id="in_gone")
    client.force_login(admin_user)

    data = live(client, lost).json()

    assert "Needs attention" in data["rows"][str(lost.pk)]
    assert data["live"] == []
    lost.refresh_from_db()
    assert (lost.state, lost.stale_reason) == (
        TopUpState.STALE,
        "Cloudflare no longer knows this top-up's id.",
    )


def test_a_row_pending_too_long_needs_attention_without_asking_cloudflare(
    client, admin_user, make_topup, sandbox, sandbox_settings
):
    sandbox_settings.TOPUP_STALE_AFTER_MINUTES = 30
    old = make_topup(state=TopUpState.AWAITING_PAYMENT, payment_intent_id="in_1")
    TopUp.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=31))
    client.force_login(admin_user)

    data = live(client, old).json()

    assert data["live"] == []
    old.refresh_from_db()
    assert (old.state, old.stale_reason) == ("stale", "Still pending after 30 minutes.")
    assert sandbox.requests("status") == []


def test_live_refuses_another_tenants_rows_and_bad_input(
    client, admin_user, make_topup, other_account
):
    foreign = make_topup(account=other_account, state=TopUpState.PROCESSING)
    client.force_login(admin_user)
    assert live(client, foreign).status_code == 404
    url = reverse("topups:history_live_all")
    assert client.get(url, {"rows": f"{foreign.pk}:processing"}).status_code == 404
    assert client.get(url, {"rows": "x:processing"}).status_code == 400
    assert client.get(url, {"rows": ""}).status_code == 400
