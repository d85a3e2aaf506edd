"""Invoices and usage checked in SQL (accounts/imports/insql.py): the same errors, word for
word and line for line, as the row-by-row check in Python, and the same rows written.

Each bad file runs through both: once as it comes (a plain file is checked in SQL), once
with the SQL checks turned off. A file COPY would read otherwise than the csv module (a
row of another width, a quote, a blank line) or a cell only Python accepts falls back to
the Python check, with the same errors."""
# ruff: noqa: E501 (the sample files keep their rows on one line each)

import datetime
from decimal import Decimal

import pytest

from accounts.imports import insql
from accounts.models import ImportRun, Invoice, RowChange, Usage
from compapp.imports import import_csv
from tests.conftest import make_account

D = datetime.date
INVOICES = "external_id,account_external_id,issued_on,period_start,period_end,amount,kind,status,paid_on,deal_external_id"
ROW = "INV-{n},ACME,2025-01-31,2025-01-01,2025-01-31,10.00,usage,paid,2025-02-01,"


def invoices(*rows):
    return INVOICES + "\n" + "\n".join(rows) + "\n"


def usage(*rows):
    return "account_external_id,month,amount\n" + "\n".join(rows) + "\n"


@pytest.fixture
def customers(db):
    return make_account("ACME", billing="annual"), make_account("BETA")


@pytest.fixture
def write(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8", newline="")
        return path

    return write


@pytest.fixture
def run(monkeypatch):
    """run(kind, path, in_sql) -> (result, how): "sql" when the SQL check decided,
    "python" when the file was checked row by row."""

    def run(kind, path, *, in_sql=True):
        decided = []
        real = insql.stage

        def stage(*args, **kwargs):
            decided.append(real(*args, **kwargs))
            return decided[-1]

        with monkeypatch.context() as patch:
            patch.setattr(insql, "stage", stage)
            if not in_sql:
                patch.setattr(insql, "supported", lambda kind: False)
            result = import_csv(kind, path)
        return result, "sql" if decided == [True] else "python"

    return run


def both(run, kind, path):
    """The result through SQL, after checking the Python check says the same."""
    in_python, how = run(kind, path, in_sql=False)
    assert how == "python"
    in_sql, how = run(kind, path)
    assert in_sql.errors == in_python.errors
    return in_sql, how


# Each SQL check, with the errors it must give (line, column, the parser's reason).
BAD = [
    pytest.param(
        "invoices",
        invoices(
            "INV-1,ACME,31/01/2025,2025-01-01,2025-02-30,10.00,usage,open,,",
            "INV-2,ACME,2025-02-29,2024-02-29,2025-04-31,10.00,usage,open,,",
            "INV-3,ACME,2000-02-29,1900-02-29,0000-01-01,10.00,usage,open,,",
            "INV-4,ACME,2025-1-1,2025-01-01,2025-12-31,10.00,usage,open,,",
        ),
        [
            "line 2: issued_on: not a date YYYY-MM-DD: '31/01/2025'",
            "line 2: period_end: no such day: '2025-02-30'",
            "line 3: issued_on: no such day: '2025-02-29'",
            "line 3: period_end: no such day: '2025-04-31'",
            "line 4: period_start: no such day: '1900-02-29'",
            "line 4: period_end: no such day: '0000-01-01'",
            "line 5: issued_on: not a date YYYY-MM-DD: '2025-1-1'",
        ],
        id="dates",
    ),
    pytest.param(
        "invoices",
        invoices(
            "INV-1,ACME,2025-01-31,2025-01-01,2025-01-31,10.123,usage,open,,",
            "INV-2,ACME,2025-01-31,2025-01-01,2025-01-31,$10,usage,open,,",
            "INV-3,ACME,2025-01-31,2025-01-01,2025-01-31,1e5,usage,open,,",
            "INV-4,ACME,2025-01-31,2025-01-01,2025-01-31,9999999999999,usage,open,,",
            "INV-5,ACME,2025-01-31,2025-01-01,2025-01-31,000000000000012.50,usage,open,,",
            "INV-6,ACME,2025-01-31,2025-01-01,2025-01-31,-5,usage,open,,",
            "INV-7,ACME,2025-01-31,2025-01-01,2025-01-31,-5,refund,open,,",
            "INV-8,ACME,2025-01-31,2025-01-01,2025-01-31,5.,usage,open,,",
        ),
        [
            "line 2: amount: more than 2 decimal places: '10.123'",
            "line 3: amount: not a number (no currency sign): '$10'",
            "line 4: amount: not a number like 1234.56: '1e5'",
            "line 5: amount: too large: '9999999999999'",
            "line 7: amount: negative on a usage invoice (only a refund may be negative)",
            "line 9: amount: not a number like 1234.56: '5.'",
        ],
        id="money",
    ),
    pytest.param(
        "invoices",
        invoices(
            "INV-1,ACME,2025-01-31,2025-01-01,2025-01-31,10,credit,PAID,,",
            f"{'X' * 65},ACME,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,",
            "=1+1,ACME,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,@x",
            "-5,ACME,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,+1.5",
            "-cmd,ACME,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,",
            "it's,ACME,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,+",
        ),
        [
            "line 2: kind: not one of usage, contract, overage, refund: 'credit'",
            "line 2: status: not one of open, paid, void: 'PAID'",
            "line 3: external_id: longer than 64 characters",
            "line 4: external_id: looks like a spreadsheet formula: '=1+1'",
            "line 4: deal_external_id: looks like a spreadsheet formula: '@x'",
            "line 6: external_id: looks like a spreadsheet formula: '-cmd'",
            "line 7: deal_external_id: looks like a spreadsheet formula: '+'",
        ],
        id="choices-lengths-formulas",
    ),
    pytest.param(
        "invoices",
        invoices(
            "INV-1,NOPE,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,",
            "INV-2,  ACME ,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,",
            ",ACME,2025-01-31,2025-01-01,2025-01-31,  ,usage,open,,",
            "INV-4,acme,2025-01-31,2025-02-01,2025-01-31,10,usage,paid,,",
            "INV-5,ACME,2025-01-31,2025-01-01,2025-01-31,10,usage,open,2025-02-01,",
        ),
        [
            "line 2: account_external_id: unknown account: 'NOPE'",
            "line 4: external_id: required, but empty",
            "line 4: amount: required, but empty",
            "line 5: account_external_id: unknown account: 'acme'",
            "line 5: period_end: 2025-01-31 is before period_start 2025-02-01",
            "line 5: paid_on: required when status is paid",
            "line 6: paid_on: given on an open invoice (set status paid, or leave it empty)",
        ],
        id="references-required-and-rows",
    ),
    pytest.param(
        "invoices",
        invoices(
            ROW.format(n=1),
            ROW.format(n=2),
            " INV-1 ,NOPE,2025-01-31,2025-01-01,2025-01-31,10.00,usage,paid,2025-02-01,",
            ",,,,,,,,,",
            ROW.format(n=2),
            ROW.format(n=1),
        ),
        [
            "line 4: external_id: duplicate external_id: first on line 2",
            "line 4: account_external_id: unknown account: 'NOPE'",
            "line 6: external_id: duplicate external_id: first on line 3",
            "line 7: external_id: duplicate external_id: first on line 2",
        ],
        id="duplicates-and-an-empty-row",
    ),
    pytest.param(
        "usage",
        usage(
            "ACME,2025-01,1",
            "ACME,2025-13,1",
            "ACME,0000-01,1",
            "NOPE,2025-01,1",
            "NOPE,2025-01,-4",
            "ACME,2025-01,-0",
            "BETA,2025-1,12.345",
        ),
        [
            "line 3: month: not a month YYYY-MM: '2025-13'",
            "line 4: month: year 0 is out of range",
            "line 5: account_external_id: unknown account: 'NOPE'",
            "line 6: account_external_id: unknown account: 'NOPE'",
            "line 6: account_external_id: duplicate account_external_id + month: first on line 5",
            "line 6: amount: must not be negative: '-4'",
            "line 7: account_external_id: duplicate account_external_id + month: first on line 2",
            "line 8: month: not a month YYYY-MM: '2025-1'",
            "line 8: amount: more than 2 decimal places: '12.345'",
        ],
        id="usage",
    ),
]


@pytest.mark.parametrize(("kind", "text", "expected"), BAD)
def test_each_sql_check_reports_what_the_python_check_reports(kind, text, expected, customers, run, write):
    result, how = both(run, kind, write(f"{kind}.csv", text))

    assert how == "sql"
    assert result.errors == expected
    assert not Invoice.objects.exists() and not Usage.objects.exists()
    assert not ImportRun.objects.exists()


# Files COPY reads otherwise than the csv module, or with a cell only Python accepts.
FALLBACK = [
    pytest.param(
        invoices(ROW.format(n=1), "INV-2,ACME,2025-01-31", ROW.format(n=3) + ",extra"),
        [
            "line 3: row: has 3 cells; the header has 10",
            "line 4: row: has 11 cells; the header has 10",
        ],
        id="rows-of-another-width",
    ),
    pytest.param(
        invoices(ROW.format(n=1), "INV-2,ACME,2025-01-31,2025-01-01,2025-01-31,١٢,usage,paid,2025-02-01,x=1", "INV-3,NOPE,2025-01-31,2025-01-01,2025-01-31,1,usage,open,,"),
        ["line 4: account_external_id: unknown account: 'NOPE'"],
        id="digits-of-another-script",
    ),
    pytest.param(
        INVOICES + "\n" + ROW.format(n=1) + "\rINV-2,NOPE,2025-01-31,2025-01-01,2025-01-31,1,usage,open,,\n",
        ["line 3: account_external_id: unknown account: 'NOPE'"],
        id="a-lone-carriage-return",
    ),
]


@pytest.mark.parametrize(("text", "expected"), FALLBACK)
def test_a_file_sql_cannot_check_exactly_is_checked_in_python(text, expected, customers, run, write):
    result, how = both(run, "invoices", write("invoices.csv", text))

    assert how == "python"
    assert result.errors == expected
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            invoices('INV-1,ACME,2025-01-31,2025-01-01,2025-01-31,"1,000.00",usage,open,,'),
            "line 2: amount: not a number like 1234.56: '1,000.00'",
        ),
        (
            invoices(ROW.format(n=1), "", "INV-2,ACME,2025-01-31,2025-01-01,2025-01-31,1.001,usage,open,,"),
            "line 4: amount: more than 2 decimal places: '1.001'",
        ),
    ],
    ids=["a-quoted-cell", "a-blank-line"],
)
def test_a_file_that_is_not_plain_never_reaches_sql(text, expected, customers, run, write):
    result, how = both(run, "invoices", write("invoices.csv", text))

    assert how == "python"
    assert result.errors == [expected]


GOOD_INVOICES = invoices(
    "INV-1,ACME,2025-01-31,2025-01-01,2025-01-31,1200.5,usage,paid,2025-02-10,",
    "INV-2, BETA ,2025-02-01,2024-02-29,2026-01-31,24000,contract,open,,D-1",
    "INV-3,BETA,2025-02-15,2025-01-01,2025-01-31,-35.10,refund,void,,",
    ",,,,,,,,,",
    "INV-4,ACME,2025-02-15,2025-01-01,2025-01-31,000000000012.00,overage,void,2025-03-01,",
)


def stored_invoices():
    return sorted(Invoice.objects.values_list(
        "external_id", "account__external_id", "issued_on", "period_start", "period_end",
        "amount", "kind", "status", "paid_on", "deal_external_id",
    ))


@pytest.mark.parametrize("in_sql", [True, False], ids=["sql", "python"])
def test_both_checks_write_the_same_rows_to_the_cent(in_sql, customers, run, write):
    text = GOOD_INVOICES.replace("\n", "\r\n")  # and a spreadsheet's line ends
    result, how = run("invoices", write("invoices.csv", "\ufeff" + text), in_sql=in_sql)

    assert how == ("sql" if in_sql else "python")
    assert result.errors == []
    assert (result.rows, result.created, result.updated) == (4, 4, 0)
    assert stored_invoices() == [
        ("INV-1", "ACME", D(2025, 1, 31), D(2025, 1, 1), D(2025, 1, 31), Decimal("1200.50"), "usage", "paid", D(2025, 2, 10), ""),
        ("INV-2", "BETA", D(2025, 2, 1), D(2024, 2, 29), D(2026, 1, 31), Decimal("24000.00"), "contract", "open", None, "D-1"),
        ("INV-3", "BETA", D(2025, 2, 15), D(2025, 1, 1), D(2025, 1, 31), Decimal("-35.10"), "refund", "void", None, ""),
        ("INV-4", "ACME", D(2025, 2, 15), D(2025, 1, 1), D(2025, 1, 31), Decimal("12.00"), "overage", "void", D(2025, 3, 1), ""),
    ]


def test_an_update_in_sql_records_its_history_and_a_second_import_changes_nothing(customers, run, write):
    run("invoices", write("one.csv", GOOD_INVOICES))
    changed = GOOD_INVOICES.replace("1200.5,usage,paid", "1300,usage,paid")

    result, how = run("invoices", write("two.csv", changed))
    again, _ = run("invoices", write("two.csv", changed))

    assert how == "sql"
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    change = RowChange.objects.get()
    assert (change.key, change.before, change.after) == (
        "INV-1", {"amount": "1200.50"}, {"amount": "1300.00"}
    )


def test_optional_columns_left_out_take_their_empty_values(customers, run, write):
    text = "external_id,account_external_id,issued_on,period_start,period_end,amount,kind,status\nINV-1,ACME,2025-01-31,2025-01-01,2025-01-31,7,usage,open\n"

    result, how = run("invoices", write("invoices.csv", text))

    assert (how, result.errors) == ("sql", [])
    assert Invoice.objects.values_list("paid_on", "deal_external_id", "amount").get() == (
        None, "", Decimal("7.00")
    )


def test_usage_in_sql_is_stored_on_the_first_day_of_the_month(customers, run, write):
    result, how = run("usage", write("usage.csv", usage("ACME,2025-01,1500.25", "BETA,2025-02,-0")))

    assert (how, result.errors, result.created) == ("sql", [], 2)
    assert sorted(Usage.objects.values_list("account__external_id", "month", "amount")) == [
        ("ACME", D(2025, 1, 1), Decimal("1500.25")),
        ("BETA", D(2025, 2, 1), Decimal("0.00")),
    ]


def test_whitespace_is_stripped_as_python_strips_it(customers, run, write):
    text = usage("\u3000ACME\xa0,\t2025-01 ,\u2009100.00")

    result, how = run("usage", write("usage.csv", text))

    assert (how, result.errors) == ("sql", [])
    assert Usage.objects.values_list("account__external_id", "amount").get() == (
        "ACME", Decimal("100.00")
    )
