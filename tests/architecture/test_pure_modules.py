"""The pure core imports no Django: the plans (`payouts/rules/`) and the vocabulary they
share with the books (`accounts/quarters.py`, `accounts/money.py`, `accounts/arr.py`), so
that every plan runs, and is tested, without settings or a database."""

import pathlib
import subprocess
import sys

from tests.architecture.test_import_graph import ROOT, imports_of

PURE = [
    *sorted((ROOT / "payouts" / "rules").rglob("*.py")),
    ROOT / "accounts" / "quarters.py",
    ROOT / "accounts" / "money.py",
    ROOT / "accounts" / "arr.py",
]
PURE_MODULES = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in PURE}


def _is_django(name: str) -> bool:
    return name == "django" or name.startswith("django.")


def test_no_pure_module_imports_django_or_an_impure_module_of_the_project():
    assert {p.name for p in PURE} >= {
        "__init__.py", "common.py", "revenue_retention.py", "logo_retention.py",
        "ae_commission.py", "quarters.py", "money.py", "arr.py",
    }
    offending = []
    for path in PURE:
        for name, line in imports_of(path.read_text(), str(path)):
            project = name.split(".")[0] in ("accounts", "payouts", "compapp")
            if _is_django(name) or (project and name not in PURE_MODULES
                                    and not name.startswith("payouts.rules")):
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert offending == []


def test_importing_the_pure_core_loads_no_django():
    # In a fresh interpreter (this one has Django loaded by the test runner): what the pure
    # modules import, directly or not, brings no Django along.
    code = ("import sys, payouts.rules, accounts.quarters, accounts.money, accounts.arr; "
            "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=pathlib.Path(ROOT))
    assert out.stdout.strip() == "[]"
