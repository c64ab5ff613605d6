"""The soak's simulated team, run by Locust (`python -m soak` starts it headless in a subprocess):
four admins topping up through the real HTTP flow, six viewers on the history and the overview,
two finance members on the desk, reconciliation and the export.

Each user acts as the browser does: it signs in with the form, follows the pages' links, pays
through the sandbox's Stripe.js stand-in and polls at the pace of the pages' scripts
(static/js/poll.js). Configuration comes from the JSON file named by SOAK_CONFIG; what Locust's
own statistics do not hold (each top-up's timeline, every 5xx) is written to SOAK_RESULTS when
the run stops.
"""

import itertools
import json
import os
import random
import re
import time
from pathlib import Path

import gevent
import requests
from locust import HttpUser, between, events, task
from locust.clients import HttpSession

CONFIG = json.loads(Path(os.environ["SOAK_CONFIG"]).read_text())
SANDBOX, LOCALSTRIPE = CONFIG["sandbox_url"], CONFIG["localstripe_url"]
PUBLISHABLE_KEY = "pk_test_sandbox"
# Dollars as typed into the amount page: presets and a few amounts with cents.
AMOUNTS = ("10", "25", "50", "100", "12.50", "37.25")
DOUBLE_POST_SHARE = 0.15
# A browser tab left open longer than this on one top-up is given up on (and reported).
COMPLETION_PATIENCE_S = 240
# Finance's "Reconcile now" reads every invoice page: a person clicks it now and then.
RECONCILE_NOW_EVERY_S = 120

RNG = random.Random()  # noqa: S311 - shapes the load, guards nothing
TOPUPS: list[dict] = []  # one timeline per top-up started
SERVER_ERRORS: list[dict] = []  # every 5xx or dropped connection seen by any user
SIGN_INS: list[float] = []  # seconds each POST of the sign-in form took

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="(amount_cents|request_key)" value="([^"]+)"')
PAYMENT_CONFIG = re.compile(r'<script id="payment-config" type="application/json">(.*?)</script>')
PAY_MODE = re.compile(r'data-mode="(saved_card|new_card)"')
DETAIL_STATE = re.compile(r'id="topup-status"[^>]*data-state="([a-z_]+)"')
LIVE_ROW = re.compile(
    r'<tr id="topup-row-\d+" data-topup="(\d+)" data-state="([a-z_]+)"[^>]*data-live'
)
TOPUP_URL = re.compile(r"/accounts/(\w+)/topups/(\d+)/(pay/)?$")


@events.request.add_listener
def count_server_errors_and_sign_ins(name, response_time, response, exception, **kwargs):
    if name == "sign-in":
        SIGN_INS.append(response_time / 1000)
    status = getattr(response, "status_code", 0) or 0
    if status >= 500 or (exception is not None and status == 0):
        SERVER_ERRORS.append({"name": name, "status": status, "error": str(exception)[:200]})


@events.test_stop.add_listener
def write_results(environment, **kwargs):
    stats = [
        {
            "name": entry.name,
            "method": entry.method,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "max_ms": entry.max_response_time,
        }
        for entry in sorted(environment.stats.entries.values(), key=lambda e: e.name)
    ]
    failures = [
        {"name": error.name, "error": str(error.error)[:200], "occurrences": error.occurrences}
        for error in environment.stats.errors.values()
    ]
    with open(os.environ["SOAK_RESULTS"], "w") as results:
        json.dump(
            {
                "stats": stats,
                "failures": failures,
                "topups": TOPUPS,
                "server_errors": SERVER_ERRORS,
                "sign_ins": SIGN_INS,
                "patience_s": COMPLETION_PATIENCE_S,
            },
            results,
        )


class Member(HttpUser):
    """A member of both accounts, signed in with the form as a person would be."""

    abstract = True
    role = ""
    wait_time = between(1, 3)
    _numbers: dict[str, itertools.count] = {}

    def on_start(self):
        number = next(Member._numbers.setdefault(self.role, itertools.count()))
        self.username = CONFIG["users"][self.role][number]
        self.sign_in()

    def sign_in(self):
        page = self.client.get("/login/", name="sign-in page")
        form = {
            "csrfmiddlewaretoken": csrf_of(page.text),
            "username": self.username,
            "password": CONFIG["password"],
        }
        with self.client.post(
            "/login/", form, name="sign-in", allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in answered {answer.status_code}")

    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def account(self) -> str:
        return RNG.choice(CONFIG["accounts"])["id"]


def csrf_of(html: str) -> str:
    match = CSRF_INPUT.search(html)
    return match.group(1) if match else ""


class Admin(Member):
    """Tops up continuously: amount → review → confirm (now and then twice with the same form)
    → pay → the top-up's page, polling its status until Cloudflare's word is final."""

    role = "admin"
    fixed_count = 4

    @task
    def top_up(self):
        account = RNG.choice(CONFIG["accounts"])
        amount = RNG.choice(AMOUNTS)
        self.client.get(f"/accounts/{account['id']}/topup/", name="amount page")
        review = self.client.get(
            f"/accounts/{account['id']}/topup/review/", params={"amount": amount}, name="review"
        )
        fields = dict(HIDDEN.findall(review.text))
        if review.status_code != 200 or len(fields) != 2:
            return
        form = {"csrfmiddlewaretoken": csrf_of(review.text), **fields}
        record = {
            "account": account["id"],
            "request_key": fields["request_key"],
            "amount_cents": int(fields["amount_cents"]),
            "double_post": RNG.random() < DOUBLE_POST_SHARE,
            "path": "",
            "pks": [],
            "outcome": "",
            "pay_attempts": 0,
        }
        TOPUPS.append(record)
        confirm_url = f"/accounts/{account['id']}/topup/confirm/"
        if record["double_post"]:
            answers = self.post_twice(confirm_url, form)
        else:
            answers = [self.client.post(confirm_url, form, name="confirm", allow_redirects=False)]
        record["answered_at"] = time.time()
        targets = [TOPUP_URL.search(a.headers.get("Location", "")) for a in answers]
        record["pks"] = sorted({int(t.group(2)) for t in targets if t})
        if not targets or not targets[-1]:
            record["outcome"] = "refused"  # back on the amount page, with a message
            return
        base = f"/accounts/{account['id']}/topups/{targets[-1].group(2)}/"
        if targets[-1].group(3):
            return self.pay(record, base, account)
        page = self.client.get(base, name="top-up page")
        shown = DETAIL_STATE.search(page.text)
        self.follow(record, base, account, shown.group(1) if shown else "")

    def post_twice(self, url: str, form: dict) -> list:
        """The same form sent twice: back and resubmit, or a double click (both at once)."""
        if RNG.random() < 0.5:
            return [
                self.client.post(url, form, name="confirm", allow_redirects=False),
                self.client.post(url, form, name="confirm (again)", allow_redirects=False),
            ]
        twin = HttpSession(self.host, self.environment.events.request, self)
        twin.cookies.update(self.client.cookies)
        posts = [
            gevent.spawn(session.post, url, form, name=name, allow_redirects=False)
            for session, name in ((self.client, "confirm"), (twin, "confirm (again)"))
        ]
        gevent.joinall(posts)
        return [post.value for post in posts if post.value is not None]

    def pay(self, record: dict, base: str, account: dict) -> None:
        """The pay page: Stripe.js (the sandbox's stand-in) confirms the payment, 3-D Secure
        included, then the page tells the server, which asks Cloudflare."""
        record["pay_attempts"] += 1
        page = self.client.get(base + "pay/", name="pay page", allow_redirects=False)
        config = PAYMENT_CONFIG.search(page.text)
        if page.status_code != 200 or not config or record["pay_attempts"] > 2:
            return self.follow(record, base, account, "")
        client_secret = json.loads(config.group(1))["clientSecret"]
        mode = PAY_MODE.search(page.text).group(1)
        record["path"] = f"browser, {mode.replace('_', ' ')}"
        card = None if mode == "saved_card" else account["card"]
        try:
            record["stripe_status"] = confirm_in_browser(client_secret, card)
        except (requests.RequestException, ValueError, KeyError) as exc:
            record["outcome"] = f"the soak could not pay: {exc}"[:200]
            return
        record["confirmed_at"] = time.time()
        with self.client.post(
            base + "paid/",
            {"stripe_status": record["stripe_status"]},
            headers={"X-CSRFToken": self.csrf()},
            name="paid",
            catch_response=True,
        ) as answer:
            state = answer.json().get("state", "") if answer.status_code == 200 else ""
        self.note_state(record, state)
        page = self.client.get(base, name="top-up page")
        shown = DETAIL_STATE.search(page.text)
        self.follow(record, base, account, shown.group(1) if shown else state)

    def follow(self, record: dict, base: str, account: dict, state: str) -> None:
        """Poll the status as topup-status.js does: 1 s, growing by 1.6 up to 4 s while nothing
        changes, at least 4 s while Cloudflare is slow, back to 1 s on a change."""
        delay, started = 1.0, time.time()
        while True:
            self.note_state(record, state)
            if record["outcome"]:
                return
            if "confirmed_at" not in record:
                if state == "awaiting_payment" and record["pay_attempts"] < 2:
                    return self.pay(record, base, account)  # the payer is asked to pay
                if state == "processing":  # charged to the saved card when the form was posted
                    record["path"] = "saved card, charged by Cloudflare"
                    record["confirmed_at"] = record["answered_at"]
            if time.time() - started > COMPLETION_PATIENCE_S:
                record["outcome"] = f"still {state or 'unseen'} after {COMPLETION_PATIENCE_S} s"
                return
            time.sleep(delay)
            with self.client.get(base + "status/", name="top-up status", catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"status answered {r.status_code}")
                    continue
                data = r.json()
            changed, state = data["state"] != state, data["state"]
            if data["final"] and not record["outcome"]:
                record["outcome"] = state
            delay = 1.0 if changed else min(delay * 1.6, 4.0)
            if data.get("delayed"):
                delay = max(delay, 4.0)

    @staticmethod
    def note_state(record: dict, state: str) -> None:
        if state == "completed" and "completed_at" not in record:
            record["completed_at"] = time.time()
        if state in ("completed", "failed", "unknown", "stale"):
            record["outcome"] = state


def confirm_in_browser(client_secret: str, card: dict | None) -> str:
    """What the stand-in's confirmPayment / confirmCardPayment do, 3-D Secure completed."""
    session = requests.Session()
    body = {"key": PUBLISHABLE_KEY, "client_secret": client_secret}
    if card is not None:
        body["card"] = card
    intent = session.post(f"{SANDBOX}/__sandbox/stripe/confirm", json=body, timeout=30).json()
    if intent.get("status") == "requires_action":
        # The payment may have moved to a new PaymentIntent (sandbox/payments.py): its secret.
        secret = {"key": PUBLISHABLE_KEY, "client_secret": intent["client_secret"]}
        session.post(
            f"{LOCALSTRIPE}/v1/payment_intents/{intent['id']}/_authenticate",
            data={**secret, "success": "true"},
            timeout=30,
        ).raise_for_status()
        intent = session.post(
            f"{SANDBOX}/__sandbox/stripe/authenticated", json=secret, timeout=30
        ).json()
    return intent.get("status") or json.dumps(intent)[:100]


class Viewer(Member):
    """Reads the history (staying a while as its live rows refresh) and the overview."""

    role = "viewer"
    fixed_count = 6

    @task(3)
    def history(self):
        account = self.account()
        page = self.client.get(f"/accounts/{account}/topups/", name="history")
        self.watch(f"/accounts/{account}/topups/live/", dict(LIVE_ROW.findall(page.text)))

    @task(1)
    def history_of_every_account(self):
        page = self.client.get("/topups/", name="history, every account")
        self.watch("/topups/live/", dict(LIVE_ROW.findall(page.text)))

    @task(2)
    def overview(self):
        self.client.get(f"/accounts/{self.account()}/", name="overview")

    @task(1)
    def sign_in_again(self):
        self.client.post(
            "/logout/",
            {"csrfmiddlewaretoken": self.csrf()},
            name="sign out",
            allow_redirects=False,
        )
        self.sign_in()

    def watch(self, live_url: str, shown: dict, stay_s: float = 20.0) -> None:
        """history-live.js: one request for every unfinished row, 2 s then growing by 1.5."""
        delay, until = 2.0, time.time() + stay_s
        while shown and time.time() + delay < until:
            time.sleep(delay)
            rows = ",".join(f"{pk}:{state}" for pk, state in shown.items())
            answer = self.client.get(live_url, params={"rows": rows}, name="history live")
            if answer.status_code != 200:
                return
            data = answer.json()
            for pk, html in data["rows"].items():
                state = re.search(r'data-state="([a-z_]+)"', html)
                shown[pk] = state.group(1) if state else shown[pk]
            shown = {pk: state for pk, state in shown.items() if int(pk) in data["live"]}
            delay = 2.0 if data["rows"] else min(delay * 1.5, 30.0)


class Finance(Member):
    """The desk (by kind), reconciliation, the CSV export, and now and then Reconcile now."""

    role = "finance"
    fixed_count = 2
    reconciled_at = 0.0

    @task(3)
    def desk(self):
        kind = RNG.choice(("attention", "unknown", "all"))
        self.client.get("/finance/", params={"kind": kind}, name="finance desk")

    @task(2)
    def reconciliation(self):
        self.client.get("/finance/reconciliation/", name="reconciliation")
        if time.time() - self.reconciled_at > RECONCILE_NOW_EVERY_S and RNG.random() < 0.3:
            self.reconciled_at = time.time()
            self.client.post(
                "/finance/reconciliation/run/",
                {"csrfmiddlewaretoken": self.csrf()},
                name="reconcile now",
            )

    @task(1)
    def export(self):
        self.client.get("/finance/export/", params={"kind": "all"}, name="CSV export")
