"""Hand-offs from an AE to a CSM (SPEC 6): reads and writes.

An AE who owns an account proposes moving it to a CSM, attesting the handbook's checks; the
AE's manager approves (the AE assignment ends the day before the effective date and the CSM
one starts that day, inherited, in one transaction) or sends it back with a comment. The
checks advise, they do not block: every "no" is shown to the manager. An approved hand-off
lists the moved account beside the AE's quota, for a manager to amend it (SPEC 4.3).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.changes import record_change, record_changes, row_change
from accounts.models import (
    PRODUCT_CATALOGUE,
    Account,
    Assignment,
    AssignmentRole,
    Handoff,
    Person,
    Role,
)
from accounts.permissions import person_for_user, roles_of, sees_everyone, visible_people
from accounts.quarters import Quarter
from accounts.selectors import format_money, in_force
from accounts.services import ReassignError, _assignment_json, _insert, _lock
from payouts.fresh import Change, refresh_on_commit
from payouts.models import PersonPlan, QuotaAmendment

MAX_CONTACT_ROWS = 200  # rows offered on the form; an account with more users lists the rest


class HandoffError(ReassignError):
    """A refused hand-off; `str()` is the message to show."""


# --- reads -------------------------------------------------------------------------------


def products_not_used(account: Account) -> list[str]:
    """The catalogue's products the account does not use yet, in catalogue order."""
    used = {p.strip().lower() for p in account.products}
    return [p for p in PRODUCT_CATALOGUE if p not in used]


def contact_rows(account: Account) -> int:
    """How many contact rows the checklist asks for: one per active user of last month."""
    return max(0, min(account.active_users or 0, MAX_CONTACT_ROWS))


@dataclass(frozen=True)
class Check:
    """One of the handbook's questions with the AE's answer: `ok` False is a "no" (or no
    answer), highlighted for the manager."""

    question: str
    ok: bool
    answer: str
    notes: str = ""
    details: Sequence[str] = ()


def handoff_checks(handoff: Handoff) -> list[Check]:
    """The handbook's checks as the AE answered them (SPEC 6). The product check is computed
    from the account's products against the catalogue, on the day it is read."""
    account = handoff.account
    expected = account.active_users or 0
    contacted = [c for c in handoff.contacts if c.get("contacted")]
    details = [
        f"{c.get('user') or '(not named)'}: "
        f"{'contacted several times' if c.get('contacted') else 'not contacted several times'}"
        + (f" ({c['notes']})" if c.get("notes") else "")
        for c in handoff.contacts
    ]
    missing = products_not_used(account)
    return [
        Check(
            "Contact tried, several times, with every active user",
            ok=expected > 0 and len(contacted) >= expected,
            answer=f"{len(contacted)} of {expected} active user{'s' if expected != 1 else ''}",
            details=details,
        ),
        Check(
            "Using every product",
            ok=not missing,
            answer="yes" if not missing else f"not using {', '.join(missing)}",
        ),
        # As the handbook says: any "no" (or no answer) is shown to the manager, who reads
        # the notes and decides.
        Check(
            "Another team of the customer could use the product",
            ok=handoff.other_team_could_use is True,
            answer=_yes_no(handoff.other_team_could_use),
            notes=handoff.other_team_notes,
        ),
        Check(
            "Teams or Enterprise features would help them",
            ok=handoff.teams_enterprise_would_help is True,
            answer=_yes_no(handoff.teams_enterprise_would_help),
            notes=handoff.teams_enterprise_notes,
        ),
    ]


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "not answered"}[value]


def visible_handoffs(user) -> QuerySet[Handoff]:
    """Hand-offs this user may open: those of an AE or to a CSM they may see."""
    rows = Handoff.objects.select_related("account", "from_ae", "to_csm", "decided_by")
    if sees_everyone(user):
        return rows
    people = visible_people(user)
    return rows.filter(Q(from_ae__in=people) | Q(to_csm__in=people))


def get_handoff_for_user(user, handoff_id: int) -> Handoff:
    """The hand-off, if this user may see it; else 404."""
    handoff = visible_handoffs(user).filter(id=handoff_id).first()
    if handoff is None:
        raise Http404("No such hand-off")
    return handoff


def pending_handoffs(user) -> QuerySet[Handoff]:
    """Proposed hand-offs of the AEs this manager runs, oldest first."""
    me = person_for_user(user)
    rows = Handoff.objects.filter(status=Handoff.Status.PROPOSED, from_ae__in=team_of(user))
    if me is not None:
        rows = rows.exclude(from_ae=me)
    return rows.select_related("account", "from_ae", "to_csm").order_by("proposed_at")


def arriving_handoffs(user) -> QuerySet[Handoff]:
    """Proposed hand-offs to the CSMs this manager runs that another manager decides (the
    AE's): theirs to watch, not to decide. Oldest first."""
    rows = Handoff.objects.filter(status=Handoff.Status.PROPOSED, to_csm__in=team_of(user))
    rows = rows.exclude(from_ae__in=team_of(user))
    return rows.select_related("account", "from_ae", "to_csm").order_by("proposed_at")


def team_of(user) -> QuerySet[Person]:
    """The people whose hand-offs this user decides: a manager's team, not themselves."""
    if "manager" not in roles_of(user):
        return Person.objects.none()
    me = person_for_user(user)
    if me is None:  # a superuser without a person: the team of nobody in particular
        return Person.objects.all() if user.is_superuser else Person.objects.none()
    return visible_people(user).exclude(id=me.id)


@dataclass(frozen=True)
class QuotaMove:
    """An approved hand-off, listed beside the AE's quota of the quarter it happened in."""

    handoff: Handoff
    quarter: Quarter
    quota: object  # Decimal or None
    amended: bool  # a quota amendment was recorded after the approval

    @property
    def quota_display(self) -> str:
        return format_money(self.quota)


def quota_moves(handoffs: Iterable[Handoff]) -> list[QuotaMove]:
    """For approved hand-offs: the AE's quota in the quarter of the effective date, and
    whether it was amended since the approval, in two queries."""
    handoffs = [h for h in handoffs if h.status == Handoff.Status.APPROVED]
    if not handoffs:
        return []
    keys = {(h.from_ae_id, str(Quarter.containing(h.effective_date))) for h in handoffs}
    condition = Q()
    for person_id, quarter in keys:
        condition |= Q(person_id=person_id, quarter=quarter)
    plans = {(p.person_id, p.quarter): p for p in PersonPlan.objects.filter(condition)}
    amended_at: dict[int, list[datetime.datetime]] = {}
    for plan_id, at in QuotaAmendment.objects.filter(
        person_plan__in=list(plans.values())
    ).values_list("person_plan_id", "amended_at"):
        amended_at.setdefault(plan_id, []).append(at)
    moves = []
    for h in handoffs:
        quarter = Quarter.containing(h.effective_date)
        plan = plans.get((h.from_ae_id, str(quarter)))
        amended = plan is not None and any(
            at >= h.decided_at for at in amended_at.get(plan.id, ())
        )
        moves.append(QuotaMove(h, quarter, plan.quota if plan else None, amended))
    return moves


def approved_moves(user, since: datetime.date) -> list[QuotaMove]:
    """Hand-offs approved for this manager's AEs whose effective date is on or after
    `since` (the quarter's start, usually): the moves to amend quotas for."""
    rows = (
        Handoff.objects.filter(
            status=Handoff.Status.APPROVED,
            from_ae__in=team_of(user),
            effective_date__gte=since,
        )
        .select_related("account", "from_ae", "to_csm", "decided_by")
        .order_by("effective_date", "id")
    )
    return quota_moves(rows)


def last_sent_back(account: Account, ae: Person) -> Handoff | None:
    """The AE's latest hand-off of the account that was sent back (to start again from it)."""
    return (
        Handoff.objects.filter(account=account, from_ae=ae, status=Handoff.Status.SENT_BACK)
        .order_by("-decided_at", "-id")
        .first()
    )


# --- writes ------------------------------------------------------------------------------


def _handoff_json(handoff: Handoff) -> dict:
    return {
        "account": handoff.account.external_id,
        "from_ae": handoff.from_ae.email,
        "to_csm": handoff.to_csm.email,
        "effective_date": handoff.effective_date.isoformat(),
        "status": handoff.status,
        "manager_comment": handoff.manager_comment,
    }


def _ae_assignment_of(ae: Person, account: Account, on: datetime.date) -> Assignment | None:
    return (
        Assignment.objects.filter(in_force(on), account=account, role=Role.AE, owner=ae)
        .order_by("-start_date")
        .first()
    )


def _check_csm(csm: Person, effective_date: datetime.date) -> None:
    if Role.CSM not in csm.roles:
        raise HandoffError(f"{csm.name} is not a CSM; hand the account to a CSM.", "not_csm")
    if csm.start_date > effective_date or (
        csm.end_date is not None and csm.end_date < effective_date
    ):
        raise HandoffError(f"{csm.name} is not employed on {effective_date:%Y-%m-%d}.",
                           "not_employed")


def _clean_contacts(contacts: Iterable[dict]) -> list[dict]:
    rows = []
    for c in contacts:
        user = (c.get("user") or "").strip()
        notes = (c.get("notes") or "").strip()
        contacted = bool(c.get("contacted"))
        if user or notes or contacted:
            rows.append({"user": user, "contacted": contacted, "notes": notes})
    return rows


def handoff_propose(
    *,
    account: Account,
    to_csm: Person,
    effective_date: datetime.date,
    contacts: Iterable[dict],
    other_team_could_use: bool | None,
    other_team_notes: str = "",
    teams_enterprise_would_help: bool | None,
    teams_enterprise_notes: str = "",
    by_user,
) -> Handoff:
    """The AE who owns the account proposes moving it to a CSM from `effective_date`.
    Raises HandoffError, with nothing written, when the proposal is refused. The answers
    are recorded as given: a "no" does not block (the manager decides)."""
    me = person_for_user(by_user)
    if me is None or Role.AE not in me.roles:
        raise HandoffError("Only an AE can propose a hand-off to a CSM.", "not_ae")
    today = timezone.localdate()
    if effective_date < today:
        raise HandoffError("The effective date cannot be in the past.", "past")
    _check_csm(to_csm, effective_date)
    if to_csm.id == me.id:
        raise HandoffError("You cannot hand an account to yourself.", "self")
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        _check_proposable(me, account, today, effective_date)
        handoff = Handoff(
            account=account,
            from_ae=me,
            to_csm=to_csm,
            effective_date=effective_date,
            contacts=_clean_contacts(contacts),
            other_team_could_use=other_team_could_use,
            other_team_notes=other_team_notes.strip(),
            teams_enterprise_would_help=teams_enterprise_would_help,
            teams_enterprise_notes=teams_enterprise_notes.strip(),
            proposed_by=by_user,
        )
        try:
            with transaction.atomic():
                handoff.save()
        except IntegrityError as exc:  # another proposal won the race
            raise HandoffError(
                f"{account.name} already has an open hand-off.", "open"
            ) from exc
        record_change(
            model="Handoff",
            key=f"{account.external_id}/{handoff.id}",
            before={},
            after=_handoff_json(handoff),
            source="handoff_propose",
            changed_by=by_user,
        )
    return handoff


def _check_proposable(me: Person, account: Account, today: datetime.date,
                      effective_date: datetime.date) -> None:
    """Refuse a hand-off of an account this AE does not hold on the day, that is already
    being handed off, or that already has a CSM then."""
    held = _ae_assignment_of(me, account, today)
    if held is None:
        raise HandoffError(
            f"You do not own {account.name} as its AE; only its AE can hand it off.",
            "not_owner",
        )
    if held.end_date is not None and held.end_date < effective_date:
        raise HandoffError(
            f"Your assignment of {account.name} already ends on {held.end_date:%Y-%m-%d}.",
            "ends",
        )
    if effective_date <= held.start_date:
        raise HandoffError(
            f"The effective date must be after your assignment started "
            f"({held.start_date:%Y-%m-%d}).",
            "before_start",
        )
    open_one = (
        Handoff.objects.filter(account=account, status=Handoff.Status.PROPOSED)
        .select_related("from_ae")
        .first()
    )
    if open_one is not None:
        raise HandoffError(_open_message(account, open_one), "open")
    csm = (
        Assignment.objects.filter(account=account, role=Role.CSM)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=effective_date))
        .select_related("owner")
        .first()
    )
    if csm is not None:
        raise HandoffError(
            f"{account.name} already has a CSM ({csm.owner.name} from "
            f"{csm.start_date:%Y-%m-%d}); ask a manager to reassign it instead.",
            "has_csm",
        )


def _open_message(account: Account, handoff: Handoff) -> str:
    return (
        f"{account.name} already has an open hand-off (proposed by {handoff.from_ae.name} on "
        f"{timezone.localtime(handoff.proposed_at):%Y-%m-%d}); wait for the manager's decision."
    )


def _check_decider(by_user, handoff: Handoff) -> None:
    """Who decides: a manager of the AE (not the AE themselves)."""
    if "manager" not in roles_of(by_user):
        raise HandoffError("Only the AE's manager can approve or send back a hand-off.",
                           "not_manager")
    me = person_for_user(by_user)
    if me is not None and me.id == handoff.from_ae_id:
        raise HandoffError("You cannot decide your own hand-off; ask your manager.", "self")
    if not team_of(by_user).filter(id=handoff.from_ae_id).exists():
        raise HandoffError(
            f"{handoff.from_ae.name} is not in your team: only their manager can decide.",
            "not_team",
        )


def _claim(handoff: Handoff) -> Handoff:
    """Lock the hand-off; refuse one already decided."""
    locked = Handoff.objects.select_for_update().get(pk=handoff.pk)
    if locked.status != Handoff.Status.PROPOSED:
        raise HandoffError(
            f"This hand-off was already {locked.get_status_display().lower()}.", "decided"
        )
    return locked


def _ae_ending(locked: Handoff, ae_rows, day_before: datetime.date) -> Assignment:
    """The proposing AE's assignment that the hand-off ends the day before its effective
    date; refused when they do not hold it then or it ends later."""
    account = locked.account
    ae = next(
        (
            a
            for a in ae_rows
            if a.owner_id == locked.from_ae_id
            and a.start_date <= day_before <= (a.end_date or day_before)
        ),
        None,
    )
    if ae is None:
        raise HandoffError(
            f"{locked.from_ae.name} does not own {account.name} as AE on "
            f"{day_before:%Y-%m-%d}; send the hand-off back.",
            "not_owner",
        )
    if ae.end_date is not None and ae.end_date > day_before:
        raise HandoffError(
            f"{locked.from_ae.name}'s assignment ends on {ae.end_date:%Y-%m-%d}, after the "
            "effective date; send the hand-off back.",
            "ends_later",
        )
    return ae


def handoff_approve(*, handoff: Handoff, by_user, comment: str = "") -> Assignment:
    """Approve: the AE assignment ends the day before the effective date and the CSM's
    starts that day, inherited; the hand-off is marked approved. One transaction: either
    all of it is written or nothing. Returns the CSM's assignment."""
    _check_decider(by_user, handoff)
    with transaction.atomic():
        locked = _claim(handoff)
        account = locked.account
        effective = locked.effective_date
        _check_csm(locked.to_csm, effective)
        ae_rows = _lock(account, Role.AE)
        _lock(account, Role.CSM)
        day_before = effective - datetime.timedelta(days=1)
        ae = _ae_ending(locked, ae_rows, day_before)
        before_ae = _assignment_json(ae)
        ae.end_date = day_before
        ae.save(update_fields=["end_date"])
        csm = Assignment(
            account=account,
            owner=locked.to_csm,
            role=Role.CSM,
            start_date=effective,
            inherited=True,
            reason=f"Hand-off from {locked.from_ae.name} (AE), hand-off #{locked.id}",
            created_by=by_user,
        )
        _insert(csm)
        before = _handoff_json(locked)
        locked.status = Handoff.Status.APPROVED
        locked.manager_comment = comment.strip()
        locked.decided_by = by_user
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "manager_comment", "decided_by", "decided_at"])
        source = f"handoff #{locked.id}"
        record_changes(
            [
                row_change(
                    model="Assignment",
                    key=f"{account.external_id}/{AssignmentRole.AE}",
                    before={"assignments": [before_ae]},
                    after={"assignments": [_assignment_json(ae)]},
                    source=source,
                    changed_by=by_user,
                ),
                row_change(
                    model="Assignment",
                    key=f"{account.external_id}/{AssignmentRole.CSM}",
                    before={"assignments": []},
                    after={"assignments": [_assignment_json(csm)]},
                    source=source,
                    changed_by=by_user,
                ),
                row_change(
                    model="Handoff",
                    key=f"{account.external_id}/{locked.id}",
                    before=before,
                    after=_handoff_json(locked),
                    source="handoff_approve",
                    changed_by=by_user,
                ),
            ]
        )
        # The AE's and the CSM's figures from the effective date, once this commits.
        days = (effective, datetime.date.max)
        refresh_on_commit(Change(
            cause=f"hand-off #{locked.id} approved: {account.external_id} from "
                  f"{locked.from_ae.name} (AE) to {locked.to_csm.name} (CSM) from {effective}",
            people={locked.from_ae_id: days, locked.to_csm_id: days},
        ))
    handoff.refresh_from_db()
    return csm


def handoff_send_back(*, handoff: Handoff, by_user, comment: str) -> Handoff:
    """Send the proposal back to the AE with a comment (required): nothing moves. The AE
    may propose again."""
    _check_decider(by_user, handoff)
    if not comment.strip():
        raise HandoffError("Say why the hand-off goes back to the AE.", "comment")
    with transaction.atomic():
        locked = _claim(handoff)
        before = _handoff_json(locked)
        locked.status = Handoff.Status.SENT_BACK
        locked.manager_comment = comment.strip()
        locked.decided_by = by_user
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "manager_comment", "decided_by", "decided_at"])
        record_change(
            model="Handoff",
            key=f"{locked.account.external_id}/{locked.id}",
            before=before,
            after=_handoff_json(locked),
            source="handoff_send_back",
            changed_by=by_user,
        )
    handoff.refresh_from_db()
    return handoff
