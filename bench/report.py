"""The table `make bench` and `make bench-postgres` print, and the results file they write."""

import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def report(results: dict, notes: dict, *, targets: dict, path: Path) -> None:
    """Each figure against its target (`targets`: key → (operator, target)), then the notes;
    the figures go to `path` as JSON."""
    print(f"\n{'figure':32} {'value':>10}  target   ")
    for key, (op, target) in targets.items():
        value = results[key]
        met = value <= target if op == "<=" else value >= target
        print(f"{key:32} {value:10.2f}  {op} {target:<5} {'met' if met else 'NOT MET'}")
    print()
    notes = {**notes, "machine": machine_speed()}
    for key, note in notes.items():
        print(f"{key:10} {note}")
    path.write_text(json.dumps({key: round(results[key], 3) for key in targets}, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def machine_speed() -> str:
    """Figures in milliseconds follow the machine's speed; this reference tells two runs'
    machines apart (the ratios do not depend on it)."""
    start = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return f"10M pure-Python additions in {time.perf_counter() - start:.2f} s"
