"""`make bench-postgres`: the history, the finance desk and the CSV export on the database
production runs, at 1,000,000 top-ups against 1,000. Prints a table and writes
bench/results-postgres.json.

Run it under a throwaway PostgreSQL: `scripts/with-postgres.sh .venv/bin/python -m bench.postgres`
(what `make bench-postgres` does); it creates the database DATABASE_URL names, which must not
exist. Two tenants share it, as tenants share production's: BENCH_PG_ROWS (1,000,000) top-ups
over 50 accounts, one of which holds a tenth of them, and 1,000 over as many accounts. Pages are
timed through Django's test client, signed in, warm, interleaved (1k, 1M, 1k, ...), median of 15.
Nothing here asserts: the figures are printed beside their targets.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = Path(os.environ.get("BENCH_PG_RESULTS", ROOT / "bench" / "results-postgres.json"))
ROWS = int(os.environ.get("BENCH_PG_ROWS", "1000000"))
BASELINE_ROWS = 1_000
RUNS = int(os.environ.get("BENCH_PG_RUNS", "15"))
TARGETS = {
    "pg_history_1m_over_1k": ("<=", 1.3),
    "pg_desk_1m_over_1k": ("<=", 1.5),
    "pg_export_peak_mb": ("<=", 50),
    "pg_history_queries": ("<=", 5),
}
EXPORT = "export"  # argv[1] of the child process that measures the export's memory


def create_database(url: str) -> None:
    """The bench writes a million rows: it wants a database of its own, new."""
    import psycopg
    from psycopg import sql

    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            sys.exit(f"Database {name!r} exists: the bench wants a new one")
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit(
        "This bench runs on PostgreSQL: scripts/with-postgres.sh .venv/bin/python -m bench.postgres"
    )
if sys.argv[1:2] != [EXPORT]:
    create_database(os.environ["DATABASE_URL"])
os.environ.update(
    {
        "BILLING_SANDBOX": "true",
        "DJANGO_SETTINGS_MODULE": "billing_portal.settings",
        "LOG_LEVEL": "WARNING",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1",
        # Pages render as in production: hashed static files, collected once for this run.
        "DJANGO_STATIC_ROOT": os.environ.get("DJANGO_STATIC_ROOT")
        or tempfile.mkdtemp(prefix="bench-static-"),
    }
)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench import pg_seed  # noqa: E402
from bench.report import report  # noqa: E402


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    print(f"Seeding {ROWS:,} + {BASELINE_ROWS:,} top-ups with COPY…", flush=True)
    start = time.perf_counter()
    big = pg_seed.seed(
        label="big",
        rows=ROWS,
        accounts=50,
        largest_rows=ROWS // 10,
        attention=max(60, ROWS // 2500),
    )
    # As many accounts and people as the big tenant: only the number of rows differs.
    small = pg_seed.seed(
        label="small", rows=BASELINE_ROWS, accounts=50, largest_rows=100, attention=60
    )
    seeded = time.perf_counter() - start
    pg_seed.analyze()
    notes = {
        "seed": f"{ROWS + BASELINE_ROWS:,} rows in {seeded:.0f} s, then VACUUM ANALYZE "
        f"in {time.perf_counter() - start - seeded:.0f} s"
    }
    results = {**history(small, big, notes), **desk(small, big, notes)}
    results["pg_export_peak_mb"] = export_peak(big, notes)
    report(results, notes, targets=TARGETS, path=RESULTS)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def side_by_side(small: tuple[Client, str], big: tuple[Client, str]) -> tuple[float, float]:
    """Median seconds of a page at 1k and at 1M, timed in turns so that the machine's noise
    falls on both alike, after two warm-up requests each."""
    times = {0: [], 1: []}
    for client, url in (small, big, small, big):
        assert client.get(url).status_code == 200, url
    for _ in range(RUNS):
        for side, (client, url) in enumerate((small, big)):
            start = time.perf_counter()
            client.get(url)
            times[side].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def history(small, big, notes) -> dict:
    """The history across all of a member's accounts; beside it, that of the largest account."""
    url = reverse("topups:history_all")
    small_reader, big_reader = signed_in(small.reader), signed_in(big.reader)
    t_small, t_big = side_by_side((small_reader, url), (big_reader, url))
    one_account = reverse("topups:history", kwargs={"account_id": big.largest.account_id})
    _, t_one = side_by_side((small_reader, url), (big_reader, one_account))
    with CaptureQueriesContext(connection) as queries:
        big_reader.get(url)
    notes["history"] = (
        f"all accounts: 1k {t_small * 1000:.1f} ms, {ROWS:,} {t_big * 1000:.1f} ms;"
        f" the account of {big.rows // 10:,} rows {t_one * 1000:.1f} ms"
    )
    return {"pg_history_1m_over_1k": t_big / t_small, "pg_history_queries": len(queries)}


def desk(small, big, notes) -> dict:
    """The finance desk of a finance member of every account, both ways it is mostly read."""
    small_finance, big_finance = signed_in(small.finance), signed_in(big.finance)
    ratios, parts = [], []
    for kind in ("attention", "all"):
        url = reverse("finance:desk") + f"?kind={kind}"
        t_small, t_big = side_by_side((small_finance, url), (big_finance, url))
        ratios.append(t_big / t_small)
        parts.append(f"{kind}: 1k {t_small * 1000:.1f} ms, {ROWS:,} {t_big * 1000:.1f} ms")
    notes["desk"] = "; ".join(parts)
    return {"pg_desk_1m_over_1k": max(ratios)}


def export_peak(big, notes) -> float:
    """The largest account's CSV, streamed by the view in a process of its own: how far its
    resident memory (RSS) peaks above where it was before the request."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.postgres", EXPORT, big.largest.account_id],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    export = json.loads(completed.stdout)
    notes["export"] = (
        f"{export['rows']:,} rows, {export['bytes'] / 1e6:.1f} MB of CSV"
        f" in {export['seconds']:.1f} s,"
        f" RSS {export['rss_before_mb']:.0f} MB before, peak {export['peak_mb']:.1f} MB above it"
    )
    return export["peak_mb"]


def export_child(account_id: str) -> None:
    finance = signed_in(get_user_model().objects.get(username="big-finance"))
    url = reverse("finance:export") + f"?kind=all&account={account_id}"
    before = _rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from here
    start = time.perf_counter()
    response = finance.get(url)
    assert response.status_code == 200, response
    assert response.streaming, "the export must stream"
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += 1
    seconds = time.perf_counter() - start
    peak = _rss_kb("VmHWM")
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "bytes": size,
                "seconds": seconds,
                "rss_before_mb": before / 1024,
                "peak_mb": (peak - before) / 1024,
            }
        )
    )


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


if __name__ == "__main__":
    if sys.argv[1:2] == [EXPORT]:
        export_child(sys.argv[2])
    else:
        main()
