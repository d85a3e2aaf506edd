"""What an import changed, for the figures' refresh.

Read from the staging table before the write, while a changed row's stored values (`t`)
are still the old ones: the accounts and people the created and updated rows concern, and
the days they speak of (`Kind.changes`). The pay's side turns that into the people and
quarters to recompute (`payouts.fresh`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from accounts.imports.kinds import STAGE, Kind

# Past this many changed rows the follow-up recomputes the open quarters in full instead
# (cheaper than listing the rows, and nearly everyone is concerned anyway).
CHANGES_LISTED_UP_TO = 100_000


@dataclass
class ImportChanges:
    """{id: (first day, last day)} of the accounts and people the changed rows concern;
    `everything` when too many rows changed to list them."""

    accounts: dict[int, tuple[datetime.date, datetime.date]] = field(default_factory=dict)
    people: dict[int, tuple[datetime.date, datetime.date]] = field(default_factory=dict)
    everything: bool = False

    def __bool__(self):
        return self.everything or bool(self.accounts or self.people)


def changes_of(cursor, kind: Kind, changed_rows: int) -> ImportChanges:
    """The accounts and people the created and updated rows concern, with their days."""
    if not kind.changes or not changed_rows:
        return ImportChanges()
    if changed_rows > CHANGES_LISTED_UP_TO:
        return ImportChanges(everything=True)
    table = kind.model._meta.db_table
    values = ", ".join(f"('{scope}', {ids}, {first}, {last})"
                       for scope, ids, first, last in kind.changes)
    cursor.execute(
        f"""
        SELECT c.scope, c.id, min(c.first)::date, max(c.last)::date
          FROM {STAGE} s LEFT JOIN {table} t ON {kind.match}
         CROSS JOIN LATERAL (VALUES {values}) AS c(scope, id, first, last)
         WHERE (t.id IS NULL OR {kind.differs()}) AND c.id IS NOT NULL
         GROUP BY 1, 2
        """
    )
    found = ImportChanges()
    for scope, pk, first, last in cursor.fetchall():
        (found.accounts if scope == "account" else found.people)[pk] = (first, last)
    return found
