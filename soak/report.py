"""The soak's report: what Locust saw, what the sandbox logged, what the checks found, then the
figures of bench/soak.json beside their targets."""

import json
import math
from collections import Counter
from pathlib import Path

SIGN_IN_LIMIT_S = 2.0


def p95(values: list[float]) -> float:
    """Nearest rank: the value 95 % of the samples do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else float("nan")


def report(
    load: dict, findings, commands, *, completed_target_s: float, access_log: Path, results: Path
) -> None:
    locust = load["locust"]
    violations = [*findings.violations, *_load_violations(locust)]
    waits, gave_up = _completion_waits(locust)
    calls = Counter(record["endpoint"] for record in load["log"])
    figures = {
        "invariant_violations": len(violations),
        "server_errors": len(locust["server_errors"]),
        "completed_p95_s": round(p95(waits), 2),
        "status_share_of_calls": round(calls["status"] / max(1, calls.total()), 3),
        "rss_growth_mb": round(sum(load["rss_end"].values()) - sum(load["rss_warm"].values()), 1),
    }
    _print_requests(load)
    _print_topups(locust, waits, gave_up)
    _print_cloudflare(load, calls, findings)
    _print_after(load, findings, commands, access_log)
    print(f"\nInvariants: {len(violations)} violated")
    for violation in violations:
        print(f"  ✗ {violation}")
    _print_figures(figures, completed_target_s)
    extra = {
        "completed_target_s": completed_target_s,
        "seconds": round(load["seconds"]),
        "topups": len(locust["topups"]),
        "violations": violations,
    }
    results.write_text(json.dumps({**figures, **extra}, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {results}")


def _load_violations(locust: dict) -> list[str]:
    """What the users saw that must not happen: a server error, a slow sign-in, one form
    posted twice making two top-ups."""
    found = []
    if locust["server_errors"]:
        where = Counter(
            f"{e['name']} ({e['status'] or 'dropped'})" for e in locust["server_errors"]
        )
        found.append(f"{len(locust['server_errors'])} server errors: {dict(where)}")
    slow = [seconds for seconds in locust["sign_ins"] if seconds > SIGN_IN_LIMIT_S]
    if slow:
        found.append(
            f"{len(slow)} sign-ins over {SIGN_IN_LIMIT_S:.0f} s (slowest {max(slow):.2f} s)"
        )
    found += [
        f"one form posted twice made top-ups {topup['pks']}"
        for topup in locust["topups"]
        if len(topup["pks"]) > 1
    ]
    return found


def _completion_waits(locust: dict) -> tuple[list[float], list[dict]]:
    """Seconds from the payment made to the status answering completed; a top-up whose admin
    gave up waiting counts as the time they waited (at least that)."""
    paid = [t for t in locust["topups"] if "confirmed_at" in t]
    waits = [t["completed_at"] - t["confirmed_at"] for t in paid if "completed_at" in t]
    gave_up = [t for t in paid if t["outcome"].startswith("still")]
    return waits + [locust["patience_s"]] * len(gave_up), gave_up


def _print_requests(load: dict) -> None:
    print(f"\nRequests to the portal over {load['seconds']:.0f} s (Locust)")
    print(f"  {'name':28} {'count':>6} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    for row in load["locust"]["stats"]:
        print(
            f"  {row['name'][:28]:28} {row['requests']:6} {row['failures']:5} "
            f"{row['p50_ms']:7.0f} {row['p95_ms']:7.0f} {row['max_ms']:7.0f}"
        )
    for failure in load["locust"]["failures"]:
        print(f"  failed: {failure['name']}: {failure['error']} ({failure['occurrences']} times)")


def _print_topups(locust: dict, waits: list[float], gave_up: list[dict]) -> None:
    topups = locust["topups"]
    twice = sum(topup["double_post"] for topup in topups)
    print(f"\nTop-ups started by the admins: {len(topups)}, {twice} of them posted twice")
    outcomes = Counter((t["outcome"] or "unfinished").split(":")[0] for t in topups)
    print(f"  outcomes: {dict(outcomes)}")
    print(f"  paid by: {dict(Counter(t['path'] or 'none' for t in topups))}")
    if waits:
        print(
            f"  payment made → completed: p50 {sorted(waits)[len(waits) // 2]:.1f} s, "
            f"p95 {p95(waits):.1f} s, max {max(waits):.1f} s over {len(waits)}"
            + (f" ({len(gave_up)} not completed when the admin gave up)" if gave_up else "")
        )
    slowest = max(locust["sign_ins"], default=0)
    print(f"  sign-ins: {len(locust['sign_ins'])}, slowest {slowest:.2f} s")


def _print_cloudflare(load: dict, calls: Counter, findings) -> None:
    print(f"\nCloudflare calls during the load (sandbox's log): {calls.total()}")
    print("  " + ", ".join(f"{name} {count}" for name, count in calls.most_common()))
    creates = findings.figures["creates"]
    print(
        f"  creates: {creates['calls']} calls — {creates['answered']} answered, "
        f"{creates['answer_lost']} answer lost after the work, {creates['not_made']} not made"
    )
    left = len(load["faults_left"])
    print(f"\nFaults injected: {len(load['faults'])} (left untaken at the end: {left})")
    for fault in load["faults"]:
        print(f"  {fault['at_s']:6.1f} s  {fault['label']}")


def _print_after(load: dict, findings, commands, access_log: Path) -> None:
    print("\nAfter the load")
    for command, output in commands:
        print(f"  manage.py {command}:")
        for line in output.splitlines()[-8:]:
            print(f"    {line}")
    print(f"  top-ups by state: {findings.figures['states']}")
    print(
        f"  paid invoices: {findings.figures['paid_invoices']} "
        f"({findings.figures['paid_invoices_of_lost_creates']} of creates whose answer was lost)"
    )
    print(f"  workers' RSS (MB) after warm-up {load['rss_warm']}, at the end {load['rss_end']}")
    answers = [json.loads(line) for line in access_log.read_text().splitlines() if line.strip()]
    errors = sum(1 for answer in answers if (answer.get("status") or 0) >= 500)
    print(f"  gunicorn's access log: {len(answers)} answers, {errors} of them 5xx")


def _print_figures(figures: dict, completed_target_s: float) -> None:
    targets = {
        "invariant_violations": ("==", 0),
        "server_errors": ("==", 0),
        "completed_p95_s": ("<=", completed_target_s),
    }
    print(f"\n{'figure':24} {'value':>9}  target")
    for key, value in figures.items():
        if key not in targets:
            print(f"{key:24} {value:9}")
            continue
        op, target = targets[key]
        met = value == target if op == "==" else value <= target
        print(f"{key:24} {value:9}  {op} {target:<5} {'met' if met else 'NOT MET'}")
