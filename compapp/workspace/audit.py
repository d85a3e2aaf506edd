"""The audit trail, read: the database's history events (django-pghistory) as rows a person
can read: when, who, what, and each changed field's value before and after.

The events are written by triggers in the database, whatever the path of the change (a page,
the admin, a service, a bulk `.update()`, an import). An event holds the whole row as it was
after the change; what changed is found by comparing it with the previous event of the same
row. Who made it comes from the event's context (`pghistory.middleware.HistoryMiddleware`
records the signed-in user and the page of every request); a change made outside a request
(a command, a task, the database itself) has no user.

Reads are set-based: one query per event table, one for the users and one per kind of
referenced row, whatever the length of the history.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.db import models

from accounts.models import Account, AssignmentHistory, Person
from accounts.money import format_money
from payouts.tables import bucket_label

ACTIONS = {"insert": "created", "update": "changed", "delete": "deleted"}
# Columns every event has, or that say nothing a reader needs (set once by the database).
_EVENT_COLUMNS = {"pgh_id", "pgh_created_at", "pgh_label", "pgh_obj", "pgh_context", "id"}
NOT_RECORDED = "(before the history began)"


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str

    @property
    def label(self) -> str:
        return self.field.replace("_", " ")


@dataclass(frozen=True)
class HistoryRow:
    """One change of one row: `changes` lists each field whose value differs from the row's
    previous event (every filled field for a creation, every field for a deletion)."""

    when: datetime.datetime
    who: str  # the user's email or name; "" when made outside a request
    user_id: int | None
    via: str  # the page the change was made from ("" outside a request)
    action: str  # created, changed or deleted
    kind: str  # assignment, payout, payout line, adjustment, inquiry
    object_id: int
    what: str  # the row, in words
    changes: tuple[FieldChange, ...]
    event_id: int  # the event's number in its table: the order within one transaction

    @property
    def changed_fields(self) -> set[str]:
        return {c.field for c in self.changes}

    def change(self, field: str) -> FieldChange | None:
        return next((c for c in self.changes if c.field == field), None)


@dataclass(frozen=True)
class _Source:
    """An event table and how its rows are named; `context_fields` are the same for every
    row of one page (the account of an assignment, the payout of a line) and not shown."""

    kind: str
    events: models.QuerySet
    describe: object  # (values: dict, labels) -> str
    context_fields: tuple[str, ...] = ()


def _shown_fields(event_model, context_fields) -> list[models.Field]:
    fields = []
    for f in event_model._meta.concrete_fields:
        if f.name in _EVENT_COLUMNS or f.name in context_fields:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue  # set by the database at the same moment as the event: the "when"
        fields.append(f)
    return fields


class _Labels:
    """Names of the rows events refer to (people, users, accounts...), fetched in bulk."""

    def __init__(self):
        self.wanted: dict[type, set] = defaultdict(set)
        self.names: dict[tuple[type, object], str] = {}

    def want(self, model, pk):
        if pk is not None:
            self.wanted[model].add(pk)

    def load(self):
        user_model = get_user_model()
        for model, ids in self.wanted.items():
            if model is user_model:
                rows = model.objects.filter(pk__in=ids).only("pk", "email", "username")
                names = {u.pk: u.email or u.get_username() for u in rows}
            elif model is Person:
                rows = model.objects.filter(pk__in=ids).only("pk", "name", "email")
                names = {p.pk: f"{p.name} ({p.email})" for p in rows}
            elif model is Account:
                rows = model.objects.filter(pk__in=ids).only("pk", "name", "external_id")
                names = {a.pk: str(a) for a in rows}
            else:  # snapshots, plan versions, adjustments...: their number is enough
                names = {}
            for pk in ids:
                label = names.get(pk, f"{model._meta.verbose_name} #{pk}")
                self.names[(model, pk)] = label

    def __call__(self, model, pk) -> str:
        if pk is None:
            return ""
        return self.names.get((model, pk), f"{model._meta.verbose_name} #{pk}")


def _shown(field: models.Field, value) -> str:
    """A stored value as pages print it: a choice or a pay bucket by its label, money as
    money."""
    if field.name == "bucket" and value:
        return bucket_label(value)
    choices = dict(field.flatchoices) if field.choices else None
    if choices is None and isinstance(field, ArrayField) and field.base_field.choices:
        labels = dict(field.base_field.flatchoices)
        return ", ".join(str(labels.get(v, v)) for v in value or ())
    if choices is not None and value in choices:
        return str(choices[value])
    if isinstance(field, models.DecimalField) and field.decimal_places == 2 and value is not None:
        return format_money(value)
    return _text(value)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, datetime.date | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _rows(sources: list[_Source]) -> list[HistoryRow]:
    user_model = get_user_model()
    labels = _Labels()
    loaded = []
    for source in sources:
        fields = _shown_fields(source.events.model, source.context_fields)
        events = list(source.events.select_related("pgh_context").order_by("pgh_obj_id", "pgh_id"))
        for event in events:
            for f in fields:
                if f.is_relation:
                    labels.want(f.related_model, getattr(event, f.attname))
            user_id = _context_user(event)
            labels.want(user_model, user_id)
        loaded.append((source, fields, events))
    labels.load()

    rows = []
    for source, fields, events in loaded:
        previous = {}
        for event in events:
            values = {}
            for f in fields:
                raw = getattr(event, f.attname)
                values[f.name] = labels(f.related_model, raw) if f.is_relation else _shown(f, raw)
            before = previous.get(event.pgh_obj_id)
            changes = _compare(event.pgh_label, before, values)
            previous[event.pgh_obj_id] = values
            if not changes:
                continue  # an update of columns nobody reads (or of nothing)
            user_id = _context_user(event)
            metadata = event.pgh_context.metadata if event.pgh_context else {}
            rows.append(HistoryRow(
                when=event.pgh_created_at,
                who=labels(user_model, user_id),
                user_id=user_id,
                via=str(metadata.get("url") or ""),
                action=ACTIONS.get(event.pgh_label, event.pgh_label),
                kind=source.kind,
                object_id=event.pgh_obj_id,
                what=source.describe(values),
                changes=changes,
                event_id=event.pgh_id,
            ))
    # Events of one transaction share its start time; within it, the order they happened.
    order = {source.kind: n for n, source in enumerate(sources)}
    rows.sort(key=lambda r: (r.when, order[r.kind], r.event_id))
    return rows


def _context_user(event) -> int | None:
    if event.pgh_context is None:
        return None
    user = event.pgh_context.metadata.get("user")
    try:
        return int(user) if user is not None else None
    except (TypeError, ValueError):
        return None


def _compare(label: str, before: dict | None, after: dict) -> tuple[FieldChange, ...]:
    if label == "insert":
        return tuple(FieldChange(name, "", value) for name, value in after.items() if value)
    if label == "delete":
        return tuple(FieldChange(name, value, "") for name, value in after.items() if value)
    if before is None:  # the row existed before its history was kept
        return tuple(FieldChange(name, NOT_RECORDED, value) for name, value in after.items())
    return tuple(
        FieldChange(name, before[name], value)
        for name, value in after.items()
        if before.get(name) != value
    )


def account_history(account: Account) -> list[HistoryRow]:
    """Every change of the account's assignments (owners over time), oldest first."""
    assignment_ids = AssignmentHistory.objects.filter(account_id=account.id).values("pgh_obj_id")
    source = _Source(
        kind="assignment",
        events=AssignmentHistory.objects.filter(pgh_obj_id__in=assignment_ids),
        describe=lambda v: (
            f"{v['role'].upper() if v['role'] != 'onboarding' else 'Onboarding'} assignment "
            f"of {v['owner']} from {v['start_date']}"
        ),
        context_fields=("account",),
    )
    return _rows([source])


def payout_history(payout) -> list[HistoryRow]:
    """Every change of the payout, its lines, its adjustments and its inquiries, oldest
    first."""
    from payouts.models import (
        InquiryHistory,
        PayoutAdjustmentHistory,
        PayoutHistory,
        PayoutLineHistory,
    )

    def of_payout(model):
        ids = model.objects.filter(payout_id=payout.id).values("pgh_obj_id")
        return model.objects.filter(pgh_obj_id__in=ids)

    return _rows([
        _Source("payout", PayoutHistory.objects.filter(pgh_obj_id=payout.id),
                lambda v: f"Payout of {v['person']} for {v['quarter']}"),
        _Source("payout line", of_payout(PayoutLineHistory),
                lambda v: f"Line {v['bucket']}", context_fields=("payout",)),
        _Source("adjustment", of_payout(PayoutAdjustmentHistory),
                lambda v: f"Adjustment: {v['reason'][:60]}", context_fields=("payout",)),
        _Source("inquiry", of_payout(InquiryHistory),
                lambda v: f"Inquiry about {v['bucket'] or 'the statement'}",
                context_fields=("payout",)),
    ])
