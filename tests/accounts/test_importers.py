"""CSV imports (data-contract.md): every kind, all or nothing, idempotent, with history."""
# ruff: noqa: E501 (the sample files keep their rows on one line each)

import datetime
import html
import io
import re
from decimal import Decimal
from textwrap import dedent

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.imports import engine as importers
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
from compapp.imports import import_csv
from payouts.models import PersonPlan
from tests.conftest import assign, make_account

D = datetime.date

GOOD = {
    "people": """
        email,name,roles,team,start_date,ote,variable_share,manager_email,region,end_date,employee_id
        dana@example.com,Dana Diaz,ae,sales,2025-02-01,120000.00,0.5,nina@example.com,Europe,,E-100
        nina@example.com,Nina North,manager;ae,sales,2021-06-01,180000,,maria@example.com,US,,E-101
        """,
    "accounts": """
        external_id,name,billing,segment,health_score,sentiment,active_users,products,annual_contract_value,contract_start,contract_end
        ACME,Acme Corp,annual,20k+,7,positive,42,product analytics; session replay,24000.50,2025-01-01,2025-12-31
        BETA,Beta Ltd,monthly,,,,,,,,
        """,
    "assignments": """
        account_external_id,owner_email,role,start_date,end_date,inherited,reason
        ACME,charlie@example.com,ae,2025-01-01,,,won it
        ACME,alice@example.com,csm,2025-01-01,2025-03-31,,
        ACME,bob@example.com,csm,2025-04-01,,false,cover for alice
        """,
    "invoices": """
        external_id,account_external_id,issued_on,period_start,period_end,amount,kind,status,paid_on,deal_external_id
        INV-1,ACME,2025-01-31,2025-01-01,2025-01-31,1200.50,usage,paid,2025-02-10,
        INV-2,ACME,2025-02-01,2025-02-01,2026-01-31,24000,contract,open,,D-1
        INV-3,BETA,2025-02-15,2025-01-01,2025-01-31,-35.10,refund,void,,
        """,
    "usage": """
        account_external_id,month,amount
        ACME,2025-01,1500.25
        ACME,2025-02,0
        BETA,2025-01,99.99
        """,
    "deals": """
        external_id,account_external_id,owner_email,kind,arr,stage,probability,created_on,demo_on,closed_on,payment_schedule
        D-1,ACME,charlie@example.com,new_annual,24000,won,1,2025-01-05,2025-01-10,2025-02-01,upfront
        D-2,BETA,charlie@example.com,expansion_annual,5000.50,proposal,0.25,2025-03-01,,,
        """,
    "plans": """
        email,quarter,plan,target,quota
        charlie@example.com,2025Q2,ae_commission,,200000
        Alice@Example.com,2025Q2,csm_revenue_retention,1.2,
        """,
    "leads": """
        external_id,owner_email,segment,created_on,status
        L-1,charlie@example.com,20k+,2025-04-02,
        L-2,charlie@example.com,startup,2025-04-03,Won
        """,
}

# One changed cell per kind: (text before, text after, RowChange key, before, after).
CHANGES = {
    "people": (
        "nina@example.com,Europe",
        "maria@example.com,Europe",
        "dana@example.com",
        {"manager_email": "nina@example.com"},
        {"manager_email": "maria@example.com"},
    ),
    "accounts": (
        "24000.50",
        "26000",
        "ACME",
        {"annual_contract_value": "24000.50"},
        {"annual_contract_value": "26000.00"},
    ),
    "assignments": (
        "2025-03-31",
        "2025-03-15",
        "ACME/csm/2025-01-01",
        {"end_date": "2025-03-31"},
        {"end_date": "2025-03-15"},
    ),
    "invoices": (
        "24000,contract,open,,D-1",
        "24000,contract,paid,2025-02-20,D-1",
        "INV-2",
        {"status": "open", "paid_on": None},
        {"status": "paid", "paid_on": "2025-02-20"},
    ),
    "usage": (
        "ACME,2025-02,0",
        "ACME,2025-02,10.5",
        "ACME/2025-02",
        {"amount": "0.00"},
        {"amount": "10.50"},
    ),
    "deals": (
        "proposal,0.25",
        "demo,0.5",
        "D-2",
        {"stage": "proposal", "probability": "0.250000"},
        {"stage": "demo", "probability": "0.500000"},
    ),
    "plans": (
        ",200000",
        ",250000",
        "charlie@example.com/2025Q2",
        {"quota": "200000.00"},
        {"quota": "250000.00"},
    ),
    "leads": (
        "startup,2025-04-03,Won",
        "startup,2025-04-03,lost",
        "L-2",
        {"status": "won"},
        {"status": "lost"},
    ),
}

MODELS = {
    "people": "accounts.Person",
    "accounts": "accounts.Account",
    "assignments": "accounts.Assignment",
    "invoices": "accounts.Invoice",
    "usage": "accounts.Usage",
    "deals": "accounts.Deal",
    "plans": "payouts.PersonPlan",
    "leads": "accounts.Lead",
}


def csv_text(text):
    return dedent(text).strip() + "\n"


@pytest.fixture
def write(tmp_path):
    def write(name, text, *, raw=False):
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text if raw else csv_text(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def customers(people):
    """The accounts the files refer to, and the shared people (alice, bob, charlie, ...)."""
    return {
        "acme": make_account("ACME", billing="annual"),
        "beta": make_account("BETA"),
    }


@pytest.fixture
def fiona(people):
    """Finance's login, without a password (hashing one takes most of a second)."""
    return login_user("fiona@example.com", "finance")


def login_user(email, group):
    user = User.objects.create(username=email, email=email)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def client_as(client, people):
    def log_in(email, group):
        client.force_login(login_user(email, group))
        return client

    return log_in


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Person,
            Account,
            Assignment,
            Invoice,
            Usage,
            Deal,
            PersonPlan,
            Lead,
            ImportRun,
            RowChange,
        )
    }


def page_text(response):
    content = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


# --- Each kind imports its rows exactly --------------------------------------------------


def test_it_imports_people_with_a_manager_defined_later_in_the_same_file(people, write):
    logins = User.objects.count()
    result = import_csv("people", write("people.csv", GOOD["people"]))

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged, result.rows) == (2, 0, 0, 2)
    dana = Person.objects.get(email="dana@example.com")
    nina = Person.objects.get(email="nina@example.com")
    assert (dana.name, dana.roles, dana.team, dana.start_date, dana.end_date) == (
        "Dana Diaz",
        ["ae"],
        "sales",
        D(2025, 2, 1),
        None,
    )
    assert (dana.ote, dana.variable_share) == (Decimal("120000.00"), Decimal("0.500000"))
    assert (dana.manager, dana.region, dana.employee_id) == (nina, "Europe", "E-100")
    assert (nina.roles, nina.ote, nina.variable_share) == (
        ["manager", "ae"],
        Decimal("180000.00"),
        None,
    )
    assert (nina.manager, nina.region) == (people["maria"], "US")
    assert User.objects.count() == logins  # people, not logins


def test_it_imports_accounts_with_their_products_and_contract(db, write):
    result = import_csv("accounts", write("accounts.csv", GOOD["accounts"]))

    assert result.errors == []
    acme, beta = Account.objects.get(external_id="ACME"), Account.objects.get(external_id="BETA")
    assert (acme.name, acme.billing, acme.segment, acme.health_score, acme.sentiment) == (
        "Acme Corp",
        "annual",
        "20k+",
        7,
        "positive",
    )
    assert (acme.active_users, acme.products) == (42, ["product analytics", "session replay"])
    assert acme.annual_contract_value == Decimal("24000.50")
    assert (acme.contract_start, acme.contract_end) == (D(2025, 1, 1), D(2025, 12, 31))
    assert (beta.segment, beta.health_score, beta.sentiment, beta.active_users) == (
        "",
        None,
        "",
        None,
    )
    assert (beta.products, beta.annual_contract_value, beta.contract_start) == ([], None, None)


def test_it_imports_assignments_with_inherited_defaulting_by_role(customers, people, write, fiona):
    result = import_csv("assignments", write("a.csv", GOOD["assignments"]), user=fiona)

    assert result.errors == []
    rows = {(a.owner.email, a.role): a for a in Assignment.objects.select_related("owner")}
    ae = rows[("charlie@example.com", "ae")]
    assert (ae.account, ae.start_date, ae.end_date, ae.inherited, ae.reason) == (
        customers["acme"],
        D(2025, 1, 1),
        None,
        False,
        "won it",
    )
    alice = rows[("alice@example.com", "csm")]
    assert (alice.start_date, alice.end_date, alice.inherited) == (
        D(2025, 1, 1),
        D(2025, 3, 31),
        True,
    )
    bob = rows[("bob@example.com", "csm")]
    assert (bob.start_date, bob.end_date, bob.inherited, bob.reason) == (
        D(2025, 4, 1),
        None,
        False,
        "cover for alice",
    )
    assert {a.created_by for a in rows.values()} == {fiona}


def test_it_imports_invoices_with_money_to_the_cent(customers, write):
    result = import_csv("invoices", write("invoices.csv", GOOD["invoices"]))

    assert result.errors == []
    one, two, three = (Invoice.objects.get(external_id=f"INV-{n}") for n in (1, 2, 3))
    assert (one.account, one.issued_on, one.period_start, one.period_end) == (
        customers["acme"],
        D(2025, 1, 31),
        D(2025, 1, 1),
        D(2025, 1, 31),
    )
    assert (one.amount, one.kind, one.status, one.paid_on, one.deal_external_id) == (
        Decimal("1200.50"),
        "usage",
        "paid",
        D(2025, 2, 10),
        "",
    )
    assert (two.amount, two.kind, two.status, two.paid_on, two.deal_external_id) == (
        Decimal("24000.00"),
        "contract",
        "open",
        None,
        "D-1",
    )
    assert (three.account, three.amount, three.kind, three.status) == (
        customers["beta"],
        Decimal("-35.10"),
        "refund",
        "void",
    )
    assert isinstance(one.amount, Decimal)


def test_it_imports_usage_on_the_first_day_of_the_month(customers, write):
    result = import_csv("usage", write("usage.csv", GOOD["usage"]))

    assert result.errors == []
    stored = {
        (u.account.external_id, u.month): u.amount for u in Usage.objects.select_related("account")
    }
    assert stored == {
        ("ACME", D(2025, 1, 1)): Decimal("1500.25"),
        ("ACME", D(2025, 2, 1)): Decimal("0.00"),
        ("BETA", D(2025, 1, 1)): Decimal("99.99"),
    }


def test_it_imports_deals(customers, people, write):
    result = import_csv("deals", write("deals.csv", GOOD["deals"]))

    assert result.errors == []
    won, open_deal = Deal.objects.get(external_id="D-1"), Deal.objects.get(external_id="D-2")
    assert (won.account, won.owner, won.kind, won.arr, won.stage) == (
        customers["acme"],
        people["charlie"],
        "new_annual",
        Decimal("24000.00"),
        "won",
    )
    assert (won.probability, won.created_on, won.demo_on, won.closed_on) == (
        Decimal("1"),
        D(2025, 1, 5),
        D(2025, 1, 10),
        D(2025, 2, 1),
    )
    assert won.payment_schedule == "upfront"
    assert (open_deal.arr, open_deal.probability, open_deal.demo_on, open_deal.closed_on) == (
        Decimal("5000.50"),
        Decimal("0.25"),
        None,
        None,
    )
    assert open_deal.payment_schedule == ""


def test_it_imports_plans_matching_emails_whatever_their_case(people, write):
    result = import_csv("plans", write("plans.csv", GOOD["plans"]))

    assert result.errors == []
    charlie = PersonPlan.objects.get(person=people["charlie"])
    alice = PersonPlan.objects.get(person=people["alice"])
    assert (charlie.quarter, charlie.plan, charlie.target, charlie.quota) == (
        "2025Q2",
        "ae_commission",
        None,
        Decimal("200000.00"),
    )
    assert (alice.quarter, alice.plan, alice.target, alice.quota) == (
        "2025Q2",
        "csm_revenue_retention",
        Decimal("1.2"),
        None,
    )


def test_it_imports_leads_open_unless_a_status_is_given(people, write):
    result = import_csv("leads", write("leads.csv", GOOD["leads"]))

    assert result.errors == []
    first, second = Lead.objects.get(external_id="L-1"), Lead.objects.get(external_id="L-2")
    assert (first.owner, first.segment, first.created_on, first.status) == (
        people["charlie"],
        "20k+",
        D(2025, 4, 2),
        "open",
    )
    assert (second.segment, second.status) == ("startup", "won")


# --- Idempotent, with history ------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_it_changes_nothing_when_the_same_file_is_imported_twice(kind, customers, write, fiona):
    if kind == "accounts":
        Account.objects.all().delete()
    path = write(f"{kind}.csv", GOOD[kind])
    first = import_csv(kind, path, user=fiona)
    assert first.errors == []
    before = counts()

    second = import_csv(kind, path, user=fiona)

    rows = len(csv_text(GOOD[kind]).splitlines()) - 1
    assert (second.created, second.updated, second.unchanged, second.rows) == (0, 0, rows, rows)
    assert RowChange.objects.count() == 0
    assert counts() == {**before, "ImportRun": before["ImportRun"] + 1}
    run = ImportRun.objects.order_by("-id").first()
    assert (run.kind, run.filename, run.rows, run.unchanged, run.imported_by) == (
        kind,
        f"{kind}.csv",
        rows,
        rows,
        fiona,
    )
    assert len(run.sha256) == 64


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_it_updates_a_changed_row_and_records_its_before_and_after(kind, customers, write, fiona):
    if kind == "accounts":
        Account.objects.all().delete()
    assert import_csv(kind, write("first.csv", GOOD[kind])).errors == []
    old, new, key, before, after = CHANGES[kind]
    changed = csv_text(GOOD[kind]).replace(old, new)
    assert changed != csv_text(GOOD[kind])

    result = import_csv(kind, write("second.csv", changed, raw=True), user=fiona)

    rows = len(changed.splitlines()) - 1
    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 1, rows - 1)
    change = RowChange.objects.get()
    assert (change.model, change.key, change.before, change.after) == (
        MODELS[kind],
        key,
        before,
        after,
    )
    assert (change.source, change.changed_by) == ("import second.csv", fiona)


def test_it_writes_the_changed_values_and_creates_new_rows_in_the_same_file(customers, write):
    import_csv("invoices", write("one.csv", GOOD["invoices"]))
    text = csv_text(GOOD["invoices"]).replace("1200.50", "1300.00") + (
        "INV-4,BETA,2025-03-31,2025-03-01,2025-03-31,10,overage,open,,\n"
    )

    result = import_csv("invoices", write("two.csv", text, raw=True))

    assert (result.created, result.updated, result.unchanged) == (1, 1, 2)
    assert Invoice.objects.get(external_id="INV-1").amount == Decimal("1300.00")
    assert Invoice.objects.get(external_id="INV-4").amount == Decimal("10.00")


def test_empty_optional_cells_clear_what_was_stored(db, write):
    import_csv("accounts", write("a.csv", GOOD["accounts"]))
    text = csv_text(GOOD["accounts"]).replace(
        "20k+,7,positive,42,product analytics; session replay", ",,,,"
    )

    result = import_csv("accounts", write("b.csv", text, raw=True))

    assert result.updated == 1
    acme = Account.objects.get(external_id="ACME")
    assert (acme.segment, acme.health_score, acme.sentiment, acme.products) == ("", None, "", [])
    assert RowChange.objects.get().after == {
        "segment": "",
        "health_score": None,
        "sentiment": "",
        "active_users": None,
        "products": [],
    }


def test_a_file_may_end_an_assignment_and_start_the_next_one(customers, people, write):
    assign(customers["acme"], people["alice"], start=D(2024, 1, 1))
    text = """
        account_external_id,owner_email,role,start_date,end_date
        ACME,alice@example.com,csm,2024-01-01,2025-03-31
        ACME,bob@example.com,csm,2025-04-01,
        """

    result = import_csv("assignments", write("handover.csv", text))

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    ended = Assignment.objects.get(owner=people["alice"])
    assert ended.end_date == D(2025, 3, 31)
    assert ended.inherited is True  # the file's default for a csm row
    assert Assignment.objects.get(owner=people["bob"]).start_date == D(2025, 4, 1)


# --- Bad files: every bad row, its line and column, nothing written ----------------------

INVOICE_HEADER = (
    "external_id,account_external_id,issued_on,period_start,period_end,amount,kind,status,"
    "paid_on,deal_external_id"
)
GOOD_INVOICE = "INV-1,ACME,2025-01-31,2025-01-01,2025-01-31,10.00,usage,paid,2025-02-01,"

BAD = [
    pytest.param(
        "invoices",
        "external_id,account_external_id,issued_on,period_start,period_end,kind,status\n"
        "INV-1,ACME,2025-01-31,2025-01-01,2025-01-31,usage,open\n",
        ["line 1: amount: missing required column"],
        id="missing-column",
    ),
    pytest.param(
        "usage",
        "account_external_id,month,amount,colour\nACME,2025-01,10,red\n",
        ["line 1: colour: unknown column (expected: account_external_id, amount, month)"],
        id="unknown-column",
    ),
    pytest.param(
        "invoices",
        f"{INVOICE_HEADER}\n{GOOD_INVOICE}\n"
        "INV-2,ACME,31/01/2025,2025-01-01,2025-02-30,10.00,usage,open,,\n",
        [
            "line 3: issued_on: not a date YYYY-MM-DD: '31/01/2025'",
            "line 3: period_end: no such day: '2025-02-30'",
        ],
        id="bad-dates",
    ),
    pytest.param(
        "invoices",
        f"{INVOICE_HEADER}\nINV-1,ACME,2025-01-31,2025-01-01,2025-01-31,10.123,usage,open,,\n"
        "INV-2,ACME,2025-01-31,2025-01-01,2025-01-31,$10,usage,open,,\n"
        'INV-3,ACME,2025-01-31,2025-01-01,2025-01-31,"1,000.00",usage,open,,\n',
        [
            "line 2: amount: more than 2 decimal places: '10.123'",
            "line 3: amount: not a number (no currency sign): '$10'",
            "line 4: amount: not a number like 1234.56: '1,000.00'",
        ],
        id="bad-money",
    ),
    pytest.param(
        "invoices",
        f"{INVOICE_HEADER}\nINV-1,ACME,2025-01-31,2025-01-01,2025-01-31,10,credit,open,,\n",
        ["line 2: kind: not one of usage, contract, overage, refund: 'credit'"],
        id="bad-choice",
    ),
    pytest.param(
        "invoices",
        f"{INVOICE_HEADER}\nINV-1,NOPE,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,\n",
        ["line 2: account_external_id: unknown account: 'NOPE'"],
        id="unknown-account",
    ),
    pytest.param(
        "deals",
        "external_id,account_external_id,owner_email,kind,arr,stage,created_on\n"
        "D-1,ACME,zoe@example.com,monthly,100,lead,2025-01-01\n",
        ["line 2: owner_email: unknown person: 'zoe@example.com'"],
        id="unknown-person",
    ),
    pytest.param(
        "assignments",
        "account_external_id,owner_email,role,start_date,end_date\n"
        "ACME,alice@example.com,csm,2025-01-01,2024-12-31\n",
        ["line 2: end_date: 2024-12-31 is before start_date 2025-01-01"],
        id="end-before-start",
    ),
    pytest.param(
        "assignments",
        "account_external_id,owner_email,role,start_date,end_date\n"
        "ACME,alice@example.com,csm,2025-01-01,\n"
        "ACME,charlie@example.com,ae,2025-01-01,\n"
        "ACME,bob@example.com,csm,2025-06-01,2025-06-30\n",
        [
            "line 4: start_date: account ACME has another csm owner on some of these days: "
            "alice@example.com from 2025-01-01 to open, line 2"
        ],
        id="overlapping-owners-in-the-file",
    ),
    pytest.param(
        "invoices",
        f"{INVOICE_HEADER}\nINV-1,ACME,2025-01-31,2025-01-01,2025-01-31,-10,usage,open,,\n"
        "INV-2,ACME,2025-01-31,2025-01-01,2025-01-31,-10,refund,open,,\n",
        ["line 2: amount: negative on a usage invoice (only a refund may be negative)"],
        id="negative-amount-not-a-refund",
    ),
    pytest.param(
        "invoices",
        f"{INVOICE_HEADER}\nINV-1,ACME,2025-01-31,2025-01-01,2025-01-31,10,usage,paid,,\n"
        "INV-2,ACME,2025-01-31,2025-01-01,2025-01-31,10,usage,open,2025-02-01,\n",
        [
            "line 2: paid_on: required when status is paid",
            "line 3: paid_on: given on an open invoice (set status paid, or leave it empty)",
        ],
        id="paid-without-paid-on",
    ),
    pytest.param(
        "invoices",
        f"{INVOICE_HEADER}\n{GOOD_INVOICE}\n{GOOD_INVOICE.replace('10.00', '11.00')}\n",
        ["line 3: external_id: duplicate external_id: first on line 2"],
        id="duplicate-key",
    ),
    pytest.param(
        "usage",
        "account_external_id,month,amount\nACME,2025-01,1\nBETA,2025-01,2\nACME,2025-01,3\n"
        "ACME,2025-13,4\nBETA,2025-02,-4\n",
        [
            "line 4: account_external_id: duplicate account_external_id + month: first on line 2",
            "line 5: month: not a month YYYY-MM: '2025-13'",
            "line 6: amount: must not be negative: '-4'",
        ],
        id="usage-duplicate-month-and-bad-values",
    ),
    pytest.param(
        "accounts",
        "external_id,name,billing,health_score,active_users\n"
        "A-1,=cmd|' /C calc'!A0,monthly,11,\n"
        "A-2,@SUM(A1),monthly,,-3\n"
        "A-3,-2 Plus,monthly,,\n",
        [
            "line 2: name: looks like a spreadsheet formula: \"=cmd|' /C calc'!A0\"",
            "line 2: health_score: must be from 0 to 10: '11'",
            "line 3: name: looks like a spreadsheet formula: '@SUM(A1)'",
            "line 3: active_users: must be from 0 to 2147483647: '-3'",
            # a sign not followed by a plain number is a formula to a spreadsheet
            "line 4: name: looks like a spreadsheet formula: '-2 Plus'",
        ],
        id="formula-cells-and-ranges",
    ),
    pytest.param(
        "deals",
        "external_id,account_external_id,owner_email,kind,arr,stage,probability,created_on,"
        "closed_on\n"
        "D-1,ACME,charlie@example.com,monthly,100,lead,25,2025-01-01,\n"
        "D-2,ACME,charlie@example.com,monthly,100,won,,2025-01-01,\n"
        "D-3,ACME,charlie@example.com,monthly,100,lost,,2025-01-01,2024-12-01\n",
        [
            "line 2: probability: must be from 0 to 1 (a fraction: 0.25 for 25%): '25'",
            "line 3: closed_on: required when stage is won",
            "line 4: closed_on: 2024-12-01 is before created_on 2025-01-01",
        ],
        id="deal-probability-and-close",
    ),
    pytest.param(
        "people",
        "email,name,roles,team,start_date,ote,variable_share,manager_email\n"
        "x@example.com,X,ae;boss,sales,2025-01-01,100,1.5,nobody@example.com\n"
        "y@example.com,Y,csm,cs,2025-01-01,100,,y@example.com\n",
        [
            "line 2: roles: not one of ae, csm, onboarding, manager, finance, revops: 'boss'",
            "line 2: variable_share: must be from 0 to 1 (a fraction of OTE: 0.5 for 50%): '1.5'",
            "line 2: manager_email: unknown person: 'nobody@example.com'",
            "line 3: manager_email: is the person themselves",
        ],
        id="people-roles-share-and-manager",
    ),
    pytest.param(
        "plans",
        "email,quarter,plan,target\n"
        "alice@example.com,2025-Q2,csm_revenue_retention,\n"
        "alice@example.com,2025Q3,csm_revenue_retention,0.9\n",
        [
            "line 2: quarter: '2025-Q2' is not a quarter like 2025Q2",
            "line 3: target: must be more than 1 for csm_revenue_retention (1.20 for 120%): 0.9",
        ],
        id="plan-quarter-and-target",
    ),
    pytest.param(
        "assignments",
        "account_external_id,owner_email,role,start_date,inherited\n"
        "ACME,alice@example.com,csm,2025-01-01,yes\n"
        "ACME,alice@example.com,csm\n",
        [
            "line 2: inherited: not true or false: 'yes'",
            "line 3: row: has 3 cells; the header has 5",
        ],
        id="bad-boolean-and-short-row",
    ),
    pytest.param(
        "leads",
        "external_id,owner_email,segment,created_on\nL-1,charlie@example.com,,2025-01-01\n",
        ["line 2: segment: required, but empty"],
        id="required-cell-empty",
    ),
]


@pytest.mark.parametrize("kind, text, expected", BAD)
def test_it_refuses_a_file_with_bad_rows_and_writes_nothing(kind, text, expected, customers, write):
    before = counts()

    result = import_csv(kind, write("bad.csv", text, raw=True))

    assert result.errors == expected
    assert counts() == before


def test_it_reports_every_bad_row_not_only_the_first(customers, write):
    text = (
        "\n".join(
            [
                INVOICE_HEADER,
                GOOD_INVOICE,
                "INV-2,NOPE,2025-01-31,2025-01-01,2025-01-31,10,usage,open,,",
                GOOD_INVOICE.replace("INV-1", "INV-3"),
                "INV-4,ACME,2025-01-31,2025-02-01,2025-01-31,1.999,usage,bogus,,",
            ]
        )
        + "\n"
    )

    result = import_csv("invoices", write("bad.csv", text, raw=True))

    assert result.errors == [
        "line 3: account_external_id: unknown account: 'NOPE'",
        "line 5: period_end: 2025-01-31 is before period_start 2025-02-01",
        "line 5: amount: more than 2 decimal places: '1.999'",
        "line 5: status: not one of open, paid, void: 'bogus'",
    ]
    assert not Invoice.objects.exists()


def test_it_refuses_owners_overlapping_an_assignment_already_stored(customers, people, write):
    assign(customers["acme"], people["alice"], start=D(2024, 1, 1))
    assign(customers["beta"], people["alice"], start=D(2025, 6, 1), end=D(2025, 8, 31))
    text = """
        account_external_id,owner_email,role,start_date,end_date
        ACME,bob@example.com,csm,2025-01-01,
        BETA,bob@example.com,csm,2025-01-01,
        BETA,charlie@example.com,ae,2025-01-01,
        """

    result = import_csv("assignments", write("overlap.csv", text))

    assert result.errors == [
        "line 2: start_date: account ACME has an existing csm owner on some of these days: "
        "alice@example.com from 2024-01-01 to open",
        "line 3: end_date: account BETA has an existing csm owner on some of these days: "
        "alice@example.com from 2025-06-01 to 2025-08-31",
    ]
    assert Assignment.objects.count() == 2


def test_line_numbers_count_file_lines_including_quoted_line_breaks_and_blank_lines(
    customers, people, write
):
    text = (
        "account_external_id,owner_email,role,start_date,reason\n"
        'ACME,alice@example.com,csm,2025-01-01,"a reason\nover two lines"\n'
        "\n"
        "BETA,alice@example.com,csm,2025-13-01,\n"
    )

    result = import_csv("assignments", write("lines.csv", text, raw=True))

    assert result.errors == ["line 5: start_date: no such day: '2025-13-01'"]


def test_it_refuses_a_file_that_is_not_utf8(db, write):
    path = write("latin1.csv", "external_id,name,billing\nA-1,Société,monthly\n".encode("latin-1"))

    result = import_csv("accounts", path)

    assert result.errors == ["line 1: file: not UTF-8 text (first bad byte on line 2)"]
    assert not Account.objects.exists()


def test_it_refuses_an_empty_file(db, write):
    result = import_csv("accounts", write("empty.csv", "", raw=True))

    assert result.errors == ["line 1: header: the file is empty; its first line must be the header"]


def test_it_reads_a_file_with_a_byte_order_mark_and_skips_blank_lines(db, write):
    text = "\ufeffexternal_id,name,billing\r\nA-1,Acme,monthly\r\n\r\n,,\r\nA-2,Beta,annual\r\n"

    result = import_csv("accounts", write("bom.csv", text, raw=True))

    assert result.errors == []
    assert (result.created, result.rows) == (2, 2)
    assert sorted(Account.objects.values_list("external_id", flat=True)) == ["A-1", "A-2"]


def test_a_dry_run_counts_but_writes_nothing(customers, write):
    import_csv("invoices", write("one.csv", GOOD["invoices"]))
    text = csv_text(GOOD["invoices"]).replace("1200.50", "1.00") + (
        "INV-9,BETA,2025-03-31,2025-03-01,2025-03-31,10,overage,open,,\n"
    )
    before = counts()

    result = import_csv("invoices", write("two.csv", text, raw=True), dry_run=True)

    assert (result.created, result.updated, result.unchanged, result.errors) == (1, 1, 2, [])
    assert result.dry_run
    assert counts() == before
    assert Invoice.objects.get(external_id="INV-1").amount == Decimal("1200.50")


# --- The command ---------------------------------------------------------------------------


def test_the_command_prints_a_summary(customers, write):
    out = io.StringIO()

    call_command("import_csv", "usage", str(write("usage.csv", GOOD["usage"])), stdout=out)

    assert out.getvalue().strip() == (
        "usage from usage.csv: created 3, updated 0, unchanged 0 (3 rows)"
    )
    assert Usage.objects.count() == 3


def test_the_command_dry_run_says_so_and_writes_nothing(customers, write):
    out = io.StringIO()

    call_command(
        "import_csv", "usage", str(write("usage.csv", GOOD["usage"])), "--dry-run", stdout=out
    )

    assert out.getvalue().strip() == (
        "usage from usage.csv: created 3, updated 0, unchanged 0 (3 rows); dry run, nothing written"
    )
    assert not Usage.objects.exists()
    assert not ImportRun.objects.exists()


def test_the_command_prints_every_bad_row_and_exits_with_status_1(customers, write):
    path = write("bad.csv", "account_external_id,month,amount\nACME,2025-1,1\nNOPE,2025-01,1.234\n")
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("import_csv", "usage", str(path), stdout=out)

    assert raised.value.returncode == 1
    assert out.getvalue().splitlines() == [
        "line 2: month: not a month YYYY-MM: '2025-1'",
        "line 3: account_external_id: unknown account: 'NOPE'",
        "line 3: amount: more than 2 decimal places: '1.234'",
    ]
    assert "nothing was imported" in str(raised.value)
    assert not Usage.objects.exists()


def test_the_command_reports_progress_on_stderr(customers, write, monkeypatch):
    monkeypatch.setattr(importers, "PROGRESS_EVERY", 2)
    err = io.StringIO()

    call_command(
        "import_csv",
        "usage",
        str(write("usage.csv", GOOD["usage"])),
        stdout=io.StringIO(),
        stderr=err,
    )

    assert err.getvalue().splitlines() == ["2 rows checked"]


# --- The upload page -----------------------------------------------------------------------


def upload(name, text):
    return SimpleUploadedFile(name, csv_text(text).encode(), content_type="text/csv")


def test_finance_uploads_a_file_and_sees_the_summary(client, fiona):
    client.force_login(fiona)

    response = client.post(
        reverse("import_upload"), {"kind": "accounts", "file": upload("acc.csv", GOOD["accounts"])}
    )

    assert response.status_code == 200
    assert "created 2, updated 0, unchanged 0 (2 rows)" in page_text(response)
    assert Account.objects.count() == 2
    run = ImportRun.objects.get()
    assert (run.kind, run.filename, run.imported_by) == ("accounts", "acc.csv", fiona)


def test_a_manager_may_dry_run_an_upload(client_as):
    response = client_as("maria@example.com", "manager").post(
        reverse("import_upload"),
        {"kind": "accounts", "file": upload("acc.csv", GOOD["accounts"]), "dry_run": "on"},
    )

    assert response.status_code == 200
    assert "created 2, updated 0, unchanged 0 (2 rows)" in page_text(response)
    assert "Dry run: nothing was written" in page_text(response)
    assert not Account.objects.exists()


def test_the_upload_page_lists_every_error(client, fiona):
    client.force_login(fiona)
    bad = "external_id,name,billing\nA-1,Acme,weekly\nA-2,,monthly\n"

    response = client.post(
        reverse("import_upload"), {"kind": "accounts", "file": upload("bad.csv", bad)}
    )

    text = page_text(response)
    assert response.status_code == 200
    assert "line 2: billing: not one of monthly, annual: 'weekly'" in text
    assert "line 3: name: required, but empty" in text
    assert "nothing was written" in text
    assert not Account.objects.exists()


def test_the_upload_page_shows_when_each_kind_was_last_imported(client, fiona, write):
    import_csv("accounts", write("accounts-june.csv", GOOD["accounts"]), user=fiona)
    client.force_login(fiona)

    text = page_text(client.get(reverse("import_upload")))

    assert re.search(r"Accounts \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC accounts-june.csv", text)
    assert "Invoices never" in text


@pytest.mark.parametrize(
    "email, group",
    [("alice@example.com", "rep"), ("charlie@example.com", "rep"), ("rita@example.com", "revops")],
)
def test_it_refuses_the_upload_page_to_reps_and_revops(email, group, client_as):
    client = client_as(email, group)

    assert client.get(reverse("import_upload")).status_code == 403
    response = client.post(
        reverse("import_upload"), {"kind": "accounts", "file": upload("acc.csv", GOOD["accounts"])}
    )
    assert response.status_code == 403
    assert not Account.objects.exists()
