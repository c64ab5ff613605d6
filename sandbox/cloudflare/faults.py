"""Fault injection and the request log, both driven over HTTP by tests and demos
(the routes are in sandbox.controls).

A fault plan says: the next `count` calls of `endpoint` (one of ENDPOINTS, or "any")
answer with `mode` instead of the real answer. With `apply: true` the call is carried out first and
only its answer is spoiled — the "charged, but the answer was lost" case that makes a create's
outcome unknown.

What each mode answers is FAULT_ANSWERS, the one table of the sandbox's failure answers (a
localstripe failure and an error in the sandbox itself answer its "500" too); "429" adds
`Retry-After: retry_after`, "hang" waits `hang_seconds` first, and "body" answers `body` (any
JSON) with HTTP `status`, for contract-violation tests.
"""

import time
from dataclasses import asdict, dataclass, field

from sandbox.cloudflare import contract


@dataclass(frozen=True)
class FaultAnswer:
    status: int
    body: bytes
    content_type: str = "application/json"


def _error(status: int, code: int, message: str) -> FaultAnswer:
    return FaultAnswer(status, contract.dumps(contract.error_envelope((code, message))))


# Cloudflare's edge, not its API, answers a 502 with this page.
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
SERVER_ERROR = _error(500, contract.FAULT_SERVER_ERROR, "Internal server error")
FAULT_ANSWERS = {
    "500": SERVER_ERROR,
    "429": _error(
        429,
        contract.FAULT_RATE_LIMITED,
        "Rate limited. Please wait and consider throttling your request speed",
    ),
    "html_502": FaultAnswer(502, HTML_502, "text/html"),
    "success_false": FaultAnswer(200, SERVER_ERROR.body),
    "malformed_json": FaultAnswer(
        200, b'{"success": true, "errors": [], "result": {"payment_intent_id": '
    ),
    "hang": _error(504, contract.FAULT_GATEWAY_TIMEOUT, "Gateway timeout"),
}
MODES = (*FAULT_ANSWERS, "body")
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
