"""The cells and columns of the CSV files (data-contract.md): each parser takes a non-empty,
stripped cell and returns its value or raises ValueError with the reason shown to the user."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.quarters import Quarter

SHOWN_CHARS = 40


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


# --- The parsers' twins in SQL -----------------------------------------------------------
# A parser may carry `sql_valid`, an SQL condition over the stripped, non-empty cell `{s}`
# (text) that holds for every cell the parser accepts, and `sql_value`, the value it
# returns. An import checks a whole file with them at once (`accounts.imports.insql`); a
# cell they refuse is parsed again here for its reason, so the messages are these ones.
# Where Python is looser (\d also matches other scripts' digits), SQL may refuse more,
# never less: the import then falls back to checking the file here, row by row.

# The characters str.strip() removes, for PostgreSQL's btrim.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _twin(parse, valid: str, value: str = "{s}"):
    parse.sql_valid, parse.sql_value = valid, value
    return parse


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_SQL_LEAP = "(mod({y}, 4) = 0 AND (mod({y}, 100) <> 0 OR mod({y}, 400) = 0))".replace(
    "{y}", "left({s}, 4)::int"
)
SQL_DATE = (
    "CASE WHEN {s} ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' "
    "AND left({s}, 4) <> '0000' THEN "
    "right({s}, 2) <= '28' "
    "OR (substr({s}, 6, 2) <> '02' AND (right({s}, 2) <> '31' "
    "OR substr({s}, 6, 2) IN ('01', '03', '05', '07', '08', '10', '12'))) "
    f"OR (right({{s}}, 2) = '29' AND {_SQL_LEAP}) "
    "ELSE false END"
)


def parse_date(raw: str) -> datetime.date:
    if not _DATE.fullmatch(raw):
        raise ValueError(f"not a date YYYY-MM-DD: {_shown(raw)}")
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"no such day: {_shown(raw)}") from None


_twin(parse_date, SQL_DATE, "{s}::date")


def parse_month(raw: str) -> datetime.date:
    match = _MONTH.fullmatch(raw)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"not a month YYYY-MM: {_shown(raw)}")
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


_twin(
    parse_month,
    "CASE WHEN {s} ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN left({s}, 4) <> '0000' ELSE false END",
    "({s} || '-01')::date",
)


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

    digits = "length(ltrim(split_part(ltrim({s}, '-'), '.', 1), '0')) <= 12"
    sign = "" if negative else " AND {s}::numeric >= 0"
    return _twin(
        parse,
        f"CASE WHEN {{s}} ~ '^-?[0-9]+(\\.[0-9]{{1,2}})?$' THEN {digits}{sign} ELSE false END",
        "{s}::numeric",
    )


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

    return _twin(parse, f"{{s}} IN ({', '.join(_literal(value) for value in values)})")


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

    # A NUL never reaches SQL: PostgreSQL's text cannot hold one (such a file is checked
    # here). The formula pattern is _FORMULA's.
    return _twin(
        parse,
        f"char_length({{s}}) <= {max_length} AND CASE WHEN left({{s}}, 1) IN ('=', '@', '+', '-') "
        "THEN {s} !~ '^([=@]|[+-](?![0-9]+(\\.[0-9]+)?$))' ELSE true END",
    )


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


