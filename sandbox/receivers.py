"""Stand-ins for the places the portal sends notifications to: a signed-webhook receiver and a
Slack incoming webhook. Each records what it is sent and answers 200, or 500 for the next N
when told to, so retries can be seen.

POST   /__sandbox/webhooks       — a webhook delivery: recorded (headers, raw body, time); 200
GET    /__sandbox/webhooks       — the deliveries received, oldest first (newest last)
DELETE /__sandbox/webhooks       — forget them, and any planned failures
POST   /__sandbox/webhooks/fail  — `{"next": N}`: answer 500 to the next N deliveries
POST   /__sandbox/slack          — a Slack message: recorded the same way; 200 "ok", as Slack
GET    /__sandbox/slack          — the messages received, oldest first
DELETE /__sandbox/slack          — forget them, and any planned failures
POST   /__sandbox/slack/fail     — `{"next": N}`: answer 500 to the next N messages

`POST /__sandbox/reset` forgets both too. Failed deliveries are recorded as well, with the
status answered, so a test sees the same event arrive again.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from sandbox.cloudflare.routes import json_response, read_json

# A demo left running for days must not grow without end: the oldest are dropped.
KEEP = 1000


@dataclass
class Inbox:
    received: list[dict] = field(default_factory=list)
    fail_next: int = 0

    def clear(self) -> None:
        self.received.clear()
        self.fail_next = 0


inboxes_key = web.AppKey("receiver_inboxes", dict)


def _receiver(request: web.Request) -> str:
    """ "webhooks" or "slack": /__sandbox/<receiver>[/fail]."""
    return request.path.split("/")[2]


def _inbox(request: web.Request) -> Inbox:
    return request.app[inboxes_key][_receiver(request)]


async def receive(request: web.Request) -> web.Response:
    inbox = _inbox(request)
    raw = await request.read()
    status = 500 if inbox.fail_next else 200
    inbox.fail_next = max(inbox.fail_next - 1, 0)
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    inbox.received.append(
        {
            "received_at": datetime.now(UTC).isoformat(),
            "headers": dict(request.headers),
            "body": raw.decode(errors="replace"),
            "json": parsed,
            "answered": status,
        }
    )
    del inbox.received[:-KEEP]
    if status == 500:
        return json_response(500, {"error": "a failure planned with /fail"})
    if _receiver(request) == "slack":
        return web.Response(status=200, text="ok")
    return json_response(200, {"received": True})


async def list_received(request: web.Request) -> web.Response:
    return json_response(200, {"received": _inbox(request).received})


async def forget(request: web.Request) -> web.Response:
    _inbox(request).clear()
    return json_response(200, {"received": []})


async def fail_next(request: web.Request) -> web.Response:
    body = await read_json(request)
    count = body.get("next") if isinstance(body, dict) else None
    if type(count) is not int or count < 0:
        return json_response(400, {"error": 'expected {"next": N}, N a whole number, at least 0'})
    _inbox(request).fail_next = count
    return json_response(200, {"fail_next": count})


def forget_everything(app: web.Application) -> None:
    for inbox in app[inboxes_key].values():
        inbox.clear()


def add_routes(app: web.Application) -> None:
    app[inboxes_key] = {"webhooks": Inbox(), "slack": Inbox()}
    router = app.router
    for name in app[inboxes_key]:
        path = f"/__sandbox/{name}"
        router.add_post(path, receive)
        router.add_get(path, list_received, allow_head=False)
        router.add_delete(path, forget)
        router.add_post(path + "/fail", fail_next)
