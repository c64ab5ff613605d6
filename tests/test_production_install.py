"""What `make serve` installs and runs: the pinned, hash-checked runtime packages only, and the
settings check before anything starts. The lock files are read, never installed (no network)."""

import re
import subprocess
from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.sandbox_process import ROOT

PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})*)", re.M
)


def pins(lock_file: str) -> dict[str, str]:
    text = (ROOT / lock_file).read_text()
    found = PIN.findall(text)
    assert found, f"{lock_file} pins nothing"
    unhashed = [name for name, _, hashes in found if not hashes]
    assert not unhashed, f"{lock_file}: no --hash for {unhashed}"
    return {canonicalize_name(name): pinned for name, pinned, _ in found}


def requirements(requirements_file: str) -> list[Requirement]:
    """The requirements of a file, following its -r includes."""
    found = []
    for line in (ROOT / requirements_file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += requirements(line.removeprefix("-r ").strip())
        elif line:
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize(
    ("requirements_file", "lock_file"),
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_the_lock_pins_every_requirement_within_its_range(requirements_file, lock_file):
    """A requirement added or narrowed without `make lock` fails here."""
    pinned = pins(lock_file)
    for requirement in requirements(requirements_file):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock_file}: run make lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock_file} pins {name}=={pinned[name]}, outside {requirement}: run make lock"
        )


def test_development_pins_the_runtime_packages_as_production_does():
    production, development = pins("requirements.lock"), pins("requirements-dev.lock")
    differ = {
        name: (pinned, development.get(name))
        for name, pinned in production.items()
        if development.get(name) != pinned
    }
    assert differ == {}


def test_the_suite_runs_against_the_production_pins():
    installed = {}
    for name in pins("requirements.lock"):
        try:
            installed[name] = version(name)
        except PackageNotFoundError:
            installed[name] = None
    assert installed == pins("requirements.lock"), "reinstall: make install-dev"


def make_serve_commands() -> list[str]:
    """The commands `make serve` would run in a fresh checkout, in order (make -n runs none)."""
    result = subprocess.run(
        ["make", "-n", "-B", "serve", "VENV=/nonexistent-venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.splitlines()


def test_make_serve_installs_only_the_hash_checked_lock_file():
    commands = make_serve_commands()
    assert not [line for line in commands if "--upgrade" in line]  # the venv's own pip does
    installs = [line for line in commands if " install " in line]
    assert len(installs) == 1, installs
    assert installs[0].split(" install ", 1)[1].split() == [
        "-q",
        "--require-hashes",
        "-r",
        "requirements.lock",
    ]


def test_make_serve_checks_the_settings_before_it_migrates_or_starts():
    commands = make_serve_commands()

    def position(fragment):
        (index,) = [i for i, line in enumerate(commands) if fragment in line]
        return index

    check = position("manage.py check --deploy --fail-level WARNING")
    assert check < position("manage.py migrate") < position("gunicorn billing_portal.wsgi")
