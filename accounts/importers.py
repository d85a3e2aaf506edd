"""CSV in (data-contract.md): check every row first, then write in one transaction.

`import_csv(kind, path)` reads the file once to check it, streaming each good row into a
temporary staging table with COPY while it goes (nothing in the product's tables changes
yet). If any row is bad it reports every bad row as ``line N: column: reason`` and rolls
back. Otherwise it writes set-based: one INSERT of the history of the changed rows
(RowChange), one UPDATE of the changed rows, one INSERT of the new ones, and records the
import (ImportRun). Rows are keyed as the contract says, so a second import of the same
file changes nothing.

Memory stays bounded whatever the file's size: only the keys seen (for the duplicate
check) and the lookups of account and person ids are held, plus, for assignments, the
date spans needed to find overlapping owners.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from accounts.models import (
    Account,
    Assignment,
    AssignmentRole,
    Billing,
    Deal,
    DealKind,
    DealStage,
    ImportKind,
    ImportRun,
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
from accounts.quarters import Quarter
from payouts.models import PersonPlan, PlanKind

PROGRESS_EVERY = 100_000
STAGE = "import_stage"
SHOWN_CHARS = 40


@dataclass
class ImportResult:
    kind: str
    filename: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    differences: int = 0  # differences proposed to finance for approved quarters

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        rows = f"{self.rows} row" + ("" if self.rows == 1 else "s")
        text = (
            f"{self.kind} from {self.filename}: created {self.created}, "
            f"updated {self.updated}, unchanged {self.unchanged} ({rows})"
        )
        if self.differences:
            text += (f"; {self.differences} difference(s) with approved payouts proposed to "
                     "finance")
        return text + ("; dry run, nothing written" if self.dry_run else "")


# --- Cells -------------------------------------------------------------------------------
# Each parser takes a non-empty, stripped cell and returns its value or raises ValueError
# with the reason shown to the user.


def _shown(raw: str) -> str:
    if len(raw) > SHOWN_CHARS:
        raw = raw[:SHOWN_CHARS] + "..."
    return repr(raw)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_NUMBER = re.compile(r"-?(\d+)(?:\.(\d+))?")
_WHOLE = re.compile(r"-?\d+")
# A cell a spreadsheet would run as a formula: = or @ first, or + or - unless the whole cell
# is a plain number ("-2+3+cmd|..." starts with a number but is a formula).
_FORMULA = re.compile(r"[=@]|[+\-](?![0-9]+(?:\.[0-9]+)?\Z)")
_CURRENCY = re.compile(r"[$€£¥]|\b(?:USD|EUR|GBP)\b", re.IGNORECASE)


def parse_date(raw: str) -> datetime.date:
    if not _DATE.fullmatch(raw):
        raise ValueError(f"not a date YYYY-MM-DD: {_shown(raw)}")
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"no such day: {_shown(raw)}") from None


def parse_month(raw: str) -> datetime.date:
    match = _MONTH.fullmatch(raw)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"not a month YYYY-MM: {_shown(raw)}")
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def _decimal(raw: str, *, places: int, whole_digits: int) -> Decimal:
    match = _NUMBER.fullmatch(raw)
    if not match:
        if _CURRENCY.search(raw):
            raise ValueError(f"not a number (no currency sign): {_shown(raw)}")
        raise ValueError(f"not a number like 1234.56: {_shown(raw)}")
    if match.group(2) and len(match.group(2)) > places:
        raise ValueError(f"more than {places} decimal places: {_shown(raw)}")
    if len(match.group(1).lstrip("0")) > whole_digits:
        raise ValueError(f"too large: {_shown(raw)}")
    return Decimal(raw)


def money(*, negative: bool = False) -> Callable[[str], Decimal]:
    """Dollars with at most 2 decimal places (the MONEY fields: 14 digits)."""

    def parse(raw: str) -> Decimal:
        value = _decimal(raw, places=2, whole_digits=12)
        if value < 0 and not negative:
            raise ValueError(f"must not be negative: {_shown(raw)}")
        return value

    return parse


def fraction(low: Decimal, high: Decimal, hint: str) -> Callable[[str], Decimal]:
    """A ratio (the RATIO fields: 6 decimal places) from low to high."""

    def parse(raw: str) -> Decimal:
        try:
            value = _decimal(raw, places=6, whole_digits=6)
        except ValueError as exc:
            raise ValueError(f"{exc} ({hint})") from None
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high} ({hint}): {_shown(raw)}")
        return value

    return parse


def whole(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not _WHOLE.fullmatch(raw):
            raise ValueError(f"not a whole number: {_shown(raw)}")
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}: {_shown(raw)}")
        return value

    return parse


def parse_bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"not true or false: {_shown(raw)}")
    return lowered == "true"


def choice(choices) -> Callable[[str], str]:
    values = tuple(str(value) for value in choices.values)

    def parse(raw: str) -> str:
        if raw not in values:
            raise ValueError(f"not one of {', '.join(values)}: {_shown(raw)}")
        return raw

    return parse


def text(max_length: int) -> Callable[[str], str]:
    """Free text. A cell a spreadsheet would run as a formula is refused, not stored."""

    def parse(raw: str) -> str:
        if "\x00" in raw:
            raise ValueError("contains a NUL character")
        if len(raw) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        if _FORMULA.match(raw):
            raise ValueError(f"looks like a spreadsheet formula: {_shown(raw)}")
        return raw

    return parse


def lowered(parse: Callable[[str], str]) -> Callable[[str], str]:
    return lambda raw: parse(raw).lower()


def parse_email(raw: str) -> str:
    """A person's email; emails are matched case-insensitively, so stored lower case."""
    email = raw.lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError(f"not an email address: {_shown(raw)}") from None
    return email


def email_reference(raw: str) -> str:
    """An email naming a person; whether it exists is checked with the row."""
    return raw.lower()


def listed(item: Callable[[str], str]) -> Callable[[str], list[str]]:
    """A `;`-separated list; empty items are dropped and repeats kept once."""

    def parse(raw: str) -> list[str]:
        values = []
        for part in raw.split(";"):
            part = part.strip()
            if part:
                value = item(part)
                if value not in values:
                    values.append(value)
        return values

    return parse


def parse_quarter(raw: str) -> str:
    return str(Quarter.parse(raw))


# --- Kinds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the file: its parser, whether a value is required, and the empty value."""

    name: str
    parse: Callable[[str], object]
    required: bool = True
    empty: object = None


@dataclass(frozen=True)
class Field:
    """A stored value: written from the staging column `column`, compared, and shown in
    history under `label` (the file's column name).

    `ref` shows an id as the account's external id or the person's email. A field without
    a column (a person's manager) is compared through the SQL `stored` (over the stored
    row `t`) and `incoming` (over the staged row `s`) and written by the kind itself.
    """

    label: str
    column: str | None
    key: bool = False
    text: bool = False
    ref: str = ""
    stored: str = ""
    incoming: str = ""

    def value(self, alias: str) -> str:
        if self.column:
            return f"{alias}.{self.column}"
        return self.stored if alias == "t" else self.incoming

    def shown(self, alias: str) -> str:
        value = self.value(alias)
        if self.ref == "account":
            return f"(SELECT r.external_id FROM accounts_account r WHERE r.id = {value})"
        if self.ref == "person":
            return f"(SELECT r.email FROM accounts_person r WHERE r.id = {value})"
        return f"({value})::text" if self.text else value


def _account_field(label="account_external_id", *, key=False) -> Field:
    return Field(label, "account_id", key=key, ref="account")


def _person_field(label: str, column: str, *, key=False) -> Field:
    return Field(label, column, key=key, ref="person")


# add(column, reason) reports a problem with a cell; a cell that did not parse is None in
# the row's values and already reported (one reason per cell), so checks skip None.
AddError = Callable[[str, str], None]


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

    def prepare(self):
        self.load_accounts()
        self.load_people()

    def check(self, line, v, add):
        self.resolve_account(v, add)
        self.resolve_person(v, add, "owner_email", "owner_id")
        self.end_after_start(v, add, "created_on", "closed_on")
        if v["stage"] == DealStage.WON and v["closed_on"] is None:
            add("closed_on", "required when stage is won")


class PlansFile(Kind):
    name = ImportKind.PLANS
    model = PersonPlan
    key = ("email", "quarter")
    columns = (
        Column("email", email_reference),
        Column("quarter", parse_quarter),
        Column("plan", choice(PlanKind)),
        Column(
            "target",
            fraction(Decimal(0), Decimal(10), "a fraction: 1.20 for 120%"),
            required=False,
        ),
        Column("quota", money(), required=False),
    )
    fields = (
        _person_field("email", "person_id", key=True),
        Field("quarter", "quarter", key=True),
        Field("plan", "plan"),
        Field("target", "target", text=True),
        Field("quota", "quota", text=True),
    )
    match = "t.person_id = s.person_id AND t.quarter = s.quarter"
    history_key = (
        "(SELECT r.email FROM accounts_person r WHERE r.id = t.person_id) || '/' || t.quarter"
    )
    insert_extra = {"updated_at": "now()"}
    update_extra = {"updated_at": "now()"}

    def prepare(self):
        self.load_people()

    def check(self, line, v, add):
        self.resolve_person(v, add, "email", "person_id")
        target = v["target"]
        if target is None:
            return
        if target == 0:
            add("target", "must be more than 0 (a fraction: 1.20 for 120%)")
        elif v["plan"] == PlanKind.CSM_REVENUE_RETENTION and target <= 1:
            # Retention pays (retention - 100%) / (target - 100%): a target of 100% or less
            # would divide by zero or pay for losing revenue.
            add("target", f"must be more than 1 for {v['plan']} (1.20 for 120%): {target}")


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


KINDS: dict[str, type[Kind]] = {
    kind.name.value: kind
    for kind in (
        PeopleFile,
        AccountsFile,
        AssignmentsFile,
        InvoicesFile,
        UsageFile,
        DealsFile,
        PlansFile,
        LeadsFile,
    )
}


# --- Reading -----------------------------------------------------------------------------


def _digest(path) -> tuple[str, int | None]:
    """The file's sha256, and the line of its first byte that is not UTF-8 (or None)."""
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    bad_line, newlines = None, 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
            if bad_line is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad_line = newlines + chunk[: max(exc.start, 0)].count(b"\n") + 1
                newlines += chunk.count(b"\n")
        if bad_line is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                bad_line = newlines + 1
    return sha.hexdigest(), bad_line


def _rows(f) -> Iterator[tuple[int, list[str]]]:
    """(first line of the row, cells); a quoted cell may span lines."""
    reader = csv.reader(f)
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


class _Errors:
    """Problems as "line N: column: reason", listed by line, then in the file's column order."""

    def __init__(self):
        self.items: list[tuple[int, int, int, str]] = []
        self.columns: dict[str, int] = {}  # column -> position in the header, once read

    def add(self, line: int, column: str, reason: str) -> None:
        rank = self.columns.get(column, len(self.columns))
        self.items.append((line, rank, len(self.items), f"line {line}: {column}: {reason}"))

    def __bool__(self):
        return bool(self.items)

    def sorted(self) -> list[str]:
        return [message for *_, message in sorted(self.items)]


def _check_header(kind: Kind, header: list[str], errors: _Errors) -> dict[str, int]:
    names = [name.strip() for name in header]
    known = {column.name for column in kind.columns}
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            errors.add(1, f"column {index + 1}", "has no name")
        elif name not in known:
            errors.add(1, name, f"unknown column (expected: {', '.join(sorted(known))})")
        elif name in positions:
            errors.add(1, name, "appears twice")
        else:
            positions[name] = index
    for column in kind.columns:
        if column.required and column.name not in positions:
            errors.add(1, column.name, "missing required column")
    return positions


def _read(
    kind: Kind, path, errors: _Errors, result: ImportResult, copy, progress
) -> list[tuple[int, object]]:
    """Check every row, streaming the good ones into `copy` while the file has no error.
    Returns the (line, key) of rows whose key appeared earlier."""
    duplicates: list[tuple[int, object]] = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            errors.add(1, "header", "the file is empty; its first line must be the header")
            return duplicates
        positions = _check_header(kind, header, errors)
        if errors:
            return duplicates
        errors.columns = positions
        width = len(header)
        parsers = [
            (c.name, positions[c.name], c.parse, c.required, c.empty)
            for c in kind.columns
            if c.name in positions
        ]
        absent = {c.name: c.empty for c in kind.columns if c.name not in positions}
        key_of, single_key = itemgetter(*kind.key), len(kind.key) == 1
        seen: set = set()
        problems: dict[str, str] = {}

        def add(column, reason):
            problems.setdefault(column, reason)  # the first reason for a cell is enough

        check, remember, stage_row = kind.check, kind.remember, kind.stage_row
        line = next_line = reader.line_num + 1
        try:
            for cells in reader:
                line, next_line = next_line, reader.line_num + 1
                if not any(cells):
                    continue  # a blank line, or a row of empty cells
                result.rows += 1
                if progress and result.rows % PROGRESS_EVERY == 0:
                    progress(result.rows)
                if len(cells) != width:
                    errors.add(line, "row", f"has {len(cells)} cells; the header has {width}")
                    continue
                problems.clear()
                v = dict(absent)
                for name, index, parse, required, empty in parsers:
                    raw = cells[index].strip()
                    if not raw:
                        if required:
                            add(name, "required, but empty")
                        v[name] = empty
                        continue
                    try:
                        v[name] = parse(raw)
                    except ValueError as exc:
                        add(name, str(exc))
                        v[name] = None
                check(line, v, add)
                for column, reason in problems.items():
                    errors.add(line, column, reason)
                key = key_of(v)
                if key is not None and (single_key or None not in key):
                    if key in seen:
                        # Reported once the first line of each repeated key is known.
                        duplicates.append((line, key))
                        continue
                    seen.add(key)
                if problems:
                    continue
                remember(line, v)
                if not errors and not duplicates:
                    copy.write_row(stage_row(v))
        except csv.Error as exc:
            errors.add(line, "row", f"not readable as CSV: {exc}")
    return duplicates


def _report_duplicates(kind: Kind, path, duplicates, errors: _Errors) -> None:
    """Name, for each repeated key, the line where it first appeared (a second read)."""
    wanted = {key for _, key in duplicates}
    first: dict = {}
    columns = {c.name: c for c in kind.columns}
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = _rows(f)
        header = [name.strip() for name in next(rows)[1]]
        indexes = [header.index(name) for name in kind.key]
        for line, cells in rows:
            if len(cells) != len(header):
                continue
            try:
                key = tuple(
                    columns[n].parse(cells[i].strip())
                    for n, i in zip(kind.key, indexes, strict=True)
                )
            except ValueError:
                continue
            key = key[0] if len(key) == 1 else key
            if key in wanted and key not in first:
                first[key] = line
    label = " + ".join(kind.key)
    for line, key in duplicates:
        errors.add(line, kind.key[0], f"duplicate {label}: first on line {first.get(key)}")


# --- Writing -----------------------------------------------------------------------------


def _differs(kind: Kind) -> str:
    compared = [f for f in kind.fields if not f.key]
    stored = ", ".join(f.value("t") for f in compared)
    incoming = ", ".join(f.value("s") for f in compared)
    return f"ROW({stored}) IS DISTINCT FROM ROW({incoming})"


def _create_stage(cursor, kind: Kind) -> None:
    table = kind.model._meta.db_table
    written = ", ".join(f.column for f in kind.fields if f.column)
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")
    # The staging columns take the stored columns' types (numeric(14,2), date, ...).
    cursor.execute(
        f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS SELECT {written} FROM {table} WITH NO DATA"
    )
    for name, sql_type in kind.stage_extra:
        cursor.execute(f"ALTER TABLE {STAGE} ADD COLUMN {name} {sql_type}")


def _stage_types(cursor) -> list[int]:
    """The staging columns' type oids: COPY then dumps each value with a known dumper."""
    cursor.execute(
        "SELECT atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [f"pg_temp.{STAGE}"],
    )
    return [oid for (oid,) in cursor.fetchall()]


def _count(cursor, kind: Kind) -> tuple[int, int]:
    """(created, updated): staged rows with no stored row, and with a different one."""
    table = kind.model._meta.db_table
    cursor.execute(f"ANALYZE {STAGE}")
    cursor.execute(
        f"""
        SELECT count(*) FILTER (WHERE t.id IS NULL),
               count(*) FILTER (WHERE t.id IS NOT NULL AND {_differs(kind)})
        FROM {STAGE} s LEFT JOIN {table} t ON {kind.match}
        """
    )
    return cursor.fetchone()


def _write(cursor, kind: Kind, *, rows: int, updated: int, created: int, params: dict) -> None:
    table = kind.model._meta.db_table
    differs = _differs(kind)
    if updated:
        before = ", ".join(f"'{f.label}', {f.shown('t')}" for f in kind.fields if not f.key)
        after = ", ".join(f"'{f.label}', {f.shown('s')}" for f in kind.fields if not f.key)
        # History first, while the stored rows still hold their old values; only the
        # fields that changed are kept in before and after.
        cursor.execute(
            f"""
            INSERT INTO accounts_rowchange
                (model, key, before, after, source, changed_by_id, changed_at)
            SELECT %(model)s, left(c.key, 200),
                (SELECT coalesce(jsonb_object_agg(b.key, b.value), '{{}}')
                 FROM jsonb_each(c.before) b WHERE b.value IS DISTINCT FROM c.after -> b.key),
                (SELECT coalesce(jsonb_object_agg(a.key, a.value), '{{}}')
                 FROM jsonb_each(c.after) a WHERE a.value IS DISTINCT FROM c.before -> a.key),
                %(source)s, %(user_id)s, now()
            FROM (
                SELECT {kind.history_key} AS key,
                       jsonb_build_object({before}) AS before,
                       jsonb_build_object({after}) AS after
                FROM {STAGE} s JOIN {table} t ON {kind.match}
                WHERE {differs}
            ) c
            """,
            params,
        )
        assignments = [f"{f.column} = s.{f.column}" for f in kind.fields if f.column and not f.key]
        assignments += [f"{column} = {sql}" for column, sql in kind.update_extra.items()]
        cursor.execute(
            f"UPDATE {table} t SET {', '.join(assignments)} FROM {STAGE} s "
            f"WHERE {kind.match} AND {differs}",
            params,
        )
    if created:
        columns = [f.column for f in kind.fields if f.column]
        values = [f"s.{column}" for column in columns] + list(kind.insert_extra.values())
        columns += list(kind.insert_extra)
        # Every row new (a first import): no need to look for stored ones.
        new = (
            ""
            if created == rows
            else f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {kind.match})"
        )
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM {STAGE} s {new}",
            params,
        )
    kind.after_write(cursor)


# --- The import --------------------------------------------------------------------------


def import_csv(
    kind: str,
    path,
    *,
    dry_run: bool = False,
    user=None,
    progress: Callable[[int], None] | None = None,
    filename: str | None = None,
) -> ImportResult:
    """Import one file of `kind` (data-contract.md), all or nothing.

    `filename` names the file in the history (an upload is read from a temporary copy);
    `progress(rows)` is called every PROGRESS_EVERY rows while the file is checked.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    filename = filename or os.path.basename(path)
    result = ImportResult(kind=kind, filename=filename, dry_run=dry_run)
    errors = _Errors()
    sha256, bad_line = _digest(path)
    if bad_line is not None:
        errors.add(1, "file", f"not UTF-8 text (first bad byte on line {bad_line})")
        result.errors = errors.sorted()
        return result

    spec = KINDS[kind]()
    user_id = user.pk if user is not None and user.is_authenticated else None
    params = {
        "model": spec.model._meta.label,
        "source": f"import {filename}"[:200],
        "user_id": user_id,
    }
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if not dry_run:
                # Two imports of one kind at once would count against each other's rows.
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"import {kind}"])
            spec.prepare()
            _create_stage(cursor, spec)
            columns = ", ".join(spec.stage_columns)
            types = _stage_types(cursor)
            with cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
                copy.set_types(types)
                duplicates = _read(spec, path, errors, result, copy, progress)
            spec.finish(errors.add)
            if duplicates:
                _report_duplicates(spec, path, duplicates, errors)
            if errors:
                transaction.set_rollback(True)
                result.errors = errors.sorted()
                return result

            result.created, result.updated = _count(cursor, spec)
            result.unchanged = result.rows - result.created - result.updated
            if dry_run:
                transaction.set_rollback(True)
                return result
            _write(
                cursor,
                spec,
                rows=result.rows,
                updated=result.updated,
                created=result.created,
                params=params,
            )
            cursor.execute(f"DROP TABLE {STAGE}")
            ImportRun.objects.create(
                kind=kind,
                filename=filename[:255],
                sha256=sha256,
                rows=result.rows,
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                imported_by_id=user_id,
            )
    except IntegrityError as exc:
        # The checks above should leave nothing for the database to refuse; if something
        # changed meanwhile (an assignment saved from a page), its constraints still hold.
        reason = str(exc).strip().splitlines()[0]
        result.created = result.updated = result.unchanged = 0
        result.errors = [f"line 1: file: the database refused the rows: {reason}"]
        return result
    if kind in FIGURE_KINDS and (result.created or result.updated):
        result.differences = _differences_of_approved_quarters()
    return result


# Kinds whose changes can move a figure already paid (SPEC 7: through 4.4's difference).
FIGURE_KINDS = ("accounts", "assignments", "invoices", "usage", "deals", "plans")


def _differences_of_approved_quarters() -> int:
    """Changes of data behind approved payouts never pass silently: each quarter with
    approved or paid payouts is recomputed and any difference is proposed to finance."""
    from accounts.quarters import Quarter
    from payouts.finance import differences_detect
    from payouts.models import LOCKED_STATUSES, Payout

    quarters = (
        Payout.objects.filter(status__in=LOCKED_STATUSES)
        .values_list("quarter", flat=True).distinct().order_by("quarter")
    )
    return sum(len(differences_detect(Quarter.parse(q))) for q in quarters)


def import_runs_latest() -> dict[str, ImportRun]:
    """The last import of each kind, by kind (kinds never imported are absent)."""
    latest = ImportRun.objects.values("kind").annotate(last=Max("id")).values("last")
    runs = ImportRun.objects.filter(id__in=latest).select_related("imported_by")
    return {run.kind: run for run in runs}
