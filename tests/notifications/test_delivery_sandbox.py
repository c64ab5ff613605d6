"""Delivery over real HTTP to the sandbox's receivers, as `make run` shows it: the demo's seeded
channels, a signed `balance.low` that verifies, a receiver answering 500 that gets the same
event again on a later pass; and send_notifications as cron and the worker run it."""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import CloudflareAccount
from notifications.delivery import deliveries_send_due
from notifications.events import EventType
from notifications.models import Channel, Delivery
from notifications.services import notify
from tests.conftest import DEMO_ACCOUNT_ID
from tests.sandbox_process import ROOT
from tests.test_cron import migrated  # noqa: F401 - the fixture: a migrated database to copy

pytestmark = pytest.mark.django_db
DEMO_SECRET = "whsec_sandbox_demo"


@pytest.fixture
def demo_channels(sandbox, sandbox_settings):
    """The demo's seed, pointed at this run's sandbox."""
    sandbox_settings.SANDBOX_URL = sandbox.url
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo_notifications", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return CloudflareAccount.objects.get(account_id=DEMO_ACCOUNT_ID)


def received(sandbox, receiver="webhooks"):
    return sandbox.control("GET", receiver)["received"]


def balance_low(account):
    return notify(
        account=account,
        type=EventType.BALANCE_LOW,
        key="balance.low:demo",
        data={"balance_cents": 1250, "threshold_cents": 2500},
    )


def verify(record, secret: str, tolerance: int = 300) -> dict:
    """What the README tells receivers to do, written here from the spec."""
    fields = dict(p.split("=", 1) for p in record["headers"]["Billing-Signature"].split(","))
    signed = f"{fields['t']}.{record['body']}".encode()
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"]), "the signature verifies"
    assert abs(time.time() - int(fields["t"])) <= tolerance
    return json.loads(record["body"])


def test_a_balance_low_reaches_the_demo_webhook_slack_and_email(demo_channels, sandbox):
    notification = balance_low(demo_channels)

    summary = deliveries_send_due()

    assert summary.delivered == 3
    (record,) = received(sandbox)
    event = verify(record, DEMO_SECRET)
    assert event == {
        "id": notification.event_id,
        "type": "balance.low",
        "created": int(notification.created_at.timestamp()),
        "account_id": DEMO_ACCOUNT_ID,
        "data": {"balance_cents": 1250, "threshold_cents": 2500},
    }
    assert record["headers"]["Billing-Event-Id"] == notification.event_id
    (message,) = received(sandbox, "slack")
    assert message["json"]["blocks"][0]["text"]["text"].endswith("running low ($12.50)")
    (email,) = mail.outbox
    assert sorted(email.to) == ["admin@example.com", "finance@example.com"]


def readme_verify():
    """The verification snippet of the README's Notifications section, as a receiver copies it."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Notifications\n") :]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - our own README's code
    return namespace["verify"]


def test_the_readme_s_snippet_verifies_a_delivery_and_refuses_a_forgery(demo_channels, sandbox):
    balance_low(demo_channels)
    deliveries_send_due()
    (record,) = received(sandbox)
    verify_as_readme = readme_verify()
    raw, header = record["body"].encode(), record["headers"]["Billing-Signature"]

    assert verify_as_readme(raw, header, DEMO_SECRET) is True
    assert verify_as_readme(raw, header, "whsec_someone_else") is False
    assert verify_as_readme(raw.replace(b"1250", b"9250"), header, DEMO_SECRET) is False
    hour_ago = str(int(time.time()) - 3600)  # signed right, but an hour ago: a replay
    replayed = hmac.new(DEMO_SECRET.encode(), f"{hour_ago}.".encode() + raw, hashlib.sha256)
    assert verify_as_readme(raw, f"t={hour_ago},v1={replayed.hexdigest()}", DEMO_SECRET) is False
    now = header.split(",")[0]
    for crafted in ("", "v1=abc", "t=,v1=", "t=x,v1=y", now, f"{now},v1=\u00e9", "t=\u0661"):
        assert verify_as_readme(raw, crafted, DEMO_SECRET) is False


def test_a_signature_made_with_another_secret_does_not_verify(demo_channels, sandbox):
    balance_low(demo_channels)
    deliveries_send_due()

    with pytest.raises(AssertionError, match="the signature verifies"):
        verify(received(sandbox)[0], "whsec_someone_else")


def test_a_receiver_answering_500_gets_the_same_event_again_on_a_later_pass(demo_channels, sandbox):
    Channel.objects.exclude(kind=Channel.Kind.WEBHOOK).update(is_active=False)
    sandbox.control("POST", "webhooks/fail", {"next": 1})
    notification = balance_low(demo_channels)

    first = deliveries_send_due()
    delivery = Delivery.objects.get(channel__kind=Channel.Kind.WEBHOOK)
    assert (first.retrying, delivery.last_status_code) == (1, 500)
    assert delivery.last_error == "The receiver answered 500."
    assert deliveries_send_due().attempted == 0  # not due for a minute
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.last_attempt_at)
    second = deliveries_send_due()

    assert second.delivered == 1
    records = received(sandbox)
    assert [r["answered"] for r in records] == [500, 200]
    assert {r["headers"]["Billing-Event-Id"] for r in records} == {notification.event_id}
    assert {verify(r, DEMO_SECRET)["id"] for r in records} == {notification.event_id}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert delivery.last_error == ""


def test_seeding_twice_converges(demo_channels, sandbox):
    call_command("seed_demo_notifications", stdout=open(os.devnull, "w"))  # noqa: SIM115

    kinds = sorted(demo_channels.notification_channels.values_list("kind", flat=True))
    assert kinds == ["email", "slack", "webhook"]


def test_seeding_refuses_outside_sandbox_mode(settings):
    settings.BILLING_SANDBOX = False

    with pytest.raises(CommandError, match="outside sandbox mode"):
        call_command("seed_demo_notifications")


def test_one_pass_prints_its_summary(demo_channels, sandbox, capsys):
    balance_low(demo_channels)

    call_command("send_notifications")

    out = capsys.readouterr().out
    assert "3 delivery attempt(s): 3 delivered, 0 to be tried again, 0 given up." in out


# --- as cron and the worker run it: a process of its own ----------------------------------------


def manage(database, *args, **popen):
    environment = {
        "PATH": os.environ["PATH"],
        "BILLING_SANDBOX": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def test_a_pass_the_database_cannot_run_exits_1_saying_why(tmp_path):
    run = manage(tmp_path / "empty.sqlite3", "send_notifications")  # no tables: no pass
    out, err = run.communicate(timeout=60)

    assert run.returncode == 1, (out, err)
    assert err.strip().splitlines()[-1] == (
        "CommandError: The database could not be read or written, so nothing was sent; the next "
        "run tries again."
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_stops_cleanly_on_sigterm_and_sigint(migrated, tmp_path, stop):  # noqa: F811
    database = tmp_path / "db.sqlite3"
    database.write_bytes(migrated.read_bytes())
    worker = manage(database, "send_notifications", "--loop", "--interval", "0.2")
    assert worker.stdout.readline().startswith("Sending notifications every 0.2 s")
    time.sleep(0.5)  # a few passes

    worker.send_signal(stop)
    out, err = worker.communicate(timeout=30)

    assert worker.returncode == 0, err
    assert out.strip().endswith("Stopped.")
    assert err == ""
