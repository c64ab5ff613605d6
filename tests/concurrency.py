"""Running one piece of work in several threads released at the same moment, each thread with
its own database connection: how the tests make races happen instead of hoping for them."""

import threading
from collections.abc import Callable

from django.db import connection


def at_once(work: Callable[[int], object], count: int) -> list:
    """`work(0)` … `work(count - 1)`, each in its own thread, all released together by a barrier.
    Returns their results in order; re-raises the first exception any of them raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - re-raised in the calling thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def thread_with_own_connection(
    target: Callable, *args: object, **kwargs: object
) -> threading.Thread:
    """A thread running `target` that closes its database connection when done: left open, it
    keeps PostgreSQL's test database busy when the run tears it down."""

    def run() -> None:
        try:
            target(*args, **kwargs)
        finally:
            connection.close()

    return threading.Thread(target=run)
