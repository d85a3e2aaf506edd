"""The kinds of file of the books (data-contract.md): people, accounts, assignments, invoices,
usage, deals and leads. Each declares its columns, key and stored fields, and the checks that
span several cells or rows. The plans file is the pay's (`payouts/imports.py`)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from accounts.imports.cells import (
    AddError,
    Column,
    Field,
    _account_field,
    _person_field,
    _shown,
    choice,
    email_reference,
    fraction,
    listed,
    lowered,
    money,
    parse_bool,
    parse_date,
    parse_email,
    parse_month,
    text,
    whole,
)
from accounts.models import (
    Account,
    Assignment,
    AssignmentRole,
    Billing,
    Deal,
    DealKind,
    DealStage,
    ImportKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Lead,
    PaymentSchedule,
    Person,
    Region,
    Role,
    Sentiment,
    Team,
    Usage,
)

STAGE = "import_stage"  # the temporary table an import stages its rows in

# The days of `Kind.changes` when a change concerns every day (an account's own fields).
EVER_FIRST, EVER_LAST = "DATE '0001-01-01'", "DATE '9999-12-31'"


def _days_of(row: str, *columns: str) -> tuple[str, str]:
    """The first and last of a row's dates (those given), as SQL."""
    dates = ", ".join(f"{row}.{c}" for c in columns)
    return f"least({dates})", f"greatest({dates})"


def _changes_of_rows(scope: str, column: str, *dates: str) -> tuple[tuple[str, ...], ...]:
    """The staged row and, when it updates one, the stored row: both sides of a change."""
    return tuple((scope, f"{row}.{column}", *_days_of(row, *dates)) for row in ("s", "t"))


class Kind:
    """One kind of file of the data contract. Subclasses declare the columns, the key, the
    stored fields and how a staged row `s` matches a stored row `t`, and add the checks
    that span several cells or rows."""

    name: str
    model: type
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ("external_id",)
    fields: tuple[Field, ...]
    match = "t.external_id = s.external_id"
    history_key = "t.external_id"
    stage_extra: tuple[tuple[str, str], ...] = ()
    insert_extra: dict[str, str] = {}
    update_extra: dict[str, str] = {}
    # What a created or updated row concerns, for the figures' refresh (`accounts.imports.changed`):
    # ("account" or "person", SQL of the id, SQL of the first and last day it speaks of),
    # over the staged row `s` and the stored row `t` (NULL for a created row).
    changes: tuple[tuple[str, str, str, str], ...] = ()
    # The checks over a row in SQL (over the typed values v_<column>, NULL where a cell is
    # empty or bad), each true for a bad row: with them a plain file is checked in SQL
    # (`insql`). They must refuse every row `check` refuses; None: checked in Python only.
    sql_checks: tuple[str, ...] | None = None

    def differs(self) -> str:
        """SQL true where the staged row `s` differs from the stored row `t`."""
        compared = [f for f in self.fields if not f.key]
        stored = ", ".join(f.value("t") for f in compared)
        incoming = ", ".join(f.value("s") for f in compared)
        return f"ROW({stored}) IS DISTINCT FROM ROW({incoming})"

    def __init__(self):
        sources = [f.column if f.ref else f.label for f in self.fields if f.column] + [
            name for name, _ in self.stage_extra
        ]
        self.stage_columns = [f.column for f in self.fields if f.column] + [
            name for name, _ in self.stage_extra
        ]
        self._stage_row = itemgetter(*sources)
        self.account_ids: dict[str, int] = {}
        self.person_ids: dict[str, int] = {}

    def prepare(self) -> None:
        """Load what the checks look up, once (before the rows are read)."""

    def check(self, line: int, v: dict, add: AddError) -> None:
        """Checks over several cells of one row, and references; may add resolved ids to v."""

    def remember(self, line: int, v: dict) -> None:
        """Keep what a check over several rows needs, for a row without errors."""

    def finish(self, add_at: Callable[[int, str, str], None]) -> None:
        """Checks over several rows (and against the database), after the last row."""

    def after_write(self, cursor) -> None:
        """Writes that need every row of the file in place."""

    def stage_row(self, v: dict) -> tuple:
        row = self._stage_row(v)
        return row if isinstance(row, tuple) else (row,)

    # Shared checks.
    def load_accounts(self) -> None:
        self.account_ids = dict(Account.objects.values_list("external_id", "id"))

    def load_people(self) -> None:
        self.person_ids = {
            email.lower(): pk for email, pk in Person.objects.values_list("email", "id")
        }

    def resolve_account(self, v: dict, add: AddError, column="account_external_id") -> None:
        external_id = v[column]
        if external_id is not None:
            v["account_id"] = self.account_ids.get(external_id)
            if v["account_id"] is None:
                add(column, f"unknown account: {_shown(external_id)}")

    def resolve_person(self, v: dict, add: AddError, column: str, target: str) -> None:
        email = v[column]
        if email is not None:
            v[target] = self.person_ids.get(email)
            if v[target] is None:
                add(column, f"unknown person: {_shown(email)}")

    @staticmethod
    def end_after_start(v: dict, add: AddError, start: str, end: str) -> None:
        if v[start] is not None and v[end] is not None and v[end] < v[start]:
            add(end, f"{v[end]} is before {start} {v[start]}")


class PeopleFile(Kind):
    name = ImportKind.PEOPLE
    model = Person
    key = ("email",)
    columns = (
        Column("email", parse_email),
        Column("name", text(200)),
        Column("roles", listed(choice(Role))),
        Column("team", choice(Team)),
        Column("start_date", parse_date),
        Column("ote", money()),
        Column(
            "variable_share",
            fraction(Decimal(0), Decimal(1), "a fraction of OTE: 0.5 for 50%"),
            required=False,
        ),
        Column("manager_email", email_reference, required=False),
        Column("region", choice(Region), required=False, empty=""),
        Column("end_date", parse_date, required=False),
        Column("employee_id", text(64), required=False, empty=""),
    )
    fields = (
        Field("email", "email", key=True),
        Field("name", "name"),
        Field("roles", "roles"),
        Field("team", "team"),
        Field("start_date", "start_date", text=True),
        Field("ote", "ote", text=True),
        Field("variable_share", "variable_share", text=True),
        Field(
            "manager_email",
            None,
            stored="(SELECT lower(r.email) FROM accounts_person r WHERE r.id = t.manager_id)",
            incoming="s.manager_email",
        ),
        Field("region", "region"),
        Field("end_date", "end_date", text=True),
        Field("employee_id", "employee_id"),
    )
    # Emails are matched case-insensitively: a person stored as Ana@... is ana@... here.
    match = "lower(t.email) = s.email"
    history_key = "t.email"
    stage_extra = (("manager_email", "text"),)
    # A changed person's own figures, every quarter (a new person holds no account yet).
    changes = (("person", "t.id", EVER_FIRST, EVER_LAST),)

    def prepare(self):
        self.load_people()
        self.emails_in_file: set[str] = set()
        self.managers_to_find: list[tuple[int, str]] = []

    def check(self, line, v, add):
        self.end_after_start(v, add, "start_date", "end_date")
        email, manager = v["email"], v["manager_email"]
        if email is not None:
            self.emails_in_file.add(email)
        if manager is None:
            return
        if manager == email:
            add("manager_email", "is the person themselves")
        elif manager not in self.person_ids:
            # May be a person defined later in this file: checked after the last row.
            self.managers_to_find.append((line, manager))

    def finish(self, add_at):
        for line, manager in self.managers_to_find:
            if manager not in self.emails_in_file:
                add_at(line, "manager_email", f"unknown person: {_shown(manager)}")

    def after_write(self, cursor):
        cursor.execute(
            f"""
            UPDATE accounts_person t SET manager_id = m.id
            FROM {STAGE} s LEFT JOIN accounts_person m ON lower(m.email) = s.manager_email
            WHERE lower(t.email) = s.email AND t.manager_id IS DISTINCT FROM m.id
            """
        )


class AccountsFile(Kind):
    name = ImportKind.ACCOUNTS
    model = Account
    columns = (
        Column("external_id", text(64)),
        Column("name", text(200)),
        Column("billing", choice(Billing)),
        Column("segment", text(64), required=False, empty=""),
        Column("health_score", whole(0, 10), required=False),
        Column("sentiment", choice(Sentiment), required=False, empty=""),
        Column("active_users", whole(0, 2**31 - 1), required=False),
        Column("products", listed(text(64)), required=False, empty=[]),
        Column("annual_contract_value", money(), required=False),
        Column("contract_start", parse_date, required=False),
        Column("contract_end", parse_date, required=False),
    )
    fields = (
        Field("external_id", "external_id", key=True),
        Field("name", "name"),
        Field("billing", "billing"),
        Field("segment", "segment"),
        Field("health_score", "health_score"),
        Field("sentiment", "sentiment"),
        Field("active_users", "active_users"),
        Field("products", "products"),
        Field("annual_contract_value", "annual_contract_value", text=True),
        Field("contract_start", "contract_start", text=True),
        Field("contract_end", "contract_end", text=True),
    )
    # A changed account's owners, every quarter (a new account has no owner yet).
    changes = (("account", "t.id", EVER_FIRST, EVER_LAST),)

    def check(self, line, v, add):
        self.end_after_start(v, add, "contract_start", "contract_end")


@dataclass(frozen=True)
class _Span:
    start: datetime.date
    end: datetime.date | None  # open: current
    line: int | None  # None: a stored assignment the file does not rewrite
    owner: str

    def reaches(self, day: datetime.date) -> bool:
        return self.end is None or day <= self.end

    def describe(self) -> str:
        where = f", line {self.line}" if self.line else ""
        return f"{self.owner} from {self.start} to {self.end or 'open'}{where}"


class AssignmentsFile(Kind):
    name = ImportKind.ASSIGNMENTS
    model = Assignment
    key = ("account_external_id", "role", "start_date")
    columns = (
        Column("account_external_id", text(64)),
        Column("owner_email", email_reference),
        Column("role", choice(AssignmentRole)),
        Column("start_date", parse_date),
        Column("end_date", parse_date, required=False),
        Column("inherited", parse_bool, required=False),
        Column("reason", text(2000), required=False, empty=""),
    )
    fields = (
        _account_field(key=True),
        Field("role", "role", key=True),
        Field("start_date", "start_date", key=True, text=True),
        _person_field("owner_email", "owner_id"),
        Field("end_date", "end_date", text=True),
        Field("inherited", "inherited"),
        Field("reason", "reason"),
    )
    match = "t.account_id = s.account_id AND t.role = s.role AND t.start_date = s.start_date"
    history_key = (
        "(SELECT r.external_id FROM accounts_account r WHERE r.id = t.account_id)"
        " || '/' || t.role || '/' || t.start_date::text"
    )
    # The owners before and after, over the days held.
    changes = tuple(
        ("person", f"{row}.owner_id", f"{row}.start_date", f"coalesce({row}.end_date, {EVER_LAST})")
        for row in ("s", "t")
    )
    insert_extra = {
        "cap_override_reason": "''",
        "created_by_id": "%(user_id)s",
        "created_at": "now()",
    }

    def prepare(self):
        self.load_accounts()
        self.load_people()
        # (account id, role) -> the file's spans; (account external id) for messages.
        self.spans: dict[tuple[int, str], list[_Span]] = defaultdict(list)
        self.external_ids: dict[int, str] = {}

    def check(self, line, v, add):
        self.resolve_account(v, add)
        self.resolve_person(v, add, "owner_email", "owner_id")
        self.end_after_start(v, add, "start_date", "end_date")
        if v["inherited"] is None and v["role"] is not None:
            v["inherited"] = v["role"] != AssignmentRole.AE

    def remember(self, line, v):
        self.spans[(v["account_id"], v["role"])].append(
            _Span(v["start_date"], v["end_date"], line, v["owner_email"])
        )
        self.external_ids[v["account_id"]] = v["account_external_id"]

    def finish(self, add_at):
        rewritten = {
            (account_id, role, span.start)
            for (account_id, role), spans in self.spans.items()
            for span in spans
        }
        stored = defaultdict(list)
        account_ids = sorted(self.external_ids)
        for i in range(0, len(account_ids), 10_000):
            rows = Assignment.objects.filter(account_id__in=account_ids[i : i + 10_000])
            for account_id, role, start, end, owner in rows.values_list(
                "account_id", "role", "start_date", "end_date", "owner__email"
            ):
                if (account_id, role) in self.spans and (account_id, role, start) not in rewritten:
                    stored[(account_id, role)].append(_Span(start, end, None, owner.lower()))

        for (account_id, role), spans in self.spans.items():
            account = self.external_ids[account_id]
            reported: set[int] = set()
            # Sweep by start date, holding the span that reaches furthest so far.
            holder = None
            for span in sorted(
                spans + stored.get((account_id, role), []),
                key=lambda s: (s.start, s.line is not None, s.line or 0),
            ):
                if holder is not None and holder.reaches(span.start):
                    if span.line and span.line not in reported:
                        what = "another" if holder.line else "an existing"
                        add_at(
                            span.line,
                            "start_date",
                            f"account {account} has {what} {role} owner on some of these "
                            f"days: {holder.describe()}",
                        )
                        reported.add(span.line)
                    elif not span.line and holder.line and holder.line not in reported:
                        add_at(
                            holder.line,
                            "end_date",
                            f"account {account} has an existing {role} owner on some of "
                            f"these days: {span.describe()}",
                        )
                        reported.add(holder.line)
                if holder is None or (
                    holder.end is not None and (span.end is None or span.end > holder.end)
                ):
                    holder = span


class InvoicesFile(Kind):
    name = ImportKind.INVOICES
    model = Invoice
    columns = (
        Column("external_id", text(64)),
        Column("account_external_id", text(64)),
        Column("issued_on", parse_date),
        Column("period_start", parse_date),
        Column("period_end", parse_date),
        Column("amount", money(negative=True)),
        Column("kind", choice(InvoiceKind)),
        Column("status", choice(InvoiceStatus)),
        Column("paid_on", parse_date, required=False),
        Column("deal_external_id", text(64), required=False, empty=""),
    )
    fields = (
        Field("external_id", "external_id", key=True),
        _account_field(),
        Field("issued_on", "issued_on", text=True),
        Field("period_start", "period_start", text=True),
        Field("period_end", "period_end", text=True),
        Field("amount", "amount", text=True),
        Field("kind", "kind"),
        Field("status", "status"),
        Field("paid_on", "paid_on", text=True),
        Field("deal_external_id", "deal_external_id"),
    )
    changes = _changes_of_rows("account", "account_id", "issued_on", "period_start",
                               "period_end", "paid_on")

    sql_checks = (
        "v_period_end < v_period_start",
        "v_amount < 0 AND v_kind <> 'refund'",
        "v_status = 'paid' AND v_paid_on IS NULL",
        "v_status = 'open' AND v_paid_on IS NOT NULL",
    )

    def prepare(self):
        self.load_accounts()

    def check(self, line, v, add):
        self.resolve_account(v, add)
        self.end_after_start(v, add, "period_start", "period_end")
        amount, kind, status = v["amount"], v["kind"], v["status"]
        if amount is not None and kind is not None and amount < 0 and kind != InvoiceKind.REFUND:
            add("amount", f"negative on a {kind} invoice (only a refund may be negative)")
        if status == InvoiceStatus.PAID and v["paid_on"] is None:
            add("paid_on", "required when status is paid")
        if status == InvoiceStatus.OPEN and v["paid_on"] is not None:
            add("paid_on", "given on an open invoice (set status paid, or leave it empty)")


class UsageFile(Kind):
    name = ImportKind.USAGE
    model = Usage
    key = ("account_external_id", "month")
    columns = (
        Column("account_external_id", text(64)),
        Column("month", parse_month),
        Column("amount", money()),
    )
    fields = (
        _account_field(key=True),
        Field("month", "month", key=True, text=True),
        Field("amount", "amount", text=True),
    )
    match = "t.account_id = s.account_id AND t.month = s.month"
    history_key = (
        "(SELECT r.external_id FROM accounts_account r WHERE r.id = t.account_id)"
        " || '/' || to_char(t.month, 'YYYY-MM')"
    )
    changes = (("account", "s.account_id", "s.month",
                "(s.month + interval '1 month' - interval '1 day')::date"),)
    sql_checks = ()  # the account is resolved in SQL too

    def prepare(self):
        self.load_accounts()

    def check(self, line, v, add):
        self.resolve_account(v, add)


class DealsFile(Kind):
    name = ImportKind.DEALS
    model = Deal
    columns = (
        Column("external_id", text(64)),
        Column("account_external_id", text(64)),
        Column("owner_email", email_reference),
        Column("kind", choice(DealKind)),
        Column("arr", money()),
        Column("stage", choice(DealStage)),
        Column(
            "probability",
            fraction(Decimal(0), Decimal(1), "a fraction: 0.25 for 25%"),
            required=False,
        ),
        Column("created_on", parse_date),
        Column("demo_on", parse_date, required=False),
        Column("closed_on", parse_date, required=False),
        Column("payment_schedule", choice(PaymentSchedule), required=False, empty=""),
    )
    fields = (
        Field("external_id", "external_id", key=True),
        _account_field(),
        _person_field("owner_email", "owner_id"),
        Field("kind", "kind"),
        Field("arr", "arr", text=True),
        Field("stage", "stage"),
        Field("probability", "probability", text=True),
        Field("created_on", "created_on", text=True),
        Field("demo_on", "demo_on", text=True),
        Field("closed_on", "closed_on", text=True),
        Field("payment_schedule", "payment_schedule"),
    )
    changes = (
        _changes_of_rows("account", "account_id", "created_on", "demo_on", "closed_on")
        + _changes_of_rows("person", "owner_id", "created_on", "demo_on", "closed_on")
    )

    def prepare(self):
        self.load_accounts()
        self.load_people()

    def check(self, line, v, add):
        self.resolve_account(v, add)
        self.resolve_person(v, add, "owner_email", "owner_id")
        self.end_after_start(v, add, "created_on", "closed_on")
        if v["stage"] == DealStage.WON and v["closed_on"] is None:
            add("closed_on", "required when stage is won")




class LeadsFile(Kind):
    name = ImportKind.LEADS
    model = Lead
    columns = (
        Column("external_id", text(64)),
        Column("owner_email", email_reference),
        Column("segment", text(64)),
        Column("created_on", parse_date),
        Column("status", lowered(text(32)), required=False, empty="open"),
    )
    fields = (
        Field("external_id", "external_id", key=True),
        _person_field("owner_email", "owner_id"),
        Field("segment", "segment"),
        Field("created_on", "created_on", text=True),
        Field("status", "status"),
    )

    def prepare(self):
        self.load_people()

    def check(self, line, v, add):
        self.resolve_person(v, add, "owner_email", "owner_id")



BOOK_KINDS: tuple[type[Kind], ...] = (
    PeopleFile,
    AccountsFile,
    AssignmentsFile,
    InvoicesFile,
    UsageFile,
    DealsFile,
    LeadsFile,
)
