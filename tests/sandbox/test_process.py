"""Stopping the sandbox stops its localstripe too, even while a request hangs on a fault: a
test run or a bench must not leave servers behind."""

import contextlib
import socket
import threading
import time

import requests

from tests.sandbox_process import start_sandbox, stop


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_sandbox_stopped_mid_request_leaves_no_localstripe_behind():
    sandbox = start_sandbox()
    sandbox.fault("status", "hang", count=10, hang_seconds=60)
    status_url = f"{sandbox.api_url}/accounts/{'0' * 32}/ai-gateway/billing/topup/status"

    def hang() -> None:
        with contextlib.suppress(requests.RequestException):  # cut when the sandbox stops
            requests.post(status_url, json={"id": "x"}, timeout=90)

    hanging = threading.Thread(target=hang, daemon=True)
    hanging.start()
    time.sleep(1)
    assert answers(sandbox.localstripe_port)

    stop(sandbox.process)

    deadline = time.monotonic() + 5
    while answers(sandbox.localstripe_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not answers(sandbox.localstripe_port), "localstripe outlived its sandbox"
