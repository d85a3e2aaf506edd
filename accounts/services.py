"""Writes about ownership: assigning and reassigning accounts (SPEC 1, 2).

Each change is one transaction that locks the account's assignments of the role, checks
who may do it, writes the effective-dated rows and records a RowChange with the acting
user. The database's exclusion constraint is the last word on overlaps.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.changes import record_change
from accounts.models import (
    BOOK_ROLES,
    Account,
    Assignment,
    AssignmentRole,
    Person,
    Role,
)
from accounts.permissions import person_for_user, roles_of, visible_people
from accounts.quarters import add_months
from accounts.selectors import book_sizes
from accounts.signals import book_changed


class ReassignError(ValidationError):
    """A refused assignment or reassignment; `str()` is the message to show."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message, code=code)

    def __str__(self) -> str:
        return self.message


def _assignment_json(assignment: Assignment) -> dict:
    return {
        "owner": assignment.owner.email,
        "role": assignment.role,
        "start_date": assignment.start_date.isoformat(),
        "end_date": assignment.end_date.isoformat() if assignment.end_date else None,
        "inherited": assignment.inherited,
        "reason": assignment.reason,
        "cap_override_reason": assignment.cap_override_reason,
    }


def _check_actor(by_user, role: str, new_owner: Person, effective_date: datetime.date) -> set[int]:
    """Who may assign: a manager, for people of their team. Returns the team's ids."""
    if role not in {r.value for r in BOOK_ROLES}:
        raise ReassignError(f"{role!r} is not a book role (ae, csm or onboarding).", "role")
    if "manager" not in roles_of(by_user):
        raise ReassignError("Only a manager can assign or reassign accounts.", "not_manager")
    me = person_for_user(by_user)
    if me is not None and me.id == new_owner.id:
        raise ReassignError(
            "You cannot assign an account to yourself; ask your own manager.", "self"
        )
    team = set(visible_people(by_user).values_list("id", flat=True))
    if new_owner.id not in team:
        raise ReassignError(f"{new_owner.name} is not in your team.", "not_team")
    if role not in new_owner.roles:
        raise ReassignError(
            f"{new_owner.name} does not hold the {AssignmentRole(role).label} role.", "owner_role"
        )
    latest = add_months(timezone.localdate(), 3)
    if effective_date > latest:
        raise ReassignError(
            f"The effective date {effective_date:%Y-%m-%d} is more than a quarter ahead: "
            f"choose a day up to {latest:%Y-%m-%d}.", "too_far"
        )
    if new_owner.start_date > effective_date or (
        new_owner.end_date is not None and new_owner.end_date < effective_date
    ):
        raise ReassignError(
            f"{new_owner.name} is not employed on {effective_date:%Y-%m-%d}.", "not_employed"
        )
    return team


def _check_cap(
    role: str, new_owner: Person, effective_date: datetime.date, cap_override_reason: str
) -> None:
    """An AE's accounts + open leads may not pass the cap without a recorded reason."""
    if role != Role.AE or cap_override_reason.strip():
        return
    size = book_sizes([new_owner], effective_date)[new_owner.id].size(Role.AE)
    cap = settings.AE_BOOK_CAP
    if size + 1 > cap:
        raise ReassignError(
            f"{new_owner.name} would hold {size + 1} accounts and open leads on "
            f"{effective_date:%Y-%m-%d}, over the cap of {cap}. Give a cap override reason "
            "to do it anyway.",
            "over_cap",
        )


def _lock(account: Account, role: str) -> list[Assignment]:
    # Lock the account row too, so that two first assignments cannot race either.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    return list(
        Assignment.objects.select_for_update()
        .filter(account=account, role=role)
        .select_related("owner")
        .order_by("start_date")
    )


def _insert(assignment: Assignment) -> None:
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:
        later = (
            Assignment.objects.filter(
                account=assignment.account,
                role=assignment.role,
                start_date__gt=assignment.start_date,
            )
            .select_related("owner")
            .order_by("start_date")
            .first()
        )
        detail = f" ({later.owner.name} from {later.start_date:%Y-%m-%d})" if later else ""
        raise ReassignError(
            f"These dates overlap another {AssignmentRole(assignment.role).label} assignment of "
            f"{assignment.account.name}{detail}.",
            "overlap",
        ) from exc


def account_reassign(
    *,
    account: Account,
    role: str,
    new_owner: Person,
    effective_date: datetime.date,
    reason: str,
    by_user,
    cap_override_reason: str = "",
) -> Assignment:
    """Move an account in a role to a new owner from `effective_date`: the assignment in
    force then ends the day before, the new one starts that day as inherited. Raises
    ReassignError, with nothing written, when the move is refused."""
    team = _check_actor(by_user, role, new_owner, effective_date)
    if not reason.strip():
        raise ReassignError("Give a reason for the reassignment.", "reason")
    with transaction.atomic():
        rows = _lock(account, role)
        # The owner on the effective date; failing that, the open assignment (which then
        # starts after the effective date and is refused below).
        current = next(
            (a for a in rows if a.start_date <= effective_date <= (a.end_date or effective_date)),
            None,
        ) or next((a for a in rows if a.end_date is None), None)
        if current is None:
            raise ReassignError(
                f"{account.name} has no {AssignmentRole(role).label} owner on "
                f"{effective_date:%Y-%m-%d}; assign it instead.",
                "no_owner",
            )
        if current.owner_id not in team:
            raise ReassignError(
                f"{current.owner.name}, the current {AssignmentRole(role).label} owner, is "
                "not in your team.",
                "not_team",
            )
        if current.owner_id == new_owner.id:
            raise ReassignError(
                f"{new_owner.name} already owns {account.name} as {AssignmentRole(role).label}.",
                "same",
            )
        if effective_date <= current.start_date:
            raise ReassignError(
                f"The effective date must be after {current.owner.name}'s assignment started "
                f"({current.start_date:%Y-%m-%d}); on or before it the two would overlap.",
                "before_start",
            )
        _check_cap(role, new_owner, effective_date, cap_override_reason)
        before = [_assignment_json(current)]
        current.end_date = effective_date - datetime.timedelta(days=1)
        current.save(update_fields=["end_date"])
        return _assignment_start(
            account=account, role=role, owner=new_owner, start_date=effective_date,
            inherited=True, reason=reason, cap_override_reason=cap_override_reason,
            by_user=by_user, before=before, ended=[current], source="reassign",
        )


def _assignment_start(*, account, role, owner, start_date, inherited, reason,
                      cap_override_reason, by_user, before, ended, source) -> Assignment:
    """Insert the new assignment and record the change (inside the caller's transaction)."""
    new = Assignment(
        account=account,
        owner=owner,
        role=role,
        start_date=start_date,
        inherited=inherited,
        reason=reason.strip(),
        cap_override_reason=cap_override_reason.strip(),
        created_by=by_user,
    )
    _insert(new)
    record_change(
        model="Assignment",
        key=f"{account.external_id}/{role}",
        before={"assignments": before},
        after={"assignments": [*(_assignment_json(a) for a in ended), _assignment_json(new)]},
        source=source,
        changed_by=by_user,
    )
    # The new owner's book and the former owner's change from the start date on.
    days = (start_date, datetime.date.max)
    what = "reassignment" if ended else "assignment"
    book_changed.send(
        sender=Assignment,
        people={person_id: days for person_id in {owner.id, *(a.owner_id for a in ended)}},
        cause=f"{what} of {account.external_id} ({role}) to {owner.name} from {start_date}",
    )
    return new


def assignment_create(
    *,
    account: Account,
    role: str,
    owner: Person,
    start_date: datetime.date,
    reason: str,
    by_user,
    inherited: bool | None = None,
    cap_override_reason: str = "",
) -> Assignment:
    """Give an account with no owner in a role on `start_date` one, from that day on (open
    ended). Same checks as a reassignment, except that there is no current owner; the
    assignment is inherited unless it is an AE's (data contract's default)."""
    _check_actor(by_user, role, owner, start_date)
    if not reason.strip():
        raise ReassignError("Give a reason for the assignment.", "reason")
    if inherited is None:
        inherited = role != Role.AE
    with transaction.atomic():
        rows = _lock(account, role)
        held = next(
            (a for a in rows if a.start_date <= start_date <= (a.end_date or start_date)), None
        )
        if held is not None:
            raise ReassignError(
                f"{held.owner.name} already owns {account.name} as {AssignmentRole(role).label} on "
                f"{start_date:%Y-%m-%d}; reassign it instead.",
                "has_owner",
            )
        _check_cap(role, owner, start_date, cap_override_reason)
        return _assignment_start(
            account=account, role=role, owner=owner, start_date=start_date,
            inherited=inherited, reason=reason, cap_override_reason=cap_override_reason,
            by_user=by_user, before=[], ended=[], source="assign",
        )
