"""Each sandbox module's docstring lists the routes it serves (`METHOD /path — what`)."""

import re
import sys

import pytest

from sandbox.app import make_app
from sandbox.cloudflare.routes import BILLING
from sandbox.config import SandboxConfig


def served_routes():
    app = make_app(SandboxConfig())
    for route in app.router.routes():
        path = route.resource.canonical
        # The billing routes are listed under their common prefix.
        yield route.handler.__module__, route.method, path.removeprefix(BILLING)


@pytest.mark.parametrize(("module", "method", "path"), sorted(set(served_routes())))
def test_the_route_is_in_its_module_docstring(module, method, path):
    listed = re.compile(rf"^\s*{method}\s+(.*[ (])?{re.escape(path)}[\s)]", re.MULTILINE)
    assert listed.search(sys.modules[module].__doc__), f"{module} does not list {method} {path}"


def test_every_part_of_the_sandbox_is_covered():
    modules = {module for module, _, _ in served_routes()}
    assert modules == {
        "sandbox.cloudflare.routes",
        "sandbox.stripe_js.routes",
        "sandbox.controls",
        "sandbox.receivers",
    }
