"""The plans are a pure core: no module under payouts/rules imports Django, so that every
plan runs, and is tested, without settings or a database."""

import ast
import pathlib
import subprocess
import sys

import payouts.rules

RULES = pathlib.Path(payouts.rules.__file__).parent


def _imported_modules(path: pathlib.Path) -> list[tuple[str, int]]:
    """(module, line) of every import statement in the file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def test_no_module_of_the_plans_imports_django():
    modules = sorted(RULES.rglob("*.py"))
    assert {p.name for p in modules} >= {
        "__init__.py", "common.py", "revenue_retention.py", "logo_retention.py",
        "ae_commission.py",
    }
    offending = [
        f"{path.relative_to(RULES.parent.parent)}:{line} imports {name}"
        for path in modules
        for name, line in _imported_modules(path)
        if name == "django" or name.startswith("django.")
    ]
    assert offending == []


def test_importing_the_plans_loads_no_django():
    # In a fresh interpreter (this one has Django loaded by the test runner): what the plans'
    # modules import, directly or not, brings no Django along.
    code = ("import sys, payouts.rules; "
            "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=RULES.parent.parent)
    assert out.stdout.strip() == "[]"
