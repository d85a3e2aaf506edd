"""Writes of the plan engine: snapshots of attainment, recompute runs."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.conf import settings
from django.utils import timezone

from payouts import rules, selectors
from payouts.models import AttainmentSnapshot, RecomputeRun
from payouts.quarters import Quarter
from payouts.rules import to_ratio
from payouts.serialize import digest, jsonable

STALE_AFTER_SECONDS = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


def _explanation(result: rules.Result) -> dict:
    data = jsonable(result)
    data["metric"] = None if result.metric is None else str(to_ratio(result.metric))
    data["bonus_fraction"] = str(to_ratio(result.bonus_fraction))
    return data


def snapshot_store(*, person, version, inputs: rules.PlanInputs, run=None) -> AttainmentSnapshot:
    """Compute one person's figure and store it, once per distinct set of inputs.

    A rerun with the same inputs finds the existing row and only marks it as the latest.
    """
    payload = jsonable(inputs)
    key = digest({"inputs": payload, "plan_version_id": version.id})
    now = timezone.now()
    updated = AttainmentSnapshot.objects.filter(
        person=person, quarter=str(inputs.quarter), as_of=inputs.as_of, inputs_digest=key
    ).update(computed_at=now, run=run)
    if updated:
        return AttainmentSnapshot.objects.get(
            person=person, quarter=str(inputs.quarter), as_of=inputs.as_of, inputs_digest=key
        )
    result = rules.compute(inputs)
    fields = dict(
        final=result.final, plan_version=version, metric=to_ratio(result.metric),
        bonus_fraction=to_ratio(result.bonus_fraction), amount=result.amount,
        payable=result.payable, accounts_counted=result.accounts_counted,
        accounts_excluded=result.accounts_excluded, inputs=payload,
        explanation=_explanation(result), run=run, computed_at=now,
    )
    try:
        with transaction.atomic():
            snapshot, _ = AttainmentSnapshot.objects.get_or_create(
                person=person, quarter=str(inputs.quarter), as_of=inputs.as_of,
                inputs_digest=key, defaults=fields,
            )
    except IntegrityError:  # a concurrent run stored the same inputs first
        snapshot = AttainmentSnapshot.objects.get(
            person=person, quarter=str(inputs.quarter), as_of=inputs.as_of, inputs_digest=key
        )
    return snapshot


def attainment_recompute(*, quarter: Quarter, as_of: datetime.date, people=None, run=None):
    """Recompute the figures of everyone with a plan (or the given people); returns snapshots."""
    snapshots = []
    for person, version, _person_plan, inputs in selectors.gather_inputs(quarter, as_of, people):
        snapshots.append(snapshot_store(person=person, version=version, inputs=inputs, run=run))
        if run is not None:
            recompute_run_progress(run=run)
    return snapshots


def recompute_run_progress(*, run: RecomputeRun) -> RecomputeRun:
    """Count the people done from the snapshots themselves (a redelivered task counts once);
    the run is finished when everyone is done."""
    done = AttainmentSnapshot.objects.filter(run_id=run.id).count()
    RecomputeRun.objects.filter(id=run.id).update(done=done)
    if done >= run.total:
        recompute_run_finish(run=run)
    run.refresh_from_db()
    return run


def recompute_run_start(*, quarter: Quarter, as_of: datetime.date, user=None, total: int):
    """Start a run, or join the one already running for the same quarter and day.

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
                quarter=str(quarter), as_of=as_of, total=total, started_by=user
            ), True
    except IntegrityError:
        return RecomputeRun.objects.get(
            quarter=str(quarter), as_of=as_of, status=RecomputeRun.Status.RUNNING
        ), False


def recompute_run_finish(*, run: RecomputeRun) -> None:
    RecomputeRun.objects.filter(id=run.id, status=RecomputeRun.Status.RUNNING).update(
        status=RecomputeRun.Status.DONE, finished_at=timezone.now()
    )


def quarter_recompute_sync(*, quarter: Quarter, as_of: datetime.date, user=None):
    """The recompute command: everyone, in this process, recorded as a run."""
    people = [p for p, _plan, _pp, _v in selectors.plans_for(quarter)]
    run, started = recompute_run_start(quarter=quarter, as_of=as_of, user=user, total=len(people))
    if not started:
        raise RuntimeError(
            f"A recompute of {quarter} as of {as_of} is already running (run {run.id})."
        )
    try:
        snapshots = attainment_recompute(quarter=quarter, as_of=as_of, run=run)
    except BaseException:
        RecomputeRun.objects.filter(id=run.id).update(
            status=RecomputeRun.Status.FAILED, finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    return run, snapshots


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
