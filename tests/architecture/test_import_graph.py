"""The floors of the house only look down: compapp -> payouts -> accounts.

Every import statement of the three packages is read from the source (wherever it stands,
inside functions too): `accounts` (the books) imports neither `payouts` nor `compapp`;
`payouts` (the pay) does not import `compapp`. A new arrow back up fails this test with the
file, the line and the import.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLOORS = ("compapp", "payouts", "accounts")  # top to bottom


def imports_of(source: str, filename: str = "<source>") -> list[tuple[str, int]]:
    """(module, line) of every absolute import in the source, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def upward_arrows(package: str, source: str, filename: str) -> list[str]:
    """The imports of a module of `package` that reach a floor above it."""
    above = FLOORS[: FLOORS.index(package)]
    return [
        f"{filename}:{line} imports {module}"
        for module, line in imports_of(source, filename)
        if module.split(".")[0] in above
    ]


def test_no_import_runs_back_up():
    offending = []
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            offending += upward_arrows(package, path.read_text(), name)
    assert offending == []


@pytest.mark.parametrize(
    "package, source, expected",
    [
        ("accounts", "from payouts.models import Payout\n", ["m.py:1 imports payouts.models"]),
        ("accounts", "def f():\n    import compapp.imports\n", ["m.py:2 imports compapp.imports"]),
        ("payouts", "from compapp.workspace import standups\n",
         ["m.py:1 imports compapp.workspace"]),
        ("payouts", "from accounts.quarters import Quarter\n", []),
        ("compapp", "from payouts import rules\nfrom accounts import money\n", []),
        ("accounts", "from .models import Person\nimport payoutsx\n", []),
    ],
)
def test_the_check_sees_an_arrow_back_up_wherever_it_stands(package, source, expected):
    assert upward_arrows(package, source, "m.py") == expected
