"""Bad input does not get in, and exported files cannot run formulas.

Property-based: hypothesis starts from a good file of each kind of the data contract and
breaks it (a bad encoding, a missing or unknown column, a cell of the wrong type, a huge or
negative amount, a date that does not exist, a repeated key, a row of the wrong width, a
cell a spreadsheet would run as a formula). Every broken file must be refused with every
problem reported as `line N: column: reason` on the right line, and the database must be
exactly as it was. The payroll export and the tables' CSV exports must quote every cell a
spreadsheet would read as a formula.
"""

import csv
import datetime
import html
import io
import re
import tempfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pghistory.models import Events

from accounts.display.tables import spreadsheet_safe
from accounts.models import (
    Account,
    Assignment,
    Deal,
    ImportRun,
    Invoice,
    Lead,
    Person,
    RowChange,
    Usage,
)
from accounts.quarters import Quarter
from compapp.imports import KINDS, import_csv
from payouts.models import Payout, PersonPlan
from payouts.services import payout_approve, quarter_close
from tests.conftest import make_account
from tests.payouts.test_recompute import alice_book  # noqa: F401 - fixture

D = datetime.date
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ERROR = re.compile(r"line (\d+): ([^:]+): (.+)")

# --- good files, one per kind ---------------------------------------------------------------
# Each is a header and three rows that import cleanly into the `world` below.

HEADERS = {
    "people": ("email", "name", "roles", "team", "start_date", "ote", "variable_share",
               "manager_email", "region", "end_date", "employee_id"),
    "accounts": ("external_id", "name", "billing", "segment", "health_score", "sentiment",
                 "active_users", "products", "annual_contract_value", "contract_start",
                 "contract_end"),
    "assignments": ("account_external_id", "owner_email", "role", "start_date", "end_date",
                    "inherited", "reason"),
    "invoices": ("external_id", "account_external_id", "issued_on", "period_start", "period_end",
                 "amount", "kind", "status", "paid_on", "deal_external_id"),
    "usage": ("account_external_id", "month", "amount"),
    "deals": ("external_id", "account_external_id", "owner_email", "kind", "arr", "stage",
              "probability", "created_on", "demo_on", "closed_on", "payment_schedule"),
    "plans": ("email", "quarter", "plan", "target", "quota"),
    "leads": ("external_id", "owner_email", "segment", "created_on", "status"),
}
ROWS = {
    "people": """\
new1@example.com,New One,csm,cs,2024-01-01,90000.00,0.1,maria@example.com,Europe,,E-1
new2@example.com,New Two,ae,sales,2024-02-01,120000,0.5,omar@example.com,US,,E-2
new3@example.com,New Three,onboarding,cs,2024-03-01,80000,,maria@example.com,,2025-12-31,E-3""",
    "accounts": """\
N-1,New One Inc,monthly,20k+,7,positive,12,product analytics;session replay,,,
N-2,New Two Inc,annual,smb,3,negative,0,surveys,24000.00,2025-01-01,2025-12-31
N-3,New Three Inc,monthly,smb,10,neutral,5,,,,""",
    "assignments": """\
B-1,alice@example.com,csm,2024-01-01,,false,won
B-2,bob@example.com,csm,2024-01-01,2025-06-30,true,first owner
B-2,alice@example.com,csm,2025-07-01,,true,moved""",
    "invoices": """\
I-1,B-1,2025-01-31,2025-01-01,2025-01-31,1000.00,usage,paid,2025-02-05,
I-2,B-1,2025-02-28,2025-02-01,2025-02-28,-50.00,refund,paid,2025-03-01,
I-3,B-2,2025-01-31,2025-01-01,2025-12-31,12000,contract,open,,D-1""",
    "usage": """\
B-1,2025-01,100.00
B-1,2025-02,0
B-2,2025-01,2500.5""",
    "deals": """\
D-1,B-1,charlie@example.com,new_annual,40000,won,1,2025-01-05,2025-01-10,2025-02-01,quarterly
D-2,B-2,charlie@example.com,expansion_annual,5000.00,demo,0.25,2025-03-01,2025-03-05,,upfront
D-3,B-2,charlie@example.com,monthly,1200,lost,0,2025-03-01,2025-03-02,2025-04-01,monthly""",
    "plans": """\
alice@example.com,2025Q2,csm_revenue_retention,1.2,
charlie@example.com,2025Q2,ae_commission,,50000
bob@example.com,2025Q3,logo_retention,0.9,""",
    "leads": """\
L-1,charlie@example.com,20k+,2025-01-01,open
L-2,charlie@example.com,smb,2025-02-01,new
L-3,charlie@example.com,smb,2025-03-01,working""",
}
GOOD = {kind: ",".join(HEADERS[kind]) + "\n" + ROWS[kind] for kind in HEADERS}


def parsed(kind):
    lines = GOOD[kind].splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    return header, rows


def required(kind):
    return [c.name for c in KINDS[kind].columns if c.required]


# --- what a bad cell looks like, by column ---------------------------------------------------

BAD_DATES = ["2025-13-01", "2025-02-30", "2025-00-10", "0000-01-01", "10000-01-01",
             "2025/01/01", "01-02-2025", "2025-1-1", "yesterday", "2025-01-01T00:00",
             "٢٠٢٥-٠١-٠١"]
BAD_MONEY = ["1" * 13, "9" * 40, "12.345", "$100", "100 USD", "1,000.00", "1e5", "NaN",
             "Infinity", "abc", "--5", "5-", "0x10", "€5"]
BAD_WHOLE = ["1.5", "ten", "1e3", "99999999999999999999"]
FORMULAS = ["=cmd|' /C calc'!A0", "=1+1", "@SUM(A1:A2)", "+cmd", "-cmd", "=HYPERLINK(\"x\")",
            "\t=1", "==", "@", "-@", "+=1"]

# Columns and the bad values they get (the cell's parser must refuse each).
MONTHS = ["2025-13", "2025-00", "2025-1", "25-01", "2025-01-01", "january"]
QUARTERS = ["2025Q5", "2025-Q2", "Q2 2025", "25Q2", "2025q0"]
BOOLS = ["yes", "1", "0", "y", "vrai"]
EMAILS = ["not-an-email", "a@", "@b.com", "a b@c.com"]


def bad_values(kind, column):
    """Values that must be refused in this column of this kind (None: not a typed column)."""
    name = column
    if name in ("start_date", "end_date", "issued_on", "period_start", "period_end",
                "paid_on", "created_on", "demo_on", "closed_on", "contract_start",
                "contract_end"):
        return st.sampled_from(BAD_DATES)
    if name == "month":
        return st.sampled_from(MONTHS)
    if name == "quarter":
        return st.sampled_from(QUARTERS)
    if name in ("amount", "arr", "ote", "annual_contract_value", "quota"):
        negative = [] if (kind, name) == ("invoices", "amount") else ["-0.01", "-5"]
        huge = st.integers(13, 60).map(lambda n: "9" * n)
        return st.sampled_from(BAD_MONEY + negative) | huge
    if name in ("variable_share", "probability"):
        return st.sampled_from(["1.5", "-0.1", "0.1234567", "50%", "abc", "2"])
    if name == "target":
        return st.sampled_from(["-1", "11", "0.1234567", "120%", "abc"])
    if name == "health_score":
        return st.sampled_from(BAD_WHOLE + ["-1", "11"])
    if name == "active_users":
        return st.sampled_from(BAD_WHOLE + ["-1", "2147483648"])
    if name == "inherited":
        return st.sampled_from(BOOLS)
    if name == "email" and kind == "people":
        return st.sampled_from(EMAILS)
    if name in ("owner_email", "manager_email") or (name == "email" and kind == "plans"):
        return st.sampled_from(["ghost@example.com", "nobody"])
    if name == "account_external_id":
        return st.sampled_from(["NO-SUCH", "=cmd|' /C calc'!A0"])
    if name in ("billing", "sentiment", "kind", "stage", "status", "role", "team", "region",
                "plan", "payment_schedule", "roles") and (kind, name) != ("leads", "status"):
        return st.sampled_from(["nope", "Monthly", "PAID", "won!", "x;y", "csm,ae"])
    # Free text (names, ids, reasons, segments, products, lead status): formulas.
    return st.sampled_from(FORMULAS) | st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=20
    ).map(lambda s: "=" + s)


# --- the world and the checks ---------------------------------------------------------------

TABLES = (Person, Account, Assignment, Invoice, Usage, Deal, PersonPlan, Lead, ImportRun,
          RowChange)


def snapshot_of_database():
    return tuple(model.objects.count() for model in TABLES) + (Events.objects.count(),)


@pytest.fixture
def world(people):
    make_account("B-1", name="Existing One")
    make_account("B-2", name="Existing Two", billing="annual")
    return people


def write(content: bytes) -> Path:
    handle = tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False)
    with handle:
        handle.write(content)
    return Path(handle.name)


def to_csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # so that a cell holding \r is quoted
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return out.getvalue()


def refused(kind, content: bytes):
    """Import the file; it must be refused, change nothing, and report well-formed lines."""
    before = snapshot_of_database()
    path = write(content)
    try:
        result = import_csv(kind, path)
    finally:
        path.unlink()
    assert not result.ok, f"accepted: {content[:500]!r}"
    assert snapshot_of_database() == before, "a refused file changed the database"
    for error in result.errors:
        assert ERROR.fullmatch(error), f"not 'line N: column: reason': {error!r}"
    return result.errors


def lines_of(errors):
    return {int(ERROR.fullmatch(e).group(1)) for e in errors}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(GOOD))
def test_the_good_files_are_accepted(world, kind):
    """The starting point of every broken file below imports cleanly."""
    path = write(GOOD[kind].encode())
    try:
        result = import_csv(kind, path, dry_run=True)
    finally:
        path.unlink()
    assert result.ok, result.errors
    assert result.created == 3


# --- broken files -----------------------------------------------------------------------------


@st.composite
def a_bad_cell(draw, kind=None):
    kind = kind or draw(st.sampled_from(sorted(GOOD)))
    header, rows = parsed(kind)
    index = draw(st.integers(0, len(rows) - 1))
    column = draw(st.sampled_from(header))
    value = draw(bad_values(kind, column))
    rows[index][column] = value
    return kind, header, rows, index + 2, column, value


@pytest.mark.django_db
@EXAMPLES
@given(case=a_bad_cell())
def test_a_bad_cell_is_refused_on_its_line_and_column(world, case):
    kind, header, rows, line, column, value = case
    errors = refused(kind, to_csv(header, rows).encode())
    assert any(e.startswith(f"line {line}: {column}: ") for e in errors), (value, errors)
    assert lines_of(errors) == {line}, errors


@pytest.mark.django_db
@EXAMPLES
@given(kind=st.sampled_from(sorted(GOOD)), data=st.data())
def test_an_empty_required_cell_is_refused(world, kind, data):
    header, rows = parsed(kind)
    index = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(required(kind)))
    rows[index][column] = data.draw(st.sampled_from(["", " ", "\t"]))
    errors = refused(kind, to_csv(header, rows).encode())
    assert f"line {index + 2}: {column}: required, but empty" in errors


@pytest.mark.django_db
@EXAMPLES
@given(kind=st.sampled_from(sorted(GOOD)), data=st.data())
def test_a_missing_required_column_is_refused(world, kind, data):
    header, rows = parsed(kind)
    column = data.draw(st.sampled_from(required(kind)))
    header.remove(column)
    errors = refused(kind, to_csv(header, rows).encode())
    assert f"line 1: {column}: missing required column" in errors
    assert lines_of(errors) == {1}


@pytest.mark.django_db
@EXAMPLES
@given(kind=st.sampled_from(sorted(GOOD)),
       extra=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
       at=st.integers(0, 20))
def test_an_unknown_column_is_refused(world, kind, extra, at):
    header, rows = parsed(kind)
    if extra in header:
        extra += "_x"
    header.insert(at % (len(header) + 1), extra)
    for row in rows:
        row[extra] = "1"
    errors = refused(kind, to_csv(header, rows).encode())
    assert any(e.startswith(f"line 1: {extra}: unknown column") for e in errors), errors


@pytest.mark.django_db
@EXAMPLES
@given(kind=st.sampled_from(sorted(GOOD)), data=st.data())
def test_a_repeated_key_is_refused_naming_the_first_line(world, kind, data):
    header, rows = parsed(kind)
    index = data.draw(st.integers(0, len(rows) - 1))
    rows.append(dict(rows[index]))
    key = KINDS[kind].key[0]
    errors = refused(kind, to_csv(header, rows).encode())
    assert any(e.startswith(f"line {len(rows) + 1}: {key}: duplicate ")
               and e.endswith(f"first on line {index + 2}") for e in errors), errors


@pytest.mark.django_db
@EXAMPLES
@given(kind=st.sampled_from(sorted(GOOD)), data=st.data())
def test_a_row_of_the_wrong_width_is_refused(world, kind, data):
    header, rows = parsed(kind)
    index = data.draw(st.integers(0, len(rows) - 1))
    cells = [rows[index][h] for h in header]
    cells = cells[:-1] if data.draw(st.booleans()) else [*cells, "surplus"]
    rows[index] = cells
    errors = refused(kind, to_csv(header, rows).encode())
    assert (f"line {index + 2}: row: has {len(cells)} cells; the header has {len(header)}"
            in errors)


@pytest.mark.django_db
@EXAMPLES
@given(kind=st.sampled_from(sorted(GOOD)), data=st.data())
def test_a_file_that_is_not_utf8_is_refused_naming_the_first_bad_line(world, kind, data):
    header, rows = parsed(kind)
    index = data.draw(st.integers(0, len(rows) - 1))
    how = data.draw(st.sampled_from(["latin-1", "cp1252", "bytes", "utf-16"]))
    text_column = header[0]
    if how == "utf-16":
        content, line = to_csv(header, rows).encode("utf-16"), 1
    elif how == "bytes":
        bad = data.draw(st.sampled_from([b"\xff", b"\xfe", b"\xc3\x28", b"\xa0", b"\xe2\x82",
                                         b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]))
        marker = "QQMARKQQ"
        rows[index][text_column] = "A" + marker
        content = to_csv(header, rows).encode().replace(marker.encode(), bad)
        line = index + 2
    else:
        rows[index][text_column] = "Café Müller"
        content, line = to_csv(header, rows).encode(how), index + 2
    errors = refused(kind, content)
    assert errors == [f"line 1: file: not UTF-8 text (first bad byte on line {line})"]


@pytest.mark.django_db
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(GOOD)), data=st.data())
def test_several_bad_rows_are_all_reported_and_nothing_is_written(world, kind, data):
    header, rows = parsed(kind)
    broken = data.draw(st.sets(st.integers(0, len(rows) - 1), min_size=2, max_size=3))
    for index in broken:
        column = data.draw(st.sampled_from(header))
        rows[index][column] = data.draw(bad_values(kind, column))
    errors = refused(kind, to_csv(header, rows).encode())
    assert lines_of(errors) == {i + 2 for i in broken}, errors


@pytest.mark.django_db
def test_the_command_prints_every_problem_and_fails(world, capsys):
    header, rows = parsed("invoices")
    rows[0]["amount"] = "-5.00"
    rows[2]["issued_on"] = "2025-02-30"
    path = write(to_csv(header, rows).encode())
    before = snapshot_of_database()
    try:
        with pytest.raises(CommandError, match="2 problem"):
            call_command("import_csv", "invoices", str(path))
    finally:
        path.unlink()
    out = capsys.readouterr().out
    assert "line 2: amount: negative on a usage invoice (only a refund may be negative)" in out
    assert "line 4: issued_on: no such day: '2025-02-30'" in out
    assert snapshot_of_database() == before


@pytest.mark.django_db
def test_a_formula_starting_with_a_signed_number_is_refused(world):
    header, rows = parsed("accounts")
    rows[0]["name"] = "-2+3+cmd|' /C calc'!A0"
    refused("accounts", to_csv(header, rows).encode())


# --- exports ------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def runs_as_formula(cell: str) -> bool:
    """Whether a spreadsheet would read the cell as a formula: it starts like one and is not
    a plain number ("-12.50" is a number, "-2+3" and "=1" are formulas)."""
    return cell.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(cell)


# Cells that start like a formula, line breaks and all.
formula_like = (
    st.sampled_from(FORMULAS + ["-2+3+cmd|' /C calc'!A0", "+1+1", "@x", "-1", "+2.5",
                                "-Infinity", "+NaN", "-1_000", "-1 ", "\r=1", "a\r=1+cmd"])
    | st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n"]).flatmap(
        lambda first: st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
                              max_size=15).map(lambda rest: first + rest))
)


@given(value=formula_like)
@settings(max_examples=200, deadline=None)
def test_spreadsheet_safe_never_returns_a_formula_nor_a_line_break(value):
    safe = spreadsheet_safe(value)
    assert not runs_as_formula(safe), repr(safe)
    assert "\r" not in safe and "\n" not in safe, repr(safe)


def test_spreadsheet_safe_quotes_what_only_python_reads_as_a_number():
    for value in ("-Infinity", "+NaN", "-1_000", "-١", "-1 "):
        assert not runs_as_formula(spreadsheet_safe(value)), value


@pytest.fixture
def approved(alice_book, users):  # noqa: F811
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    payout = Payout.objects.get(person=alice_book, quarter="2025Q2")
    payout_approve(payout_id=payout.id, user=users["fiona"])
    return payout


@pytest.mark.django_db
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=formula_like, employee_id=formula_like)
def test_the_payroll_export_neutralises_formulas(approved, tmp_path, name, employee_id):
    # People can be renamed in the admin, where nothing checks for formulas.
    Person.objects.filter(id=approved.person_id).update(name=name, employee_id=employee_id)
    output = tmp_path / "payroll.csv"
    call_command("export_payouts", "2025Q2", "--output", str(output), stdout=io.StringIO())
    with open(output, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len(rows) > 2
    for row in rows:
        for cell in row:
            assert not runs_as_formula(cell), (cell, row)
    names = {row[rows[0].index("name")] for row in rows[1:]}
    assert names == {spreadsheet_safe(name)}


@pytest.mark.django_db
def test_the_payroll_download_neutralises_formulas(approved, client_for):
    Person.objects.filter(id=approved.person_id).update(name="=HYPERLINK(\"http://x\")",
                                                       employee_id="@SUM(A1)")
    response = client_for("fiona").get("/finance/2025Q2/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert all(not runs_as_formula(cell) for row in rows for cell in row)
    assert rows[1][1] == "'@SUM(A1)" and rows[1][2] == "'=HYPERLINK(\"http://x\")"


@pytest.mark.django_db
def test_a_carriage_return_inside_a_cell_cannot_start_a_formula_row(world, approved, tmp_path):
    header, rows = parsed("people")
    rows[0]["name"] = "Bob\r=1+cmd|' /C calc'!A0"
    path = write(to_csv(header, rows).encode())
    try:
        assert import_csv("people", path).ok  # accepted: the cell does not start like a formula
    finally:
        path.unlink()
    name = Person.objects.get(email="new1@example.com").name
    Person.objects.filter(id=approved.person_id).update(name=name)
    output = tmp_path / "payroll.csv"
    call_command("export_payouts", "2025Q2", "--output", str(output), stdout=io.StringIO())
    with open(output, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert all(len(row) == len(rows[0]) for row in rows), rows
    assert all(not runs_as_formula(cell) for row in rows for cell in row), rows


# --- the tables' CSV exports ----------------------------------------------------------------

EXPORT_LINK = re.compile(r'<a class="export-csv" href="([^"]+)"')


def table_exports(client, url):
    """Every CSV export linked from a page, parsed."""
    page = client.get(url)
    assert page.status_code == 200, url
    files = {}
    for href in EXPORT_LINK.findall(page.content.decode()):
        href = html.unescape(href)
        response = client.get(href if href.startswith("/") else url + href)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        files[href] = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"),
                                                  newline="")))
    assert files, f"no CSV export on {url}"
    return files


@pytest.mark.django_db
@pytest.mark.parametrize("payload", ["=cmd|' /C calc'!A0", "@SUM(A1:A9)", "+HYPERLINK(\"x\")",
                                     "-2+3+cmd|' /C calc'!A0", "\t=1+1"])
def test_the_tables_csv_exports_neutralise_formulas(people, users, client_for, payload):
    """Names typed in the admin and requests typed in a form reach the tables unchecked: the
    exports of the book, the team and the feature requests must quote them."""
    from accounts.models import FeatureRequest
    from tests.conftest import assign

    account = make_account("X-1", name=payload)
    assign(account, people["alice"], start=D(2024, 1, 1))
    Person.objects.filter(id=people["alice"].id).update(name=payload)
    FeatureRequest.objects.create(account=account, request=payload, importance="high",
                                  logged_by=users["alice"])
    maria = client_for("maria")
    files = {}
    for url in (f"/people/{people['alice'].id}/book/", "/team/", "/team/feature-requests/"):
        files.update(table_exports(maria, url))
    seen = 0
    for href, rows in files.items():
        for row in rows:
            for cell in row:
                assert not runs_as_formula(cell), (href, cell)
                seen += cell.lstrip("'").strip() == payload.strip()
    assert seen >= 3  # the payload is in the files, quoted
