"""What deploy/ and the requirements files ship: units systemd accepts, and a runtime list that
holds everything the app imports and no test tool."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CHECKOUT = "/srv/ims-screen"


def pinned(requirements: Path) -> set[str]:
    """The distribution names pinned in a requirements file (normalised as pip does)."""
    names = set()
    for line in requirements.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==", line.strip())
        if match:
            names.add(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def imported_top_level_modules() -> set[str]:
    """Every module the running app imports at top level or inside functions (app/, rules/, entry points)."""
    files = [
        *ROOT.joinpath("app").rglob("*.py"),
        *ROOT.joinpath("rules").rglob("*.py"),
        *ROOT.joinpath("migrations").rglob("*.py"),
        ROOT / "wsgi.py",
        ROOT / "gunicorn.conf.py",
    ]
    modules = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - {"app", "rules"} - set(sys.stdlib_module_names)


def test_the_runtime_requirements_hold_everything_the_app_imports() -> None:
    runtime = pinned(ROOT / "requirements.txt")
    providers = packages_distributions()
    missing = {}
    for module in imported_top_level_modules():
        distributions = {re.sub(r"[-_.]+", "-", name).lower() for name in providers.get(module, [])}
        if not distributions & runtime:
            missing[module] = distributions
    assert not missing, f"imported by the app but not in requirements.txt: {missing}"


def test_test_tools_are_not_installed_in_production() -> None:
    runtime = pinned(ROOT / "requirements.txt")
    development = pinned(ROOT / "requirements-dev.txt")
    for tool in (
        "pytest",
        "hypothesis",
        "playwright",
        "axe-playwright-python",
        "ruff",
        "aiosmtpd",
        "trustme",
        "fhir-resources",
    ):
        assert tool in development and tool not in runtime, tool
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()
    assert not runtime & development, "a package is pinned twice"


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    checkout = tmp_path / "srv" / "ims-screen"
    (checkout / ".venv" / "bin").mkdir(parents=True)
    for program in ("gunicorn", "flask"):
        (checkout / ".venv" / "bin" / program).write_text("#!/bin/sh\n")
        (checkout / ".venv" / "bin" / program).chmod(0o755)
    units = []
    for unit in sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")]):
        text = unit.read_text()
        assert unit.suffix == ".timer" or CHECKOUT in text, unit.name
        (tmp_path / unit.name).write_text(text.replace(CHECKOUT, str(checkout)))
        units.append(str(tmp_path / unit.name))
    assert {Path(unit).name for unit in units} >= {
        "ims-screen.service",
        "ims-screen-notify.service",
        "ims-screen-notify.timer",
        "ims-screen-purge.service",
        "ims-screen-purge.timer",
    }
    done = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_units_run_what_make_serve_runs() -> None:
    service = (DEPLOY / "ims-screen.service").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in service and "gunicorn -c gunicorn.conf.py wsgi:app" in makefile
    assert "flask --app wsgi db upgrade" in service
    assert "flask --app wsgi notify" in (DEPLOY / "ims-screen-notify.service").read_text()
    assert "flask --app wsgi purge" in (DEPLOY / "ims-screen-purge.service").read_text()


def test_gunicorn_settings_read_the_settings_file_without_importing_the_app(tmp_path: Path) -> None:
    """The master must not import the app: workers forked from it would inherit that code, and a
    reload (SIGHUP) would go on serving the old release."""
    settings = tmp_path / "ims-screen.env"
    settings.write_text("PORT=8123\nGUNICORN_WORKERS=3\n")
    probe = (
        "import runpy, sys; settings = runpy.run_path('gunicorn.conf.py'); "
        "print(settings['bind'], settings['workers'], 'app' in sys.modules, 'flask' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "IMS_ENV_FILE": str(settings)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["127.0.0.1:8123", "3", "False", "False"]
