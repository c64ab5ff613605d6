"""What the account spent, in buckets of an hour or a day.

Contract: Cloudflare's API reference (https://developers.cloudflare.com/api/, AI Gateway billing)
and the published schema `aig-billing_GetUsageHistoryResult`: the window is required, both times are
sent in Unix milliseconds, and `aggregated_value` is cents of spend (fractional).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from cloudflare_client.parsing import (
    accepted_by,
    cents,
    require,
    require_object,
    required_timestamp,
)
from cloudflare_client.topups import billing_path
from cloudflare_client.transport import Transport
from cloudflare_client.types import UsageBucket

WINDOWS = ("hour", "day")


class Usage:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def history(
        self, account_id: str, *, window: str, start: datetime, end: datetime
    ) -> list[UsageBucket]:
        return parse_usage(self.history_result(account_id, window=window, start=start, end=end))

    # Reference: GET /accounts/{account_id}/ai-gateway/billing/usage-history
    def history_result(
        self, account_id: str, *, window: str, start: datetime, end: datetime
    ) -> Any:
        """Cloudflare's `result` as sent, once parse_usage accepts it."""
        if window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        query = urlencode(
            {
                "value_grouping_window": window,
                "start_time": int(start.timestamp() * 1000),
                "end_time": int(end.timestamp() * 1000),
            }
        )
        path = billing_path(account_id, f"usage-history?{query}")
        return self._transport.read("GET", path, parse=accepted_by(parse_usage))


def parse_usage(result: object) -> list[UsageBucket]:
    result = require_object(result)
    return [
        UsageBucket(
            id=str(require(bucket, "id", (str,))),
            spend_cents=cents(bucket, "aggregated_value"),
            start=required_timestamp(bucket, "start_time"),
            end=required_timestamp(bucket, "end_time"),
        )
        for bucket in map(require_object, require(result, "history", (list,)))
    ]
