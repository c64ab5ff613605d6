"""`make bench-postgres` at a tiny scale, so that its seeding and measuring cannot rot: the whole
run on a new database of the test cluster, with 2,000 top-ups instead of 1,000,000."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="the bench seeds with PostgreSQL's COPY; make test-postgres runs this",
)


@pytest.fixture
def new_database_url():
    """The URL of a database the bench creates on the cluster of DATABASE_URL; dropped after."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(DATABASE_URL)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.mark.timeout(600)
def test_the_postgres_bench_seeds_measures_and_writes_its_four_figures(new_database_url, tmp_path):
    results = tmp_path / "results-postgres.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.postgres"],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": new_database_url,
            "BENCH_PG_ROWS": "2000",
            "BENCH_PG_RUNS": "2",
            "BENCH_PG_RESULTS": str(results),
        },
        capture_output=True,
        text=True,
        timeout=580,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(results.read_text())
    assert set(figures) == {
        "pg_history_1m_over_1k",
        "pg_desk_1m_over_1k",
        "pg_export_peak_mb",
        "pg_history_queries",
    }
    assert figures["pg_history_1m_over_1k"] > 0
    assert figures["pg_desk_1m_over_1k"] > 0
    assert 0 < figures["pg_history_queries"] <= 5
    assert "export     200 rows" in run.stdout  # the largest account's tenth, all streamed

    with psycopg.connect(new_database_url) as conn:
        by_state = dict(
            conn.execute("SELECT state, count(*) FROM topups_topup GROUP BY state").fetchall()
        )
        recorded = conn.execute(
            "SELECT count(*) FROM topups_topup WHERE origin <> 'portal'"
        ).fetchone()[0]
    assert sum(by_state.values()) == 3000
    # What the desk looks at is there, among what it does not.
    assert by_state.keys() == {
        "completed",
        "failed",
        "awaiting_payment",
        "processing",
        "unknown",
        "stale",
    }
    assert recorded > 0
