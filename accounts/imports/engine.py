"""CSV in (data-contract.md): check every row first, then write in one transaction.

`import_file(kind, path)` reads the file once to check it, streaming each good row into a
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
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter

import psycopg
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Max

from accounts.imports import insql
from accounts.imports.changed import ImportChanges, changes_of
from accounts.imports.insql import duplicate_reason
from accounts.imports.kinds import STAGE, Kind
from accounts.models import (
    ImportRun,
)

PROGRESS_EVERY = 100_000



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
    follow_up_lost: bool = False  # saved, but the database went away before the follow-up
    # What the written rows concern, for the figures' refresh (`accounts.imports.changed`).
    changed: ImportChanges | None = None
    import_run_id: int | None = None

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
        if self.follow_up_lost:
            text += ("; the database went away before the approved quarters were checked: "
                     "finance's 'Look for differences after approval' checks them")
        return text + ("; dry run, nothing written" if self.dry_run else "")



# --- Reading -----------------------------------------------------------------------------


def _digest(path) -> tuple[str, int | None, bool]:
    """The file's sha256, the line of its first byte that is not UTF-8 (or None), and
    whether it is plain: every line one row (no quote, so no quoted line break), no blank
    line, no NUL and no backslash-dot (COPY's end of data). PostgreSQL's COPY reads a
    plain file exactly as the csv module does, so its rows can be checked in SQL."""
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    bad_line, newlines, plain, tail = None, 0, True, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
            if bad_line is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad_line = newlines + chunk[: max(exc.start, 0)].count(b"\n") + 1
                newlines += chunk.count(b"\n")
            if plain:
                seam = tail + chunk
                plain = not any(
                    mark in seam for mark in (b'"', b"\x00", b"\\.", b"\n\n", b"\n\r\n")
                )
                tail = chunk[-2:]
        if bad_line is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                bad_line = newlines + 1
    return sha.hexdigest(), bad_line, plain


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


def _header(kind: Kind, path, errors: _Errors) -> dict[str, int] | None:
    """The position of each column named in the header, or None when the header is bad."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), None)
    if not header or not any(cell.strip() for cell in header):
        errors.add(1, "header", "the file is empty; its first line must be the header")
        return None
    positions = _check_header(kind, header, errors)
    if errors:
        return None
    errors.columns = positions
    return positions


def _row_checker(kind: Kind, positions: dict[str, int]) -> Callable[[int, list[str]], tuple]:
    """check(line, cells) -> (values, problems by column) for a row of the header's width:
    each cell parsed, then the kind's checks over the row."""
    parsers = [
        (c.name, positions[c.name], c.parse, c.required, c.empty)
        for c in kind.columns
        if c.name in positions
    ]
    absent = {c.name: c.empty for c in kind.columns if c.name not in positions}
    check = kind.check

    def check_row(line: int, cells: list[str]) -> tuple[dict, dict[str, str]]:
        problems: dict[str, str] = {}

        def add(column, reason):
            problems.setdefault(column, reason)  # the first reason for a cell is enough

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
        return v, problems

    return check_row


def _read(
    kind: Kind, path, positions, errors: _Errors, result: ImportResult, copy, progress
) -> list[tuple[int, object]]:
    """Check every row, streaming the good ones into `copy` while the file has no error.
    Returns the (line, key) of rows whose key appeared earlier."""
    duplicates: list[tuple[int, object]] = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        width = len(next(reader))
        check_row = _row_checker(kind, positions)
        key_of, single_key = itemgetter(*kind.key), len(kind.key) == 1
        seen: set = set()
        remember, stage_row = kind.remember, kind.stage_row
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
                v, problems = check_row(line, cells)
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
    for line, key in duplicates:
        errors.add(line, kind.key[0], duplicate_reason(kind, first.get(key)))


# --- Writing -----------------------------------------------------------------------------


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
               count(*) FILTER (WHERE t.id IS NOT NULL AND {kind.differs()})
        FROM {STAGE} s LEFT JOIN {table} t ON {kind.match}
        """
    )
    return cursor.fetchone()


def _write(cursor, kind: Kind, *, rows: int, updated: int, created: int, params: dict) -> None:
    table = kind.model._meta.db_table
    differs = kind.differs()
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


def import_file(
    kind_class: type[Kind],
    path,
    *,
    dry_run: bool = False,
    user=None,
    progress: Callable[[int], None] | None = None,
    filename: str | None = None,
) -> ImportResult:
    """Import one file of a kind (data-contract.md), all or nothing.

    `filename` names the file in the history (an upload is read from a temporary copy);
    `progress(rows)` is called every PROGRESS_EVERY rows while the file is checked.
    """
    kind = kind_class.name.value
    filename = filename or os.path.basename(path)
    result = ImportResult(kind=kind, filename=filename, dry_run=dry_run)
    errors = _Errors()
    sha256, bad_line, plain = _digest(path)
    if bad_line is not None:
        errors.add(1, "file", f"not UTF-8 text (first bad byte on line {bad_line})")
        result.errors = errors.sorted()
        return result

    spec = kind_class()
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
            _stage(cursor, spec, path, errors, result, progress, plain=plain)
            if errors:
                transaction.set_rollback(True)
                result.errors = errors.sorted()
                return result

            result.created, result.updated = _count(cursor, spec)
            result.unchanged = result.rows - result.created - result.updated
            if dry_run:
                transaction.set_rollback(True)
                return result
            result.changed = changes_of(cursor, spec, result.created + result.updated)
            _write(
                cursor,
                spec,
                rows=result.rows,
                updated=result.updated,
                created=result.created,
                params=params,
            )
            cursor.execute(f"DROP TABLE {STAGE}")
            result.import_run_id = _record(result, sha256=sha256, user_id=user_id).id
    except IntegrityError as exc:
        # The checks above should leave nothing for the database to refuse; if something
        # changed meanwhile (an assignment saved from a page), its constraints still hold.
        reason = str(exc).strip().splitlines()[0]
        result.created = result.updated = result.unchanged = 0
        result.errors = [f"line 1: file: the database refused the rows: {reason}"]
        return result
    return result


class _CheckInPython(Exception):
    """The file's checks in SQL cannot tell its errors exactly: check it row by row."""


def _stage(
    cursor, spec: Kind, path, errors: _Errors, result: ImportResult, progress, *, plain: bool
) -> None:
    """Check every row and stage the good ones; duplicates of the key and the checks that
    span rows are reported last. A plain file of a kind whose cells all have SQL twins is
    checked in SQL (`insql`); any other, cell by cell here."""
    positions = _header(spec, path, errors)
    if positions is None:
        return
    if plain and insql.supported(spec):
        try:
            with transaction.atomic():  # a savepoint: a fallback starts from a clean slate
                _create_stage(cursor, spec)
                if insql.stage(cursor, spec, path, positions, errors, result, progress,
                               check_row=_row_checker(spec, positions),
                               progress_every=PROGRESS_EVERY):
                    return
                raise _CheckInPython
        except (_CheckInPython, DataError, psycopg.errors.DataError):
            # A row COPY cannot read as the csv module does (a row of another width, a
            # lone carriage return), or a cell SQL refuses that Python accepts.
            errors.items.clear()
            result.rows = 0
    spec.prepare()
    _create_stage(cursor, spec)
    columns = ", ".join(spec.stage_columns)
    types = _stage_types(cursor)
    with cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
        copy.set_types(types)
        duplicates = _read(spec, path, positions, errors, result, copy, progress)
    spec.finish(errors.add)
    if duplicates:
        _report_duplicates(spec, path, duplicates, errors)


def _record(result: ImportResult, *, sha256: str, user_id: int | None) -> ImportRun:
    """The import in the history of imports (the pages show when data last arrived)."""
    return ImportRun.objects.create(
        kind=result.kind,
        filename=result.filename[:255],
        sha256=sha256,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        imported_by_id=user_id,
    )


def import_runs_latest() -> dict[str, ImportRun]:
    """The last import of each kind, by kind (kinds never imported are absent)."""
    latest = ImportRun.objects.values("kind").annotate(last=Max("id")).values("last")
    runs = ImportRun.objects.filter(id__in=latest).select_related("imported_by")
    return {run.kind: run for run in runs}
