"""Fault injection and the request log, both driven over HTTP by tests and demos.

A fault plan says: the next `count` calls of `endpoint` (one of ENDPOINTS, or "any")
answer with `mode` instead of the real answer. With `apply: true` the call is carried out first and
only its answer is spoiled — the "charged, but the answer was lost" case that makes a create's
outcome unknown.
"""

import time
from dataclasses import asdict, dataclass, field

# "body" answers `body` (any JSON) with HTTP `status`: for contract-violation tests.
MODES = ("500", "429", "html_502", "success_false", "malformed_json", "hang", "body")
ENDPOINTS = (
    "create",
    "status",
    "limits",
    "balance",
    "config",
    "invoices",
    "preview",
    "usage",
    "any",
)


@dataclass
class Fault:
    endpoint: str
    mode: str
    count: int = 1
    retry_after: int = 1
    hang_seconds: float = 30.0
    apply: bool = False
    status: int = 200
    body: object = None

    def __post_init__(self):
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if type(self.count) is not int or self.count < 1:
            raise ValueError("count must be a positive integer")


@dataclass
class RequestRecord:
    id: int
    at: float
    method: str
    path: str
    endpoint: str
    auth: str
    body: object
    status: int = 0
    fault: str = ""


@dataclass
class FaultBoard:
    """Pending faults and the log of calls. Used from the event loop's one thread only."""

    _faults: list[Fault] = field(default_factory=list)
    _log: list[RequestRecord] = field(default_factory=list)

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[dict]:
        return [asdict(f) for f in self._faults]

    def take(self, endpoint: str) -> Fault | None:
        """The fault that applies to this call, if any, using up one of its count."""
        for fault in self._faults:
            if fault.endpoint in (endpoint, "any"):
                fault.count -= 1
                if fault.count == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def record(self, **fields) -> RequestRecord:
        record = RequestRecord(id=len(self._log) + 1, at=time.time(), **fields)
        self._log.append(record)
        return record

    def requests(self) -> list[dict]:
        return [asdict(r) for r in self._log]

    def clear_log(self) -> None:
        self._log.clear()
