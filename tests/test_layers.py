"""Imports run one way: cloudflare_client ← accounts ← notifications ← topups ← finance; the
sandbox imports none of them, and the client no Django."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["cloudflare_client", "accounts", "notifications", "topups", "finance"]


def imported_packages(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules_of(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("package", LAYERS)
def test_a_layer_imports_only_the_layers_below_it(package):
    above = set(LAYERS[LAYERS.index(package) + 1 :])
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & above)
        for path in modules_of(package)
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_sandbox_and_the_client_stand_alone():
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & forbidden)
        for package, forbidden in (
            ("sandbox", {*LAYERS, "django", "billing_portal"}),
            ("cloudflare_client", {"django", "billing_portal"}),
        )
        for path in modules_of(package)
    }
    assert {path: names for path, names in wrong.items() if names} == {}
