"""Every kind of file the product imports, and what an import sets off.

The books' kinds (`accounts.imports`) and the pay's plans file (`payouts.imports`) make
the kinds of the data contract. After an import that changed rows, the figures of the
people and open quarters those rows concern are recomputed by the workers at once
(`payouts.fresh`). After an import that changed rows a figure depends on, every quarter
with approved or paid payouts is recomputed and any difference is proposed to finance
(SPEC 7, through 4.4's difference), so a change behind money already approved never
passes silently.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from django import db

from accounts.imports import BOOK_KINDS, ImportResult, Kind, import_file
from accounts.quarters import Quarter
from payouts.finance import differences_detect
from payouts.fresh import after_import
from payouts.imports import PlansFile
from payouts.models import LOCKED_STATUSES, Payout

# The kinds in the data contract's order.
_ORDER = ("people", "accounts", "assignments", "invoices", "usage", "deals", "plans", "leads")
KINDS: dict[str, type[Kind]] = {
    kind.name.value: kind
    for kind in sorted((*BOOK_KINDS, PlansFile), key=lambda k: _ORDER.index(k.name.value))
}

# What a lost connection to PostgreSQL raises, through Django or psycopg.
DATABASE_LOST = (
    db.OperationalError, db.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError
)

# Kinds whose changes can move a figure already paid.
FIGURE_KINDS = ("accounts", "assignments", "invoices", "usage", "deals", "plans")


def import_csv(
    kind: str,
    path,
    *,
    dry_run: bool = False,
    user=None,
    progress: Callable[[int], None] | None = None,
    filename: str | None = None,
) -> ImportResult:
    """Import one file of `kind`, all or nothing (`accounts.imports.engine`), then follow
    up the approved quarters when it changed rows a figure depends on."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    result = import_file(
        KINDS[kind], path, dry_run=dry_run, user=user, progress=progress, filename=filename
    )
    # The people and quarters whose inputs changed are recomputed by the workers at once
    # (on commit), before the slower follow-up of approved quarters below.
    after_import(result)
    if result.ok and not dry_run and kind in FIGURE_KINDS and (result.created or result.updated):
        try:
            result.differences = differences_of_approved_quarters()
        except DATABASE_LOST:
            # The file is saved (its transaction committed); only the follow-up is lost.
            result.follow_up_lost = True
    return result


def differences_of_approved_quarters() -> int:
    """Recompute each quarter with approved or paid payouts; the number of differences
    proposed to finance."""
    quarters = (
        Payout.objects.filter(status__in=LOCKED_STATUSES)
        .values_list("quarter", flat=True).distinct().order_by("quarter")
    )
    return sum(len(differences_detect(Quarter.parse(q))) for q in quarters)
