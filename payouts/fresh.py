"""Figures fresh within a second of a change of their inputs.

When an import, a reassignment, an approved hand-off or a change of a quarter's plan or
quota commits, the people and quarters whose inputs changed are recomputed through Celery
(`payouts.tasks.refresh_people`): their pages show the new figure, and "what changed" names
the change (the snapshot's `cause`), without waiting for the nightly run.

A change is a set of accounts and of people, each with the days it speaks of. The quarters
refreshed are those the nightly run computes today (the current one, and the previous one
until its cutoff; neither can be closed yet) that those days reach:

- an account's days reach a quarter from three months before it starts (the baselines'
  months) to its cutoff (the payments it counts); the people are the account's owners in
  the quarter and the owners of its deals closed in it (`people_affected_by_accounts`);
- a person's days (an assignment held, a deal, a quarter's plan) reach the quarters they
  overlap; the people are those named.

The tasks are sent by name when the transaction commits, with today as the as-of day: the
same change sent twice stores each snapshot once (snapshots are stored once per distinct
inputs). A change too large to list (a big import) starts a run of each quarter instead. If
the broker cannot be reached nothing is sent, and the nightly run brings the figures up to
date.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from functools import partial

from celery import current_app, group
from django.conf import settings
from django.db import DatabaseError, transaction
from kombu.exceptions import OperationalError as BrokerError

from accounts.quarters import Quarter, add_months
from payouts import selectors
from payouts.services import people_affected_by_accounts

logger = logging.getLogger(__name__)

EVERY_DAY = (datetime.date.min, datetime.date.max)

Days = tuple[datetime.date, datetime.date]


@dataclass
class Change:
    """What changed: {account id: days} and {person id: days}, and the words naming it."""

    cause: str
    accounts: dict[int, Days] = field(default_factory=dict)
    people: dict[int, Days] = field(default_factory=dict)
    everything: bool = False  # too much to list: every open quarter in full

    def __bool__(self):
        return self.everything or bool(self.accounts or self.people)


def open_quarters(today: datetime.date) -> list[Quarter]:
    """The quarters a change may still move: those the nightly run computes today."""
    current = Quarter.containing(today)
    return [q for q in (current, current.previous()) if selectors.nightly_covers(q, today)]


def _reach(days: Days | None, first: datetime.date, last: datetime.date) -> bool:
    start, end = days or EVERY_DAY
    return (start or datetime.date.min) <= last and (end or datetime.date.max) >= first


def people_to_refresh(change: Change, today: datetime.date) -> list[tuple[Quarter, list[int]]]:
    """[(quarter, the ids of the people to recompute in it)], quarters with nobody left out."""
    found = []
    for quarter in open_quarters(today):
        accounts = [
            account_id for account_id, days in change.accounts.items()
            if _reach(days, add_months(quarter.start, -3), quarter.cutoff)
        ]
        ids = {p.id for p in people_affected_by_accounts(accounts, quarter)} if accounts else set()
        ids |= {pid for pid, days in change.people.items()
                if _reach(days, quarter.start, quarter.end)}
        if ids:
            found.append((quarter, sorted(ids)))
    return found


def refresh_on_commit(change: Change) -> None:
    """Recompute what `change` moved once the current transaction commits (at once outside
    one)."""
    if change:
        transaction.on_commit(partial(refresh_send, change), robust=True)


def refresh_send(change: Change, today: datetime.date | None = None) -> int:
    """Send the tasks that recompute what `change` moved; the number of tasks sent (0 when the
    broker or the database could not be reached: the nightly run catches up)."""
    today = today or datetime.date.today()
    task, batch = current_app.signature, settings.FRESH_BATCH_PEOPLE
    try:
        if change.everything:
            jobs = [task("payouts.tasks.recompute_quarter", args=(str(q), today.isoformat()))
                    for q in open_quarters(today)]
        else:
            jobs = [
                task("payouts.tasks.refresh_people",
                     args=(ids[i : i + batch], str(quarter), today.isoformat(), change.cause))
                for quarter, ids in people_to_refresh(change, today)
                for i in range(0, len(ids), batch)
            ]
        if jobs:
            group(jobs).delay()
    except (BrokerError, DatabaseError, OSError) as exc:
        logger.warning("figures not refreshed after %s (the nightly run will): %s",
                       change.cause, exc)
        return 0
    return len(jobs)


def on_book_changed(sender, *, accounts=None, people=None, cause="", **kwargs):
    """`accounts.signals.book_changed`: an assignment written by a service."""
    refresh_on_commit(Change(cause=cause, accounts=dict(accounts or {}),
                             people=dict(people or {})))


def after_import(result) -> None:
    """After a committed import (`compapp.imports`): recompute what its rows moved."""
    changed = result.changed
    if result.dry_run or not result.ok or not changed:
        return
    cause = f"import #{result.import_run_id}: {result.kind} from {result.filename}"
    refresh_on_commit(Change(cause=cause, accounts=changed.accounts, people=changed.people,
                             everything=changed.everything))


def plan_changed(person_plan, cause: str) -> None:
    """A quarter's plan, target or quota changed for a person (the admin): their figures of
    that quarter."""
    quarter = Quarter.parse(person_plan.quarter)
    refresh_on_commit(Change(cause=cause,
                             people={person_plan.person_id: (quarter.start, quarter.end)}))
