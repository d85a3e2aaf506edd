"""The checks of a plain file in SQL, all rows at once.

A plain file (every line one row: no quote, no blank line; see `engine._digest`) is read by
PostgreSQL's COPY exactly as by the csv module, so instead of parsing each cell in Python:

1. COPY the file as it is into a temporary table of text columns; an identity column
   numbers the rows in the file's order, so row n is line n + 1.
2. One INSERT ... SELECT strips each cell as str.strip() does, checks it with its parser's
   SQL twin (`cells.py`: dates, months, money with its places and digits, choices, text
   lengths and formulas), resolves the account by its external id, applies the kind's
   checks over the row (`Kind.sql_checks`), and writes the typed values into the staging
   table the write reads from, with the row's line and whether it is bad.
3. Repeated keys are found with one GROUP BY (and their first lines with a window) only
   when there are any.

Only the rows found bad come back to Python, to be checked again by the same row check as
a file read row by row: the messages are those of the parsers, word for word. Should SQL
refuse a row that Python accepts (SQL is at most stricter: Python's \\d also takes other
scripts' digits), or COPY refuse the file (a row of another width), `stage` says so and the
file is checked row by row instead.
"""

from __future__ import annotations

import csv

from accounts.imports.cells import WHITESPACE
from accounts.imports.kinds import STAGE, Kind

RAW = "import_raw"  # the temporary table the file is copied into as it is


def duplicate_reason(kind: Kind, first: int | None) -> str:
    return f"duplicate {' + '.join(kind.key)}: first on line {first}"


def supported(kind: Kind) -> bool:
    """Whether every column has an SQL twin and the kind checks nothing over several rows
    in Python (`remember`, `finish`) nor stages extra columns."""
    if kind.sql_checks is None or kind.stage_extra:
        return False
    for column in kind.columns:
        if not hasattr(column.parse, "sql_valid") or column.empty not in (None, ""):
            return False
    return all(f.column and f.ref in ("", "account") for f in kind.fields)


def _empty(column) -> str:
    return "NULL" if column.empty is None else "''"


def _key_columns(kind: Kind) -> list[tuple[str, str]]:
    """(staging column, file column) of each part of the key; a part the staging table
    does not hold as the file gives it (an account's external id) gets a column."""
    stored = {f.label: f.column for f in kind.fields if not f.ref}
    return [(stored.get(name, f"key_{name}"), name) for name in kind.key]


def _typed_rows(kind: Kind, positions: dict[str, int]) -> tuple[str, list[str]]:
    """The SELECT of the staged rows from the raw ones, and the staging columns it fills.

    Three levels, each fenced with OFFSET 0 so its expressions are computed once a row:
    the stripped cells (r_), whether each is good (ok_), the typed values (v_)."""
    names = [c.name for c in kind.columns]
    stripped = [
        f"coalesce(btrim(c{positions[c.name]}, %(ws)s), '') AS r_{c.name}"
        if c.name in positions
        else f"''::text AS r_{c.name}"
        for c in kind.columns
    ]
    # A row of empty cells is skipped, as the csv module's empty row (COPY reads both as
    # NULLs: a plain file has no quoted empty cell).
    blank = " AND ".join(f"c{i} IS NULL" for i in sorted(positions.values()))
    checked = [
        f"CASE WHEN r_{c.name} = '' THEN {'false' if c.required else 'true'} "
        f"ELSE {c.parse.sql_valid.replace('{s}', f'r_{c.name}')} END AS ok_{c.name}"
        for c in kind.columns
    ]
    typed = [
        f"CASE WHEN r_{c.name} = '' THEN {_empty(c)} "
        f"WHEN ok_{c.name} THEN {c.parse.sql_value.replace('{s}', f'r_{c.name}')} "
        f"END AS v_{c.name}"
        for c in kind.columns
    ]
    account = next((f for f in kind.fields if f.ref == "account"), None)
    bad = [f"NOT ok_{name}" for name in names]
    if account is not None:
        bad.append(f"(ok_{account.label} AND a.id IS NULL)")
    bad += [f"coalesce({check}, false)" for check in kind.sql_checks]

    columns, values = [], []
    for f in kind.fields:
        columns.append(f.column)
        values.append("a.id" if f.ref == "account" else f"v.v_{f.label}")
    for column, name in _key_columns(kind):
        if column.startswith("key_"):
            columns.append(column)
            values.append(f"v.v_{name}")
    columns += ["line", "bad"]
    values += ["v.line", " OR ".join(bad)]
    join = (
        f"LEFT JOIN accounts_account a ON a.external_id = v.v_{account.label}"
        if account is not None
        else ""
    )
    select = f"""
        SELECT {", ".join(values)}
        FROM (
            SELECT line, {", ".join(f"ok_{n}" for n in names)}, {", ".join(typed)}
            FROM (
                SELECT line, {", ".join(f"r_{n}" for n in names)}, {", ".join(checked)}
                FROM (
                    SELECT n + 1 AS line, {", ".join(stripped)}
                    FROM {RAW} WHERE NOT ({blank}) OFFSET 0
                ) r OFFSET 0
            ) c OFFSET 0
        ) v {join}
    """
    return select, columns


def stage(cursor, kind: Kind, path, positions, errors, result, progress, *, check_row,
          progress_every: int) -> bool:
    """Check the file in SQL and fill the staging table (created by the caller) with its
    rows; report every bad row through `errors`. False when the file must be checked row
    by row instead (nothing reported then). `progress(rows)` is called for every
    `progress_every` rows once they are checked."""

    width = len(positions)
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{RAW}")
    cursor.execute(
        f"CREATE TEMP TABLE {RAW} ("
        + "".join(f"c{i} text, " for i in range(width))
        + "n bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP"
    )
    raw_columns = ", ".join(f"c{i}" for i in range(width))
    with open(path, "rb") as f, cursor.copy(
        f"COPY {RAW} ({raw_columns}) FROM STDIN WITH (FORMAT csv, HEADER true)"
    ) as copy:
        while chunk := f.read(1 << 20):
            copy.write(chunk)

    keys = _key_columns(kind)
    for column, _ in keys:
        if column.startswith("key_"):
            cursor.execute(f"ALTER TABLE {STAGE} ADD COLUMN {column} text")
    cursor.execute(f"ALTER TABLE {STAGE} ADD COLUMN line bigint, ADD COLUMN bad boolean")
    select, columns = _typed_rows(kind, positions)
    cursor.execute(f"INSERT INTO {STAGE} ({', '.join(columns)}) {select}", {"ws": WHITESPACE})
    result.rows = cursor.rowcount
    if progress:
        for rows in range(progress_every, result.rows + 1, progress_every):
            progress(rows)

    cursor.execute(f"SELECT line FROM {STAGE} WHERE bad ORDER BY line")
    bad_lines = [line for (line,) in cursor.fetchall()]
    if bad_lines:
        kind.prepare()
        cursor.execute(
            f"SELECT n + 1, {raw_columns} FROM {RAW} WHERE n + 1 = ANY(%s) ORDER BY n",
            [bad_lines],
        )
        limit = csv.field_size_limit()
        for line, *cells in cursor.fetchall():
            cells = [cell or "" for cell in cells]
            if any(len(cell) > limit for cell in cells):
                return False  # the csv module stops at such a cell: say so as it does
            _, problems = check_row(line, cells)
            if not problems:
                return False
            for column, reason in problems.items():
                errors.add(line, column, reason)

    key = ", ".join(column for column, _ in keys)
    known = " AND ".join(f"{column} IS NOT NULL" for column, _ in keys)
    cursor.execute(
        f"SELECT EXISTS (SELECT FROM {STAGE} WHERE {known} GROUP BY {key} HAVING count(*) > 1)"
    )
    if cursor.fetchone()[0]:
        cursor.execute(
            f"""
            SELECT line, first FROM (
                SELECT line, min(line) OVER (PARTITION BY {key}) AS first
                FROM {STAGE} WHERE {known}
            ) d WHERE line > first ORDER BY line
            """
        )
        for line, first in cursor.fetchall():
            errors.add(line, kind.key[0], duplicate_reason(kind, first))
    return True
