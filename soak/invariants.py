"""What must hold after the soak, checked against the sandbox (Cloudflare's side: its request log
and its books, asked directly) and the database (the portal's side). Each broken rule is one line
in `violations`; `figures` holds the counts the report prints."""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import requests
from django.conf import settings
from django.db.models import Q

from topups.models import TopUp, TopUpEvent
from topups.states import LIVE_STATES, TopUpState

# A top-up sent its create when the trail says Cloudflare answered, the answer was lost, or
# Cloudflare refused it over HTTP (a refusal without an HTTP status was never sent).
SENT_CREATE = Q(kind=TopUpEvent.Kind.CREATE_ANSWERED) | Q(
    kind=TopUpEvent.Kind.CREATE_OUTCOME_UNKNOWN
)
REFUSED_OVER_HTTP = Q(kind=TopUpEvent.Kind.CREATE_REFUSED, detail__http_status__isnull=False)
HALF_A_CENT = Decimal("0.5")


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


class CloudflareSide:
    """The sandbox's billing API, asked straight (not through the portal and its budget)."""

    def __init__(self, api_url: str):
        self.api_url = api_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {settings.CLOUDFLARE_API_TOKEN}"

    def _call(self, method: str, account_id: str, path: str, **kwargs) -> requests.Response:
        url = f"{self.api_url}/accounts/{account_id}/ai-gateway/billing/{path}"
        return self.session.request(method, url, timeout=30, **kwargs)

    def invoices(self, account_id: str) -> list[dict]:
        found, page = [], 1
        while True:
            answer = self._call("GET", account_id, "invoice-history", params={"page": page})
            answer.raise_for_status()
            result = answer.json()["result"]
            found += result["invoices"]
            if not result["pagination"]["has_more"]:
                return found
            page += 1

    def knows(self, account_id: str, payment_intent_id: str) -> bool:
        answer = self._call(
            "POST", account_id, "topup/status", json={"payment_intent_id": payment_intent_id}
        )
        if answer.status_code == 404:
            return False
        answer.raise_for_status()
        return True

    def balance(self, account_id: str) -> Decimal:
        answer = self._call("GET", account_id, "credit-balance")
        answer.raise_for_status()
        return Decimal(str(answer.json()["result"]["balance"]))

    def usage_since(self, account_id: str, start: float, now: float) -> Decimal:
        """Usage from `start` to `now`: hourly buckets, the current one pro rata (the sandbox
        spends evenly within an hour)."""
        answer = self._call(
            "GET",
            account_id,
            "usage-history",
            params={
                "value_grouping_window": "hour",
                "start_time": int(start * 1000),
                "end_time": int(now * 1000),
            },
        )
        answer.raise_for_status()
        total = Decimal(0)
        for bucket in answer.json()["result"]["history"]:
            begin, end = bucket["start_time"] / 1000, bucket["end_time"] / 1000
            share = Decimal(str(min(1.0, max(0.0, (now - begin) / (end - begin)))))
            total += Decimal(str(bucket["aggregated_value"])) * share
        return total


def create_calls(log: list[dict], create_faults: list[dict]) -> dict:
    """The create calls in the sandbox's log: answered, answer lost after the work was done
    (an applied fault), or not made. Faults are taken in the order they were injected."""
    creates = [record for record in log if record["endpoint"] == "create"]
    faulted = [record for record in creates if record["fault"]]
    lost = sum(1 for _, fault in zip(faulted, create_faults, strict=False) if fault.get("apply"))
    answered = sum(1 for record in creates if not record["fault"] and record["status"] == 200)
    return {
        "calls": len(creates),
        "answered": answered,
        "answer_lost": lost,
        "not_made": len(creates) - answered - lost,
        "faults_taken": len(faulted),
    }


def check(
    *, cloudflare: CloudflareSide, account_ids, log, create_faults, books_opened_at, now
) -> Findings:
    findings = Findings()
    creates = create_calls(log, create_faults)
    findings.figures["creates"] = creates
    rows = list(TopUp.objects.select_related("account").order_by("pk"))
    portal = [row for row in rows if row.origin == TopUp.Origin.PORTAL]
    sent = _check_creates_match_rows(
        findings, cloudflare, creates=creates, rows=rows, portal=portal
    )
    paid, paid_by_account = _check_paid_invoices(
        findings, cloudflare, account_ids, creates=creates, rows=rows, portal=portal, sent=sent
    )
    _check_states(findings, rows=rows, paid=paid)
    _check_books(findings, cloudflare, account_ids, paid_by_account, books_opened_at, now)
    return findings


def _check_creates_match_rows(findings, cloudflare, *, creates, rows, portal) -> set[int]:
    """Creates <-> rows, one to one. Returns the ids of the top-ups that sent their create."""
    bad = findings.violations.append
    sent = set(
        TopUpEvent.objects.filter(SENT_CREATE | REFUSED_OVER_HTTP, topup__in=portal)
        .values_list("topup_id", flat=True)
        .distinct()
    )
    findings.figures["rows_that_sent_create"] = len(sent)
    if creates["calls"] != len(sent):
        bad(
            f"{creates['calls']} create calls reached Cloudflare but {len(sent)} top-ups "
            "record sending one"
        )
    with_id = [row for row in rows if row.payment_intent_id]
    for payment_intent_id, count in Counter(r.payment_intent_id for r in with_id).items():
        if count > 1:
            bad(f"{count} top-ups carry the id {payment_intent_id}")
    for row in with_id:
        if not cloudflare.knows(row.account.account_id, row.payment_intent_id):
            bad(f"top-up #{row.pk} carries {row.payment_intent_id}, which Cloudflare never made")
    return sent


def _check_paid_invoices(findings, cloudflare, account_ids, *, creates, rows, portal, sent):
    """Every paid invoice belongs to one top-up, or to one whose create answer was lost.
    Returns the paid invoices by id and the sum paid per account."""
    bad = findings.violations.append
    paid: dict[str, dict] = {}
    paid_by_account: dict[str, Decimal] = {}
    carried = {row.payment_intent_id for row in rows if row.payment_intent_id}
    lost_rows = [
        row
        for row in portal
        if not row.payment_intent_id and row.pk in sent and row.state == TopUpState.UNKNOWN
    ]
    matched_to_lost = 0
    for account_id in account_ids:
        for invoice in cloudflare.invoices(account_id):
            if invoice["status"] != "paid":
                continue
            paid[invoice["id"]] = invoice
            amount = Decimal(str(invoice["amount_paid"]))
            paid_by_account[account_id] = paid_by_account.get(account_id, Decimal(0)) + amount
            if invoice["id"] in carried:
                continue
            twin = _lost_twin(lost_rows, account_id, amount)
            if twin is None:
                bad(f"paid invoice {invoice['id']} ({invoice['amount_paid']} ¢) has no top-up")
            else:
                lost_rows.remove(twin)
                matched_to_lost += 1
    if matched_to_lost > creates["answer_lost"]:
        bad(f"{matched_to_lost} paid invoices without a top-up, {creates['answer_lost']} lost")
    findings.figures["paid_invoices"] = len(paid)
    findings.figures["paid_invoices_of_lost_creates"] = matched_to_lost
    return paid, paid_by_account


def _lost_twin(lost_rows, account_id: str, amount: Decimal):
    """The first top-up of this account and amount whose create answer was lost, if any."""
    return next(
        (
            row
            for row in lost_rows
            if row.account.account_id == account_id and Decimal(row.amount_cents) == amount
        ),
        None,
    )


def _check_states(findings, *, rows, paid) -> None:
    """Nothing completed without Cloudflare's word (or a person's), nothing paid left failed."""
    bad = findings.violations.append
    for row in rows:
        by_person = row.resolved_by_id is not None or row.recorded_by_id is not None
        cloudflare_said = row.payment_intent_id in paid
        if row.state == TopUpState.COMPLETED and not (cloudflare_said or by_person):
            bad(f"top-up #{row.pk} is completed but Cloudflare has no paid invoice for it")
        if row.state == TopUpState.FAILED and cloudflare_said:
            bad(f"top-up #{row.pk} is failed but its invoice {row.payment_intent_id} is paid")
        if row.state in LIVE_STATES:
            bad(f"top-up #{row.pk} is still {row.state}")
    findings.figures["states"] = dict(Counter(row.state for row in rows))


def _check_books(findings, cloudflare, account_ids, paid_by_account, books_opened_at, now) -> None:
    """The sandbox's own books: balance = paid invoices - usage, to the cent."""
    for account_id in account_ids:
        balance = cloudflare.balance(account_id)
        paid_in = paid_by_account.get(account_id, Decimal(0))
        usage = cloudflare.usage_since(account_id, books_opened_at, now)
        if abs(balance - (paid_in - usage)) >= HALF_A_CENT:
            findings.violations.append(
                f"{account_id}: balance {balance} ¢ != paid {paid_in} ¢ - usage {usage:.4f} ¢"
            )
        findings.figures.setdefault("balances", {})[account_id] = str(balance)
