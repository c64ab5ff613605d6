"""The data of `make bench-postgres`: a tenant of accounts with its people and a realistic mix of
top-ups, written with PostgreSQL's COPY (1,000,000 rows in one to four minutes on a shared two-core
machine). Imported by bench/postgres.py once Django is set up.

Two years of top-ups, evenly spread, one account holding `largest_rows` of them: most completed
and confirmed by finance, some refused (nothing charged), a few recorded from Cloudflare's
invoices, the newest still moving, and `attention` rows of the desk's kinds spread over time.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from accounts.models import CloudflareAccount, Membership
from topups.models import NEEDS_ATTENTION, TopUp
from topups.states import TopUpState

COLUMNS = (
    "account_id",
    "amount_cents",
    "currency",
    "origin",
    "created_by_id",
    "request_key",
    "state",
    "payment_intent_id",
    "client_secret",
    "card_brand",
    "card_last4",
    "create_outcome",
    "error_code",
    "error_message",
    "created_at",
    "updated_at",
    "status_problem",
    "completed_at",
    "stale_reason",
    "invoice_status",
    "recorded_by_id",
    "confirmed_by_id",
    "confirmed_at",
    "resolved_by_id",
    "resolved_at",
    "resolution_note",
)
ATTENTION_KINDS = tuple(NEEDS_ATTENTION)  # finance.selectors lists the same kinds
CREATORS_PER_ACCOUNT = 3
SPAN = timedelta(days=730)


@dataclass
class Tenant:
    reader: object  # admin of every account: the history
    finance: object  # finance member of every account: the desk, the export
    accounts: list[CloudflareAccount]
    largest: CloudflareAccount
    rows: int


@dataclass
class People:
    creators: list
    recorder: object
    finance: object


def seed(*, label: str, rows: int, accounts: int, largest_rows: int, attention: int) -> Tenant:
    """`rows` top-ups over `accounts` accounts named after `label` (which must be unique)."""
    users = get_user_model().objects
    made = CloudflareAccount.objects.bulk_create(
        CloudflareAccount(name=f"{label} {n:02d}", account_id=uuid.uuid4().hex)
        for n in range(accounts)
    )
    names = ["reader", "finance", "recorder"] + [f"member{n:02d}" for n in range(accounts + 2)]
    by_name = {
        u.username.removeprefix(f"{label}-"): u
        for u in users.bulk_create(get_user_model()(username=f"{label}-{n}") for n in names)
    }
    people = People(
        creators=[by_name[f"member{n:02d}"] for n in range(accounts + 2)],
        recorder=by_name["recorder"],
        finance=by_name["finance"],
    )
    Membership.objects.bulk_create(_memberships(made, people, by_name["reader"]))
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {TopUp._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN"
        ) as copy,
    ):
        for row in _rows(made, people, rows=rows, largest_rows=largest_rows, attention=attention):
            copy.write_row(row)
    return Tenant(by_name["reader"], people.finance, made, made[0], rows)


def analyze() -> None:
    """Fresh planner statistics and visibility map, as autovacuum leaves a table in production."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TopUp._meta.db_table}")


def _memberships(accounts, people: People, reader):
    for index, account in enumerate(accounts):
        yield Membership(user=reader, account=account, role=Membership.Role.ADMIN)
        yield Membership(user=people.finance, account=account, role=Membership.Role.FINANCE)
        yield Membership(user=people.recorder, account=account, role=Membership.Role.FINANCE)
        for creator in _creators_of(index, people.creators):
            yield Membership(user=creator, account=account, role=Membership.Role.ADMIN)


def _creators_of(account_index: int, creators: list) -> list:
    return [creators[(account_index + n) % len(creators)] for n in range(CREATORS_PER_ACCOUNT)]


def _rows(accounts, people: People, *, rows: int, largest_rows: int, attention: int):
    """COPY rows, oldest first. Row `i`'s account: the largest one for `largest_rows` of them,
    evenly interleaved, the others in turn; so every account spans the two years."""
    creators = [_creators_of(n, people.creators) for n in range(len(accounts))]
    start, step = timezone.now() - SPAN, SPAN / rows
    every = max(rows // attention, 1)
    live_from = rows - min(20, rows // 100)
    others = 0
    for i in range(rows):
        if (i * largest_rows) // rows != ((i + 1) * largest_rows) // rows:
            index = 0
        else:
            index, others = 1 + others % (len(accounts) - 1), others + 1
        at = start + step * i
        if i >= live_from:
            kind = "live"
        elif i % every == every // 2 and i // every < attention:
            kind = ATTENTION_KINDS[(i // every) % len(ATTENTION_KINDS)]
        else:
            kind = "failed" if i % 100 < 8 else "completed"
        yield _row(accounts[index], creators[index][i % CREATORS_PER_ACCOUNT], people, i, at, kind)


def _row(account, creator, people: People, i: int, at, kind: str) -> tuple:
    """One top-up of `kind` that every constraint of the table accepts."""
    origin = {7: TopUp.Origin.ELSEWHERE, 19: TopUp.Origin.AUTO}.get(i % 50, TopUp.Origin.PORTAL)
    if kind != "completed":
        origin = TopUp.Origin.PORTAL
    portal = origin == TopUp.Origin.PORTAL
    v = {
        "state": TopUpState.COMPLETED,
        "payment_intent_id": f"in_{i:010d}",
        "create_outcome": "made" if portal else "",
        "error_code": None,
        "error_message": "",
        "stale_reason": "",
        "invoice_status": "paid",
        "completed_at": at + timedelta(seconds=40),
        "confirmed": True,
        "resolved": False,
        "note": "",
    }
    v.update(_KINDS[kind](i))
    confirmed_at = at + timedelta(days=1) if v["confirmed"] else None
    resolved_at = at + timedelta(days=2) if v["resolved"] else None
    return (
        account.pk,
        1000 + (i % 40) * 500,
        "usd",
        origin,
        creator.pk if portal else None,
        uuid.uuid4(),
        v["state"],
        v["payment_intent_id"],
        f"pi_{i}_secret_bench" if v["state"] == TopUpState.AWAITING_PAYMENT else "",
        "visa" if portal and v["create_outcome"] == "made" else "",
        "4242" if portal and v["create_outcome"] == "made" else "",
        v["create_outcome"],
        v["error_code"],
        v["error_message"],
        at,
        at + timedelta(days=1),
        "",
        v["completed_at"],
        v["stale_reason"],
        v["invoice_status"],
        None if portal else people.recorder.pk,
        people.finance.pk if v["confirmed"] else None,
        confirmed_at,
        people.finance.pk if v["resolved"] else None,
        resolved_at,
        v["note"],
    )


def _unsettled(state, **more) -> dict:
    return {"state": state, "completed_at": None, "confirmed": False, "invoice_status": "", **more}


# What each kind of row changes from a completed, confirmed top-up (see finance.selectors).
_KINDS = {
    "completed": lambda i: {},
    "failed": lambda i: _unsettled(
        TopUpState.FAILED,
        payment_intent_id=None,
        create_outcome="not_made",
        error_code=1004,
        error_message="Your card was declined.",
    ),
    "live": lambda i: _unsettled((TopUpState.AWAITING_PAYMENT, TopUpState.PROCESSING)[i % 2]),
    "unknown": lambda i: _unsettled(TopUpState.UNKNOWN, payment_intent_id=None, create_outcome=""),
    "stale": lambda i: _unsettled(
        TopUpState.STALE, stale_reason="Still processing a day after it was paid."
    ),
    "failed_after_payment": lambda i: _unsettled(TopUpState.FAILED),
    "not_charged_but_paid": lambda i: _unsettled(
        TopUpState.FAILED,
        invoice_status="paid",
        resolved=True,
        note="No charge on the card statement.",
    ),
    "unconfirmed": lambda i: {"confirmed": False},
}
