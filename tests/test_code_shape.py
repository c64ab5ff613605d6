"""The shape of the project's own code: no function outside the tests is longer than 60 lines."""

import ast
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 60
# Not the project's own code, or code whose length says nothing (generated migrations).
SKIPPED_DIRS = {"tests", "migrations", ".venv", "node_modules", ".git"}


def project_python_files():
    # os.walk, pruned: never into the venv (large, and rewritten while pip installs).
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(directory) / name


def long_functions(path: Path, root: Path = ROOT):
    """`path:line name (N lines)` of each function or method longer than MAX_FUNCTION_LINES,
    counted from its `def` line (decorators not counted) to its last line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                where = path.relative_to(root)
                yield f"{where}:{node.lineno} {node.name} ({length} lines)"


def test_the_walk_sees_the_project_and_skips_the_tests():
    files = {path.relative_to(ROOT).as_posix() for path in project_python_files()}
    assert {"manage.py", "topups/services/create.py", "sandbox/app.py"} <= files
    assert not any(name.startswith(("tests/", ".venv/")) for name in files)
    assert not any("/migrations/" in name for name in files)


def test_a_long_function_is_reported_with_its_place(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    source = tmp_path / "long.py"
    source.write_text(f"def short():\n    pass\n\n\ndef long():\n{body}\n")
    assert list(long_functions(source, root=tmp_path)) == ["long.py:5 long (61 lines)"]


def test_no_function_outside_the_tests_is_longer_than_60_lines():
    offenders = [line for path in project_python_files() for line in long_functions(path)]
    assert offenders == [], (
        f"Split these functions (at most {MAX_FUNCTION_LINES} lines each):\n  "
        + "\n  ".join(offenders)
    )


# A relative path to a document (`docs/x.md`, `../shared/y.md`), as a docstring or comment cites it.
CITED_DOCUMENT = re.compile(r"(?<![\w/.:])((?:\.\./)?(?:[\w-]+/)+[\w.-]+\.md)\b")


def test_code_cites_only_documents_the_project_contains():
    missing = [
        f"{path.relative_to(ROOT)}:{number} {cited}"
        for path in project_python_files()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for cited in CITED_DOCUMENT.findall(line)
        if not (ROOT / cited).is_file()
    ]
    assert missing == [], "Cited, but not in the project:\n  " + "\n  ".join(missing)
