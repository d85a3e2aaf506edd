"""The one way a service writes a hand-made history row (`RowChange`): what changed (model
and key), who changed it and through what (source), and the row before and after; when is
the time of writing. Imports write theirs set-based, in SQL (`accounts.imports.engine`);
pghistory's triggers keep the rest of the audit trail."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import RowChange


def row_change(*, model: str, key: str, before: dict, after: dict, source: str,
               changed_by) -> RowChange:
    """An unsaved history row, for `record_changes`."""
    return RowChange(model=model, key=key, before=before, after=after, source=source[:200],
                     changed_by=changed_by)


def record_change(*, model: str, key: str, before: dict, after: dict, source: str,
                  changed_by) -> RowChange:
    """Write one history row."""
    change = row_change(model=model, key=key, before=before, after=after, source=source,
                        changed_by=changed_by)
    change.save()
    return change


def record_changes(changes: Iterable[RowChange]) -> list[RowChange]:
    """Write several history rows in one INSERT."""
    return RowChange.objects.bulk_create(list(changes))
