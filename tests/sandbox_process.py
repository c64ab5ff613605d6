"""Start the sandbox (`python -m sandbox`) on free ports and drive its control endpoints."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            return requests.get(url, timeout=1)
        except (requests.ConnectionError, requests.Timeout):  # not listening, or still starting
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@dataclass
class Sandbox:
    api_port: int
    localstripe_port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/client/v4"

    @property
    def localstripe_url(self) -> str:
        return f"http://127.0.0.1:{self.localstripe_port}"

    def control(self, method: str, path: str, json=None) -> dict:
        response = requests.request(method, f"{self.url}/__sandbox/{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self, *, demo_history: bool = False) -> None:
        self.control("POST", "reset", {"demo_history": demo_history})

    def fault(self, endpoint: str, mode: str, **options) -> None:
        self.control("POST", "faults", {"endpoint": endpoint, "mode": mode, **options})

    def configure(self, **settings) -> None:
        self.control("POST", "config", settings)

    def requests(self, endpoint: str | None = None) -> list[dict]:
        records = self.control("GET", "requests")["requests"]
        return [r for r in records if endpoint is None or r["endpoint"] == endpoint]


def start_sandbox() -> Sandbox:
    api_port, localstripe_port = free_port(), free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"sandbox-{api_port}.log", "w")  # noqa: SIM115 - lives with the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--api-port",
            str(api_port),
            "--localstripe-port",
            str(localstripe_port),
            "--settle-seconds",
            "0",
            "--no-demo-history",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,  # its own process group: stop() can end localstripe with it
    )
    sandbox = Sandbox(api_port, localstripe_port, process)
    wait_for_http(f"{sandbox.url}/__sandbox/health", process=process)
    return sandbox


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            if os.getpgid(process.pid) == process.pid:  # a group of its own (start_sandbox's):
                os.killpg(process.pid, signal.SIGKILL)  # the localstripe it started goes too
            else:
                process.kill()
            process.wait()
