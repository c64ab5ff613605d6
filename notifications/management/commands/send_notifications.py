"""Send the notifications that are due (run every minute from cron or a systemd timer, or as a
worker with --loop): see notifications.delivery. Prints a one-line summary of each pass.

Safe to run on several machines at once, and beside a worker: each delivery is claimed in the
database before it is sent. A receiver that is down or a mail server that refuses is not this
command's failure (the delivery is tried again later, and its log says why); a pass that could
not run (the database did not answer) exits 1, after saying why, so cron notices. With --loop
such a pass is logged and the next one tried; SIGTERM or SIGINT stops the loop after the
delivery in hand."""

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from notifications.delivery import PassSummary, deliveries_send_due

logger = logging.getLogger(__name__)

DATABASE_DOWN = (
    "The database could not be read or written, so nothing was sent; the next run tries again."
)


class Command(BaseCommand):
    help = "Send the notifications that are due: once, or with --loop as a worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep sending, a pass every --interval seconds, until SIGTERM or SIGINT.",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help="With --loop: the pause between passes (default: 5).",
        )

    def handle(self, *args: Any, loop: bool = False, interval: float = 5.0, **options: Any) -> None:
        if not loop:
            try:
                summary = deliveries_send_due()
            except DatabaseError as exc:
                raise CommandError(DATABASE_DOWN) from exc
            self.stdout.write(describe(summary))
            return
        stop = threading.Event()

        def stop_after_this_delivery(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, stop_after_this_delivery)
        signal.signal(signal.SIGINT, stop_after_this_delivery)
        self.stdout.write(f"Sending notifications every {interval:g} s; SIGTERM or SIGINT stops.")
        while not stop.is_set():
            close_old_connections()  # a connection the database dropped is opened afresh
            try:
                summary = deliveries_send_due(should_stop=stop.is_set)
            except DatabaseError:
                logger.exception(DATABASE_DOWN)
            else:
                if summary.attempted:
                    self.stdout.write(describe(summary))
            stop.wait(interval)
        self.stdout.write("Stopped.")


def describe(summary: PassSummary) -> str:
    return (
        f"{summary.attempted} delivery attempt(s): {summary.delivered} delivered, "
        f"{summary.retrying} to be tried again, {summary.gave_up} given up"
        + (f", {summary.claim_lost} taken over by another sender." if summary.claim_lost else ".")
    )
