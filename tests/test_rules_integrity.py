"""The clinical core stands alone: `rules` never imports the web app, Flask or SQLAlchemy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
FORBIDDEN = ("flask", "flask_wtf", "flask_sqlalchemy", "flask_migrate", "wtforms", "sqlalchemy", "app")


def test_importing_rules_loads_no_web_or_database_module() -> None:
    probe = (
        "import sys, rules; rules.evaluate({}); rules.check(); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=RULES_DIR.parent, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"


def test_no_module_in_rules_imports_a_forbidden_package() -> None:
    for path in RULES_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
