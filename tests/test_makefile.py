"""The Makefile: `make help` lists every target that has a `##` comment, the README names only
targets that exist, and `make run` gives every command it runs BILLING_SANDBOX=true."""

import os
import re
import subprocess

from tests.sandbox_process import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()
RULE = re.compile(r"^([a-z][a-z0-9-]*):(?!=)", re.MULTILINE)


def documented_targets() -> dict[str, str]:
    """Each target whose rule follows a block of `## name: what` comments, with that block's
    first line."""
    found = {}
    lines = MAKEFILE.splitlines()
    for i, line in enumerate(lines):
        rule = RULE.match(line)
        if rule and i > 0 and lines[i - 1].startswith("## "):
            first = i - 1
            while first > 0 and lines[first - 1].startswith("## "):
                first -= 1
            found[rule[1]] = lines[first]
    return found


def make(*args: str, env: dict | None = None) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_each_comment_block_names_the_target_it_stands_above():
    targets = documented_targets()
    assert {"run", "test", "serve", "help"} <= set(targets)
    for target, first_line in targets.items():
        assert first_line.startswith(f"## {target}: "), first_line


def test_make_help_lists_every_documented_target_with_its_comment():
    listed = {}
    for line in make("help").splitlines():
        name, _, text = line.strip().removeprefix("make ").partition(" ")
        listed[name] = text.strip()
    assert set(listed) == set(documented_targets())
    assert listed["run"].startswith("install, migrate, seed the demo users")
    # A comment on two lines reads as one.
    assert listed["lock"].endswith(
        "allow (on the Python version production runs); then `make test`"
    )


def test_make_with_no_target_prints_the_help():
    # Dry runs (-n): the commands each would run, none of them run.
    assert make("-n") == make("-n", "help")


def test_the_readme_names_only_targets_that_exist():
    readme = (ROOT / "README.md").read_text()
    # In backquotes (`make serve`) or at the start of a line of a code block.
    named = set(re.findall(r"(?:`|^)make ([a-z][a-z0-9-]*)", readme, re.MULTILINE))
    assert {"run", "test", "serve", "lock"} <= named
    assert named <= set(RULE.findall(MAKEFILE))


def test_make_run_gives_every_command_billing_sandbox(tmp_path):
    """With a stand-in venv whose python and honcho only write down what they were given."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    calls = tmp_path / "calls.log"
    for tool in ("python", "honcho"):
        script = venv / "bin" / tool
        script.write_text(
            f'#!/bin/sh\necho "{tool} $1 $2 BILLING_SANDBOX=$BILLING_SANDBOX" >> {calls}\n'
        )
        script.chmod(0o755)
    for stamp in (".installed-dev", ".installed-serve"):
        (venv / stamp).touch()  # newer than the lock files: nothing to install
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLING_", "MAKE"))}
    make("run", f"VENV={venv}", env=env)
    lines = calls.read_text().splitlines()
    assert lines == [
        "python manage.py migrate BILLING_SANDBOX=true",
        "python manage.py collectstatic BILLING_SANDBOX=true",
        "python manage.py seed_demo BILLING_SANDBOX=true",
        "python manage.py seed_demo_notifications BILLING_SANDBOX=true",
        "honcho -f Procfile BILLING_SANDBOX=true",
    ]
    assert MAKEFILE.count("BILLING_SANDBOX") == 1
