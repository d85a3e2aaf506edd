"""Writes of the plan engine: snapshots of attainment, recompute runs."""

from __future__ import annotations

import contextlib
import datetime
import json
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Invoice, Person
from accounts.quarters import Quarter
from payouts import fingerprints, rule_inputs, rules, selectors
from payouts.models import (
    LOCKED_STATUSES,
    AttainmentSnapshot,
    Payout,
    PayoutAdjustment,
    PayoutEvent,
    PayoutLine,
    RecomputeRun,
)
from payouts.rules import to_ratio
from payouts.serialize import jsonable

STALE_AFTER_SECONDS = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


def _explanation(result: rules.Result) -> dict:
    data = jsonable(result)
    data["metric"] = None if result.metric is None else str(to_ratio(result.metric))
    data["bonus_fraction"] = str(to_ratio(result.bonus_fraction))
    return data


@contextlib.contextmanager
def _one_view_of_the_data():
    """Reads that see one state of the database (a repeatable-read, read-only transaction),
    so that the figures stored under a fingerprint come from the very rows it was taken of.
    Inside a caller's transaction, the caller's view is kept."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def attainment_recompute(*, quarter: Quarter, as_of: datetime.date, people=None, run=None):
    """Recompute the figures of everyone with a plan (or the given people) and store one
    snapshot per distinct set of inputs; returns the snapshots (big JSON fields deferred).

    Set-based: each person's inputs are fingerprinted in one query
    (`fingerprints.input_fingerprints`); people whose fingerprint has a snapshot already are only
    marked as the latest in one UPDATE; the inputs of the others come from a fixed number of
    queries and their new figures are written in INSERTs of `INSERT_CHUNK` people. A rerun
    with the same inputs writes no new row; two runs at once store each snapshot once.
    """
    label = str(quarter)
    with _one_view_of_the_data():
        planned = selectors.plans_for(quarter, people)
        if not planned:
            return []
        keys = fingerprints.input_fingerprints(quarter, as_of, planned)
        existing = {
            (person_id, key): snapshot_id
            for snapshot_id, person_id, key in AttainmentSnapshot.objects.filter(
                quarter=label, as_of=as_of, person_id__in=keys, inputs_digest__in=keys.values()
            ).values_list("id", "person_id", "inputs_digest")
        }
        changed = [row for row in planned if (row[0].id, keys[row[0].id]) not in existing]
        gathered = rule_inputs.gather_inputs(quarter, as_of, planned=changed) if changed else []
    now = timezone.now()
    stored = []  # (person id, fingerprint) of the snapshots written now
    with transaction.atomic():
        if existing:
            AttainmentSnapshot.objects.filter(id__in=existing.values()).update(
                computed_at=now, run=run
            )
        # Computed, turned to JSON and written a chunk of people at a time, each chunk's
        # inputs let go once written: a cold recompute of a thousand people holds one
        # chunk's JSON, not everyone's.
        while gathered:
            chunk, gathered[:INSERT_CHUNK] = gathered[:INSERT_CHUNK], []
            rows = [_snapshot_of(person, version, inputs, label, as_of, keys, run, now)
                    for person, version, _person_plan, inputs in chunk]
            _snapshots_insert(rows)
            stored += [(r.person_id, r.inputs_digest) for r in rows]
            del chunk, rows
        if stored:
            AttainmentSnapshot.objects.filter(
                quarter=label, as_of=as_of,
                person_id__in=[person_id for person_id, _key in stored],
                inputs_digest__in=[key for _person_id, key in stored],
            ).update(computed_at=now, run=run)
    snapshots = list(
        AttainmentSnapshot.objects.filter(quarter=label, as_of=as_of, person_id__in=keys)
        .filter(inputs_digest__in=keys.values())
        .defer("inputs", "explanation")
        .select_related("person", "plan_version")
        .order_by("person__email")
    )
    snapshots = [s for s in snapshots if keys.get(s.person_id) == s.inputs_digest]
    if run is not None:
        recompute_run_progress(run=run)
    return snapshots


# People computed and written per INSERT in a recompute (`attainment_recompute`).
INSERT_CHUNK = 100


def _snapshot_of(person, version, inputs, label, as_of, keys, run, now) -> AttainmentSnapshot:
    result = rules.compute(inputs)
    return AttainmentSnapshot(
        person=person, quarter=label, as_of=as_of, inputs_digest=keys[person.id],
        final=result.final, plan_version=version, metric=to_ratio(result.metric),
        bonus_fraction=to_ratio(result.bonus_fraction), amount=result.amount,
        payable=result.payable, accounts_counted=result.accounts_counted,
        accounts_excluded=result.accounts_excluded, inputs=jsonable(inputs),
        explanation=_explanation(result), run=run, computed_at=now,
    )


_SNAPSHOT_COLUMNS = (
    "person_id", "quarter", "as_of", "final", "plan_version_id", "inputs_digest", "metric",
    "bonus_fraction", "amount", "payable", "accounts_counted", "accounts_excluded", "inputs",
    "explanation", "run_id", "computed_at",
)


def _snapshots_insert(rows: list[AttainmentSnapshot]) -> None:
    """Insert new snapshots in one multi-row INSERT. A concurrent run may have stored the
    same inputs: the unique constraint keeps one row and the caller's UPDATE marks it latest.
    (Written by hand because the ORM's bulk insert escapes large JSON documents slowly.)"""
    row = "(" + ", ".join(
        "%s::jsonb" if c in ("inputs", "explanation") else "%s" for c in _SNAPSHOT_COLUMNS
    ) + ")"
    params = []
    for r in rows:
        params += [
            r.person_id, r.quarter, r.as_of, r.final, r.plan_version_id, r.inputs_digest,
            r.metric, r.bonus_fraction, r.amount, r.payable, r.accounts_counted,
            r.accounts_excluded, json.dumps(r.inputs, separators=(",", ":")),
            json.dumps(r.explanation, separators=(",", ":")), r.run_id, r.computed_at,
        ]
    sql = (
        f"INSERT INTO payouts_attainmentsnapshot ({', '.join(_SNAPSHOT_COLUMNS)}) "
        f"VALUES {', '.join([row] * len(rows))} ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def recompute_run_progress(*, run: RecomputeRun) -> RecomputeRun:
    """Count the people done from the snapshots themselves (a redelivered or resumed task
    counts once); the run is finished when everyone is done."""
    done = AttainmentSnapshot.objects.filter(run_id=run.id).values("person_id").distinct().count()
    RecomputeRun.objects.filter(id=run.id).update(done=done, progressed_at=timezone.now())
    if done >= run.total:
        recompute_run_finish(run=run)
    run.refresh_from_db()
    return run


def recompute_run_start(
    *, quarter: Quarter, as_of: datetime.date, user=None, total: int, person_ids=()
):
    """Start a run of `person_ids` (`total` of them), or join the one already running for
    the same quarter and day.

    A run still marked running after the broker's visibility timeout lost its worker: it is
    marked failed so that a new one can start.
    """
    stale = timezone.now() - datetime.timedelta(seconds=STALE_AFTER_SECONDS)
    RecomputeRun.objects.filter(
        quarter=str(quarter), as_of=as_of, status=RecomputeRun.Status.RUNNING,
        started_at__lt=stale,
    ).update(status=RecomputeRun.Status.FAILED, finished_at=timezone.now())
    try:
        with transaction.atomic():
            return RecomputeRun.objects.create(
                quarter=str(quarter), as_of=as_of, total=total, started_by=user,
                person_ids=list(person_ids),
            ), True
    except IntegrityError:
        return RecomputeRun.objects.get(
            quarter=str(quarter), as_of=as_of, status=RecomputeRun.Status.RUNNING
        ), False


def recompute_run_finish(*, run: RecomputeRun) -> None:
    RecomputeRun.objects.filter(id=run.id, status=RecomputeRun.Status.RUNNING).update(
        status=RecomputeRun.Status.DONE, finished_at=timezone.now()
    )


def recompute_run_resume(*, run: RecomputeRun) -> list[int]:
    """Claim a stalled run for one resume and return the people it still lacks (no
    snapshot in this run yet), for the caller to recompute or requeue.

    The claim is the database's: it moves `progressed_at` to now only if the run is still
    running and quiet for RECOMPUTE_STALL_SECONDS, so of two resumes at once, or one run
    twice, only the first gets the people; the other gets [] until the run is quiet again.
    A run that lacks nobody is finished here.
    """
    now = timezone.now()
    quiet_since = now - datetime.timedelta(seconds=settings.RECOMPUTE_STALL_SECONDS)
    claimed = RecomputeRun.objects.filter(
        id=run.id, status=RecomputeRun.Status.RUNNING, progressed_at__lte=quiet_since
    ).update(progressed_at=now)
    if not claimed:
        return []
    run.refresh_from_db()
    covered = run.person_ids or [  # a run started before runs recorded their people
        p.id for p, _plan, _pp, _v in selectors.plans_for(Quarter.parse(run.quarter))
    ]
    finished = set(
        AttainmentSnapshot.objects.filter(run_id=run.id).values_list("person_id", flat=True)
    )
    missing = [pid for pid in covered if pid not in finished]
    if not missing:
        recompute_run_progress(run=run)
    return missing


def quarter_recompute_sync(*, quarter: Quarter, as_of: datetime.date, user=None):
    """The recompute command: everyone, in this process, recorded as a run. A stalled run
    of the same quarter and day is resumed here (its missing people) and finished.
    Returns (run, the snapshots computed here, whether it resumed a stalled run)."""
    covered = [p.id for p, _plan, _pp, _v in selectors.plans_for(quarter)]
    run, started = recompute_run_start(
        quarter=quarter, as_of=as_of, user=user, total=len(covered), person_ids=covered
    )
    people = None  # everyone with a plan
    if not started:
        missing = recompute_run_resume(run=run) if selectors.recompute_run_stalled(run) else []
        run.refresh_from_db()
        if not missing:
            if run.status == RecomputeRun.Status.RUNNING:
                raise RuntimeError(
                    f"A recompute of {quarter} as of {as_of} is already running (run {run.id})."
                )
            return run, [], True  # the stalled run lacked nobody: the resume finished it
        people = list(Person.objects.filter(id__in=missing))
    try:
        snapshots = attainment_recompute(quarter=quarter, as_of=as_of, people=people, run=run)
    except BaseException:
        RecomputeRun.objects.filter(id=run.id).update(
            status=RecomputeRun.Status.FAILED, finished_at=timezone.now()
        )
        raise
    recompute_run_finish(run=run)  # also when nobody has a plan in the quarter
    run.refresh_from_db()
    return run, snapshots, not started


def attainment_json_rows(quarter: Quarter) -> list[dict]:
    """The data contract's figures out: latest snapshot per person, sorted by email."""
    rows = []
    for s in selectors.latest_snapshots(quarter):
        rows.append({
            "email": s.person.email,
            "quarter": s.quarter,
            "plan": s.plan_version.plan,
            "plan_version": s.plan_version.version,
            "as_of": s.as_of.isoformat(),
            "final": s.final,
            "metric": None if s.metric is None else f"{s.metric:.6f}",
            "bonus_fraction": f"{s.bonus_fraction:.6f}",
            "amount": f"{s.amount:.2f}",
            "payable": f"{s.payable:.2f}",
            "accounts_counted": s.accounts_counted,
            "accounts_excluded": s.accounts_excluded,
        })
    rows.sort(key=lambda r: r["email"])
    return rows


# ---------------------------------------------------------------------------------------
# Quarter close and payouts (SPEC 4.4)


class PayoutError(ValueError):
    """A payout action refused, with the reason to show."""


def _late_money(person, quarter: Quarter, close: Quarter) -> list[tuple[str, Decimal, str]]:
    """Money of `quarter` that became payable after the cutoff of the quarter closed before
    `close` and by `close`'s cutoff: [(bucket, amount, source)]."""
    earlier_cutoff = close.previous().cutoff
    before = rule_inputs.gather_inputs(quarter, quarter.cutoff, [person], paid_by=earlier_cutoff)
    after = rule_inputs.gather_inputs(quarter, quarter.cutoff, [person], paid_by=close.cutoff)
    if not before or not after:
        return []
    old = rules.compute(before[0][3])
    new = rules.compute(after[0][3])
    delta = new.payable - old.payable
    if delta == 0:
        return []
    bucket = "carried_forward" if new.plan == "ae_commission" else "late_payment"
    invoices = Invoice.objects.filter(
        status="paid", paid_on__gt=earlier_cutoff, paid_on__lte=close.cutoff,
        account_id__in=[a.account_id for a in after[0][3].accounts],
    )
    deal_ids = [d.external_id for d in after[0][3].deals]
    paid_contract = Invoice.objects.filter(
        kind="contract", deal_external_id__in=deal_ids, status="paid",
        paid_on__gt=earlier_cutoff, paid_on__lte=close.cutoff,
    )
    names = sorted(set(invoices.filter(
        period_start__gte=quarter.start, period_start__lte=quarter.end, kind="usage"
    ).values_list("external_id", flat=True)) | set(
        paid_contract.values_list("external_id", flat=True)))
    source = f"{quarter}: paid after its cutoff: {', '.join(names) or 'see explanation'}"
    return [(bucket, delta, source)]


def _look_back(quarter: Quarter) -> list[Quarter]:
    """The four quarters before `quarter`, oldest first: how far back money is carried."""
    earlier = [quarter.previous()]
    for _ in range(3):
        earlier.append(earlier[-1].previous())
    return earlier[::-1]


def _carried_lines(person, quarter: Quarter) -> list[tuple[str, Decimal, str]]:
    """Money of the four quarters before `quarter` that became payable by its cutoff, for
    the earlier quarters that had a payout: [(bucket, amount to the cent, source)]."""
    with_payout = set(Payout.objects.filter(
        person=person, quarter__in=[str(q) for q in _look_back(quarter)]
    ).values_list("quarter", flat=True))
    lines = []
    for earlier in _look_back(quarter):
        if str(earlier) not in with_payout:
            continue
        for bucket, amount, source in _late_money(person, earlier, quarter):
            lines.append((bucket, rules.to_cents(amount), source))
    return [line for line in lines if line[1] != 0]


def _payout_create(*, person, quarter: Quarter, plan_version, snapshot, lines, user, comment):
    """One payout pending approval with its lines, in one transaction; None if it exists."""
    with transaction.atomic():
        payout, was_created = Payout.objects.get_or_create(
            person=person, quarter=str(quarter),
            defaults=dict(plan_version=plan_version, snapshot=snapshot,
                          payout_date=quarter.payout_date),
        )
        if not was_created:
            return None
        PayoutLine.objects.bulk_create(
            PayoutLine(payout=payout, bucket=bucket, amount=amount, source=source)
            for bucket, amount, source in lines
        )
        PayoutEvent.objects.create(payout=payout, to_status=payout.status, by=user,
                                   comment=comment)
    return payout


def _own_lines(snapshot, quarter: Quarter) -> list[tuple[str, Decimal, str]]:
    lines = [(bucket, Decimal(amount), f"{quarter} final figures as of {quarter.cutoff}")
             for bucket, amount in snapshot.explanation["lines"].items()]
    if snapshot.amount != snapshot.payable:
        lines.append((
            "not_yet_payable", snapshot.payable - snapshot.amount,
            "commission on annual deals whose contract invoices were not paid by the cutoff: "
            "paid at a later payout as those invoices are paid"))
    return lines


def _leavers_payouts(quarter: Quarter, *, user) -> list[Payout]:
    """Money earned by people who have left, that became payable by this quarter's cutoff:
    a payout of its own (carried lines only) for finance to approve or reject (SPEC 4.4)."""
    earlier = Payout.objects.filter(
        quarter__in=[str(q) for q in _look_back(quarter)],
        person__end_date__lt=quarter.start,
    ).exclude(person__payouts__quarter=str(quarter)).select_related(
        "person", "plan_version", "snapshot").order_by("person_id", "-quarter")
    latest = {}
    for payout in earlier:
        latest.setdefault(payout.person_id, payout)
    created = []
    for last in latest.values():
        lines = _carried_lines(last.person, quarter)
        if not lines:
            continue
        left = f"; earned before leaving on {last.person.end_date}"
        payout = _payout_create(
            person=last.person, quarter=quarter, plan_version=last.plan_version,
            snapshot=last.snapshot, user=user,
            lines=[(bucket, amount, source + left) for bucket, amount, source in lines],
            comment=f"quarter closed: money that became payable after leaving on "
                    f"{last.person.end_date}",
        )
        if payout is not None:
            created.append(payout)
    return created


def quarter_close(*, quarter: Quarter, today: datetime.date | None = None, user=None):
    """Final figures as of the cutoff day, one payout per person, pending approval; and one
    for each leaver whose earlier money became payable since (carried lines only).

    Closing twice creates nothing new; closing before the cutoff day has passed is refused.
    """
    today = today or datetime.date.today()
    if today <= quarter.cutoff:
        raise PayoutError(
            f"{quarter} cannot be closed before its cutoff day ({quarter.cutoff}) has passed."
        )
    created = []
    existing = set(Payout.objects.filter(quarter=str(quarter)).values_list("person_id", flat=True))
    snapshots = attainment_recompute(quarter=quarter, as_of=quarter.cutoff)
    for snapshot in snapshots:
        if snapshot.person_id in existing:
            continue
        lines = _own_lines(snapshot, quarter) + _carried_lines(snapshot.person, quarter)
        payout = _payout_create(person=snapshot.person, quarter=quarter,
                                plan_version=snapshot.plan_version, snapshot=snapshot,
                                lines=lines, user=user, comment="quarter closed")
        if payout is not None:
            created.append(payout)
    return created + _leavers_payouts(quarter, user=user)


def _transition(*, payout_id, user, allowed_from, to, comment="", extra=None):
    """A guarded status change: the conditional update's row count says who won."""
    if not user_is_finance(user):
        raise PayoutError("Only finance can approve, reject or mark payouts paid.")
    payout = Payout.objects.select_related("person").get(id=payout_id)
    if to in ("approved", "paid") and payout.person.email.lower() == (user.email or "").lower():
        raise PayoutError("Nobody approves or pays their own payout.")
    with transaction.atomic():
        changed = Payout.objects.filter(id=payout_id, status__in=allowed_from).update(
            status=to, **(extra or {})
        )
        if not changed:
            current = Payout.objects.get(id=payout_id).status
            raise PayoutError(f"This payout is {current.replace('_', ' ')} now; it was not {to}.")
        PayoutEvent.objects.create(payout_id=payout_id, from_status=payout.status, to_status=to,
                                   by=user, comment=comment)
    return Payout.objects.get(id=payout_id)


def user_is_finance(user) -> bool:
    from accounts.permissions import roles_of

    return user is not None and "finance" in roles_of(user)


def payout_approve(*, payout_id, user):
    return _transition(payout_id=payout_id, user=user, allowed_from=["pending_approval"],
                       to="approved", extra=dict(approved_by=user, approved_at=timezone.now()))


def payouts_approve(*, payout_ids, user) -> list[Payout]:
    """Approve several payouts at once, in one transaction, each with the guards of
    `payout_approve`: if any of them is refused, none is approved."""
    with transaction.atomic():
        return [payout_approve(payout_id=payout_id, user=user) for payout_id in payout_ids]


def payout_reject(*, payout_id, user, comment):
    if not comment.strip():
        raise PayoutError("A rejection needs a comment saying what to fix.")
    return _transition(payout_id=payout_id, user=user, allowed_from=["pending_approval"],
                       to="rejected", comment=comment, extra=dict(rejection_comment=comment))


def payout_resubmit(*, payout_id, user):
    return _transition(payout_id=payout_id, user=user, allowed_from=["rejected", "draft"],
                       to="pending_approval")


def payout_mark_paid(*, payout_id, user, paid_on: datetime.date):
    return _transition(payout_id=payout_id, user=user, allowed_from=["approved"], to="paid",
                       comment=f"paid on {paid_on}", extra=dict(paid_on=paid_on))


def payout_adjust(*, payout_id, user, amount: Decimal, reason: str):
    if not user_is_finance(user):
        raise PayoutError("Only finance can adjust a payout.")
    if not reason.strip():
        raise PayoutError("An adjustment needs a reason.")
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(id=payout_id)
        if payout.status in LOCKED_STATUSES:
            raise PayoutError(
                f"This payout is {payout.status}; adjust the next open quarter instead."
            )
        return PayoutAdjustment.objects.create(
            payout=payout, amount=rules.to_cents(Decimal(amount)), reason=reason,
            created_by=user,
        )


def people_affected_by_accounts(account_ids, quarter: Quarter) -> list:
    """Everyone whose figure for the quarter can depend on these accounts: their owners in
    any role at some time in the quarter, and the owners of their deals closed in it."""
    from django.db.models import Q as _Q

    from accounts.models import Assignment, Deal, Person

    owners = set(
        Assignment.objects.filter(account_id__in=account_ids, start_date__lte=quarter.end)
        .filter(_Q(end_date__isnull=True) | _Q(end_date__gte=quarter.start))
        .values_list("owner_id", flat=True)
    ) | set(
        Deal.objects.filter(account_id__in=account_ids, closed_on__gte=quarter.start,
                            closed_on__lte=quarter.end).values_list("owner_id", flat=True)
    )
    return list(Person.objects.filter(id__in=owners))


def attainment_refresh(*, quarter: Quarter, as_of: datetime.date, people, cause: str = ""):
    """Recompute the given people after a change of their inputs (an import, a reassignment,
    an approved hand-off, a quota amendment: `payouts.fresh`) and name the change on the
    snapshots it stored new. Idempotent as `attainment_recompute` is: the same change twice
    stores each snapshot once, and a snapshot already stored keeps its first cause."""
    stored = dict(AttainmentSnapshot.objects.filter(
        quarter=str(quarter), as_of=as_of, person__in=people
    ).values_list("id", "run_id"))
    snapshots = attainment_recompute(quarter=quarter, as_of=as_of, people=people)
    new = [s.id for s in snapshots if s.id not in stored]
    if new and cause:
        AttainmentSnapshot.objects.filter(id__in=new, cause="").update(cause=cause[:300])
    # A snapshot found already stored keeps the run that stored it: a running run counts
    # its people done by their snapshots.
    by_run = {}
    for s in snapshots:
        if stored.get(s.id) is not None:
            by_run.setdefault(stored[s.id], []).append(s.id)
    for run_id, ids in by_run.items():
        AttainmentSnapshot.objects.filter(id__in=ids).update(run_id=run_id)
    return snapshots
