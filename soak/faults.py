"""The soak's fault injector: every ~20 s the next fault of PLAN, through the sandbox's
/__sandbox/faults control (sandbox/cloudflare/faults.py), until shortly before the load ends so
that the last holds and back-offs have passed when the invariants are checked."""

import random
import threading
import time
from dataclasses import dataclass, field

import requests

# (what it stands for, the fault as /__sandbox/faults takes it)
PLAN = [
    ("create 500 (nothing made)", {"endpoint": "create", "mode": "500"}),
    ("status 500", {"endpoint": "status", "mode": "500", "count": 3}),
    (
        "create answer lost (500 after the work)",
        {"endpoint": "create", "mode": "500", "apply": True},
    ),
    ("status 429", {"endpoint": "status", "mode": "429", "retry_after": 2}),
    ("balance unreadable", {"endpoint": "balance", "mode": "500", "count": 3}),
    ("status hangs 8 s", {"endpoint": "status", "mode": "hang", "hang_seconds": 8, "count": 2}),
    ("invoices 500", {"endpoint": "invoices", "mode": "500", "count": 3}),
    (
        "create answer lost (hang after the work)",
        {"endpoint": "create", "mode": "hang", "hang_seconds": 8, "apply": True},
    ),
]
FIRST_AT_S, EVERY_S = 10.0, 20.0
JITTER_S = 3.0
QUIET_BEFORE_END_S = 40.0  # longer than the app's 30 s hold on a read that got no answer


@dataclass
class FaultInjector:
    sandbox_url: str
    load_seconds: float
    injected: list[dict] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="fault-injector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        rng = random.Random(19)  # noqa: S311 - spaces the faults, guards nothing
        last_at = self.load_seconds - QUIET_BEFORE_END_S
        for index in range(10_000):
            at = FIRST_AT_S + index * EVERY_S + rng.uniform(-JITTER_S, JITTER_S)
            if at > last_at or self._stop.wait(max(0.0, at - self._elapsed())):
                return
            label, fault = PLAN[index % len(PLAN)]
            answer = requests.post(f"{self.sandbox_url}/__sandbox/faults", json=fault, timeout=10)
            answer.raise_for_status()
            self.injected.append({"at_s": round(self._elapsed(), 1), "label": label, **fault})

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def create_faults(self) -> list[dict]:
        """Injected create faults in the order the sandbox takes them (first come first)."""
        return [fault for fault in self.injected if fault["endpoint"] == "create"]
