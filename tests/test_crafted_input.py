"""Crafted input: every id or cursor a URL, query string or form carries, at sizes no page ever
sends. An id the database cannot hold is a clean 404 in a path, a 400 in a query or form, and
never a 500 (Python refuses int() of more than 4,300 digits, SQLite's driver a number past 64
bits). And `/healthz` answers a load balancer that probes by IP address."""

import pytest
from django.urls import Resolver404, URLResolver, get_resolver, resolve, reverse
from django.urls.converters import IntConverter

from finance.user_messages import BULK_NOTHING_SELECTED
from tests.conftest import DEMO_ACCOUNT_ID
from topups.states import TopUpState

pytestmark = pytest.mark.django_db

CRAFTED = {
    "20 digits": "9" * 20,
    "2**63": str(2**63),
    "4,400 digits": "9" * 4400,
    "negative": "-1",
    "zero": "0",
    "not a number": "7x",
    "non-ASCII digits": "\u0661\u0662",  # Arabic-Indic 12: str.isdecimal() says yes
}

A = {"account_id": DEMO_ACCOUNT_ID}
T = {**A, "pk": 1}
# (who, method, URL of top-up 1): top-up 1 becomes the crafted id.
PATH_IDS = {
    "detail": ("admin", "get", reverse("topups:detail", kwargs=T)),
    "status": ("admin", "get", reverse("topups:status", kwargs=T)),
    "pay": ("admin", "get", reverse("topups:pay", kwargs=T)),
    "paid": ("admin", "post", reverse("topups:paid", kwargs=T)),
    "return": ("admin", "get", reverse("topups:return", kwargs=T)),
    "fin_confirm": ("finance", "post", reverse("finance:confirm", kwargs=T)),
    "resolve": ("finance", "get", reverse("finance:resolve", kwargs=T)),
    "resolve_post": ("finance", "post", reverse("finance:resolve", kwargs=T)),
}
C = {**A, "pk": 1}
# (method, URL of channel or threshold 1): its id becomes the crafted one.
NOTIFICATION_PATH_IDS = {
    "channel_test": ("post", reverse("notifications:channel_test", kwargs=C)),
    "channel_remove": ("post", reverse("notifications:channel_remove", kwargs=C)),
    "deliveries": ("get", reverse("notifications:deliveries", kwargs=C)),
    "threshold_remove": ("post", reverse("notifications:threshold_remove", kwargs=C)),
}
LIVE = {
    "live": reverse("topups:history_live", kwargs=A),
    "live_all": reverse("topups:history_live_all"),
}

# (who, URL, query): lists paged by a keyset cursor.
PAGED = {
    "history": ("admin", reverse("topups:history", kwargs=A), {}),
    "history_all": ("admin", reverse("topups:history_all"), {}),
    "desk": ("finance", reverse("finance:desk"), {"kind": "all"}),
}

# (who, URL, parameter): filters that take no id, but text the database compares.
FILTERS = {
    "desk_account": ("finance", reverse("finance:desk"), "account"),
    "export_account": ("finance", reverse("finance:export"), "account"),
    "history_creator": ("admin", reverse("topups:history", kwargs=A), "creator"),
}


@pytest.fixture
def people(admin_user, finance_user):
    return {"admin": admin_user, "finance": finance_user}


@pytest.fixture
def topup(make_topup):
    return make_topup()


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
@pytest.mark.parametrize("name", list(PATH_IDS))
def test_a_crafted_id_in_the_path_is_not_found(client, people, name, value):
    who, method, url = PATH_IDS[name]
    client.force_login(people[who])
    crafted = url.replace("/topups/1/", f"/topups/{value}/")

    assert getattr(client, method)(crafted).status_code == 404


@pytest.mark.parametrize("account_id", ["f" * 33, "f" * 4400, "9" * 20, "-1"])
def test_a_crafted_account_id_in_the_path_is_not_found(client, people, account_id):
    """Account ids are text (32 hex digits), compared as text: no size overflows anything."""
    client.force_login(people["admin"])
    for name in ("accounts:overview", "topups:history", "topups:amount", "notifications:settings"):
        url = reverse(name, kwargs=A).replace(DEMO_ACCOUNT_ID, account_id)

        assert client.get(url).status_code == 404, name


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
@pytest.mark.parametrize("name", list(NOTIFICATION_PATH_IDS))
def test_a_crafted_channel_or_threshold_id_is_not_found(client, people, name, value):
    method, url = NOTIFICATION_PATH_IDS[name]
    client.force_login(people["admin"])
    crafted = url.replace("/1/", f"/{value}/")

    assert getattr(client, method)(crafted).status_code == 404


@pytest.mark.parametrize("name", list(PATH_IDS))
def test_an_id_past_18_digits_matches_no_url_so_never_reaches_the_database(name):
    _, _, url = PATH_IDS[name]
    with pytest.raises(Resolver404):
        resolve(url.replace("/topups/1/", f"/topups/{'9' * 19}/"))
    assert resolve(url.replace("/topups/1/", f"/topups/{'9' * 18}/")).kwargs["pk"] == 10**18 - 1


def url_patterns(resolver):
    for pattern in resolver.url_patterns:
        yield pattern
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern)


def test_no_url_takes_an_unbounded_int():
    unbounded = [
        str(pattern.pattern)
        for pattern in url_patterns(get_resolver())
        for converter in getattr(pattern.pattern, "converters", {}).values()
        if isinstance(converter, IntConverter)
    ]
    assert unbounded == []


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
@pytest.mark.parametrize("name", list(LIVE))
def test_a_crafted_id_in_the_live_rows_is_a_bad_request(client, admin_user, topup, name, value):
    client.force_login(admin_user)
    alone = client.get(LIVE[name], {"rows": f"{value}:{TopUpState.PROCESSING}"})
    beside_a_real_one = client.get(
        LIVE[name], {"rows": f"{topup.pk}:{topup.state},{value}:{TopUpState.PROCESSING}"}
    )

    assert (alone.status_code, beside_a_real_one.status_code) == (400, 400)


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
@pytest.mark.parametrize("name", list(PAGED))
def test_a_crafted_cursor_shows_the_newest_page(client, people, topup, name, value):
    """As any cursor that leads nowhere does (billing_portal/pagination.py)."""
    who, url, query = PAGED[name]
    client.force_login(people[who])
    for cursor in (f"1700000000000000.{value}", f"{value}.{topup.pk}"):
        for direction in ("older", "newer"):
            response = client.get(url, {**query, direction: cursor})

            assert response.status_code == 200, (cursor[:40], direction)
            assert list(response.context["page"].object_list) == [topup]


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
def test_a_crafted_id_in_bulk_confirm_is_a_bad_request(client, finance_user, topup, value):
    client.force_login(finance_user)
    alone = client.post(reverse("finance:confirm_many"), {"topup": [value]})
    beside_a_real_one = client.post(reverse("finance:confirm_many"), {"topup": [topup.pk, value]})

    assert (alone.status_code, beside_a_real_one.status_code) == (400, 400)
    assert "That request was not understood" in alone.content.decode()  # a finished page
    assert not topup.events.exists()  # nothing was tried


def test_bulk_confirm_with_nothing_ticked_still_says_so(client, finance_user):
    client.force_login(finance_user)

    response = client.post(reverse("finance:confirm_many"), follow=True)

    assert response.redirect_chain == [(reverse("finance:desk"), 302)]
    assert [str(m) for m in response.context["messages"]] == [BULK_NOTHING_SELECTED]


@pytest.mark.parametrize("value", list(CRAFTED.values()), ids=list(CRAFTED))
@pytest.mark.parametrize("name", list(FILTERS))
def test_a_crafted_filter_value_is_ignored(client, people, account, name, value):
    """These filters take an account id or a username, not a number: a crafted one is an invalid
    choice of the filter form, which then filters nothing."""
    who, url, parameter = FILTERS[name]
    client.force_login(people[who])

    response = client.get(url, {parameter: value})

    assert response.status_code == 200


# --- /healthz behind a load balancer -------------------------------------------------------------

PROBE = "10.0.0.5"


def test_healthz_answers_whatever_the_host_header(client):
    for host in (PROBE, f"{PROBE}:8000", "[fd00::5]", "not a host!"):
        response = client.get("/healthz", HTTP_HOST=host)

        assert response.status_code == 200, host
        assert response.json() == {"status": "ok", "database": "ok"}


def test_any_other_path_still_refuses_a_host_not_allowed(client, admin_user):
    client.force_login(admin_user)
    for path in ("/accounts/", "/login/", reverse("accounts:overview", kwargs=A), "/healthz/x"):
        assert client.get(path, HTTP_HOST=PROBE).status_code == 400, path


def test_healthz_answers_a_plain_http_probe_by_ip_under_production_settings(client, settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["billing.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True

    probe = client.get("/healthz", HTTP_HOST=PROBE)
    assert probe.status_code == 200
    assert probe.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in probe["Cache-Control"]
    assert client.get("/login/", HTTP_HOST=PROBE).status_code == 400
    redirected = client.get("/login/", HTTP_HOST="billing.example.com")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://billing.example.com/login/"
