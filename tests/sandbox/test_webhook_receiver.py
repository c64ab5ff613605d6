"""The sandbox's notification receivers (sandbox.receivers): what is POSTed is recorded as it
came, listed oldest first, failed on demand for the next N, and forgotten on reset."""

import json

import pytest
import requests


def post(sandbox, receiver, body: bytes, **headers):
    return requests.post(
        f"{sandbox.url}/__sandbox/{receiver}",
        data=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )


def received(sandbox, receiver):
    return sandbox.control("GET", receiver)["received"]


def test_a_webhook_is_recorded_with_its_headers_and_raw_body(sandbox):
    body = b'{"id": "evt_1", "type": "test"}'

    response = post(
        sandbox, "webhooks", body, **{"Billing-Signature": "t=1,v1=ab", "Billing-Event-Id": "evt_1"}
    )

    assert response.status_code == 200
    (record,) = received(sandbox, "webhooks")
    assert record["body"] == body.decode()  # byte for byte: what a signature is computed over
    assert record["json"] == {"id": "evt_1", "type": "test"}
    assert record["headers"]["Billing-Signature"] == "t=1,v1=ab"
    assert record["headers"]["Billing-Event-Id"] == "evt_1"
    assert record["answered"] == 200
    assert record["received_at"].endswith("+00:00")


def test_deliveries_are_listed_newest_last(sandbox):
    for n in range(3):
        post(sandbox, "webhooks", json.dumps({"n": n}).encode())

    assert [r["json"]["n"] for r in received(sandbox, "webhooks")] == [0, 1, 2]


def test_the_next_n_are_answered_500_then_200_again(sandbox):
    sandbox.control("POST", "webhooks/fail", {"next": 2})

    statuses = [post(sandbox, "webhooks", b"{}").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert [r["answered"] for r in received(sandbox, "webhooks")] == [500, 500, 200]


@pytest.mark.parametrize("body", [{}, {"next": -1}, {"next": "2"}, {"next": 1.5}, [], None])
def test_fail_takes_only_a_whole_number(sandbox, body):
    response = requests.post(f"{sandbox.url}/__sandbox/webhooks/fail", json=body, timeout=10)

    assert response.status_code == 400
    assert post(sandbox, "webhooks", b"{}").status_code == 200


def test_slack_messages_are_recorded_apart_and_answered_as_slack_does(sandbox):
    sandbox.control("POST", "slack/fail", {"next": 1})

    failed = post(sandbox, "slack", b'{"text": "one"}')
    taken = post(sandbox, "slack", b'{"text": "two"}')

    assert (failed.status_code, taken.status_code, taken.text) == (500, 200, "ok")
    assert [r["json"]["text"] for r in received(sandbox, "slack")] == ["one", "two"]
    assert received(sandbox, "webhooks") == []


def test_a_body_that_is_not_json_is_still_recorded(sandbox):
    assert post(sandbox, "webhooks", b"\xffnot json").status_code == 200

    (record,) = received(sandbox, "webhooks")
    assert record["json"] is None
    assert record["body"] == "\ufffdnot json"


def test_delete_and_reset_forget_deliveries_and_planned_failures(sandbox):
    for receiver in ("webhooks", "slack"):
        post(sandbox, receiver, b"{}")
        sandbox.control("POST", f"{receiver}/fail", {"next": 5})
    sandbox.control("DELETE", "webhooks")

    assert received(sandbox, "webhooks") == []
    assert post(sandbox, "webhooks", b"{}").status_code == 200
    assert len(received(sandbox, "slack")) == 1

    sandbox.reset()

    assert received(sandbox, "slack") == []
    assert post(sandbox, "slack", b"{}").status_code == 200
