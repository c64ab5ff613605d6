"""The README is enough to operate the portal: every variable the code reads is in its
Configuration table, and the deploy/ examples it shows are accepted by the tools that run them."""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# Everything that reads the environment: Django's settings, gunicorn's, the sandbox's.
ENV_READERS = ["billing_portal/settings.py", "gunicorn.conf.py", "sandbox/config.py"]


def _reads_the_environment(func: ast.expr) -> bool:
    name = ast.unparse(func)
    return (
        name in {"env", "os.environ.get", "os.getenv"}
        or name.startswith("env.")  # env.bool, env.int, env.list, env.db, ...
        or name.startswith("_env")  # the sandbox's own helpers around os.environ.get
    )


def variables_read(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and _reads_the_environment(node.func) and node.args:
            first = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            first = node.slice
        else:
            continue
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def readme_section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def configuration_table_variables() -> set[str]:
    names = set()
    for line in readme_section("Configuration").splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_the_scan_finds_what_each_file_reads():
    # So that the test below cannot pass by finding nothing.
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "LOCALSTRIPE_PORT"} <= variables_read(
        ROOT / "billing_portal/settings.py"
    )
    assert "GUNICORN_KEEPALIVE" in variables_read(ROOT / "gunicorn.conf.py")
    assert {"SANDBOX_ACCOUNTS", "SANDBOX_SETTLE_SECONDS"} <= variables_read(
        ROOT / "sandbox/config.py"
    )


def test_every_variable_the_code_reads_is_in_the_configuration_table():
    read = set().union(*(variables_read(ROOT / path) for path in ENV_READERS))
    missing = sorted(read - configuration_table_variables())
    assert not missing, f"not in the README's Configuration table: {missing}"


def _hsts_header(tmp_path, **env) -> str:
    """The Strict-Transport-Security header a live deploy sends, settings read from `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BILLING_", "DJANGO_"))}
    code = (
        "from django.test import Client; "
        "print(Client().get('/healthz', secure=True)['Strict-Transport-Security'])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "billing_portal.settings",
            "BILLING_SANDBOX": "false",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            **env,
        },
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_hsts_preload_is_off_unless_asked_for(tmp_path):
    # Preloading is hard to undo (browsers ship the list for months): an operator opts in.
    assert _hsts_header(tmp_path) == "max-age=31536000; includeSubDomains"
    assert _hsts_header(tmp_path, DJANGO_HSTS_PRELOAD="true") == (
        "max-age=31536000; includeSubDomains; preload"
    )


UNIT = ROOT / "deploy" / "systemd" / "billing-portal.service"


def test_systemd_accepts_the_gunicorn_unit(tmp_path):
    # Its paths moved to this checkout and its venv, which systemd checks exist.
    unit = tmp_path / UNIT.name
    text = UNIT.read_text().replace("/srv/billing-portal/.venv", sys.prefix)
    unit.write_text(text.replace("/srv/billing-portal", str(ROOT)))
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian's systemd) checks the unit"
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    # Unknown or misspelt keys are only warnings: any output fails too.
    assert (result.returncode, result.stderr + result.stdout) == (0, "")


def test_the_unit_runs_gunicorn_as_make_serve_does_after_the_migrations():
    lines = UNIT.read_text().splitlines()
    serve = "gunicorn billing_portal.wsgi -c gunicorn.conf.py"
    assert serve in (ROOT / "Makefile").read_text()
    start = next(i for i, line in enumerate(lines) if line.startswith("ExecStart="))
    migrate = next(i for i, line in enumerate(lines) if "manage.py migrate" in line)
    assert lines[start].endswith(f"/.venv/bin/{serve}")
    assert lines[migrate].startswith("ExecStartPre=")
    assert "Restart=on-failure" in lines


def _deploy_manage(tmp_path: Path, *args: str, env_file: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BILLING_"))}
    return subprocess.run(
        [str(ROOT / "deploy" / "manage"), *args],
        cwd=tmp_path,  # anywhere: it moves to the code's directory itself
        env={**clean, "BILLING_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_manage_runs_manage_py_with_the_service_environment(tmp_path):
    """What the README's production commands go through: the environment file as systemd and
    the crontab read it (single quotes keep `$` and `"`), the venv's python, the code's
    directory."""
    env_file = tmp_path / "env"
    env_file.write_text(
        "BILLING_SANDBOX=true\n"
        f"DATABASE_URL=sqlite:///{tmp_path / 'db.sqlite3'}\n"
        "DJANGO_SECRET_KEY='not $HOME \"but\" this'\n"
    )
    code = (
        "from django.conf import settings; import os, sys; "
        "print(settings.SECRET_KEY, sys.prefix, os.getcwd(), sep='\\n')"
    )
    result = _deploy_manage(tmp_path, "shell", "--no-imports", "-c", code, env_file=env_file)
    assert result.returncode == 0, result.stderr
    secret, prefix, cwd = result.stdout.splitlines()[-3:]
    assert secret == 'not $HOME "but" this'
    assert Path(prefix) == ROOT / ".venv"
    assert Path(cwd) == ROOT


def test_deploy_manage_says_when_it_cannot_read_the_environment_file(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("BILLING_SANDBOX=true\n")
    env_file.chmod(0)
    if os.access(env_file, os.R_OK):  # root reads anything: make the file a directory instead
        env_file.chmod(0o600)
        env_file.unlink()
        env_file.mkdir()
    result = _deploy_manage(tmp_path, "check", env_file=env_file)
    assert result.returncode != 0
    assert str(env_file) in result.stderr
