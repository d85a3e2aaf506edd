"""The monthly book balance (SPEC 8): every book against its cap or target, at risk and in
grace, and the moves that would even them out."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from accounts.models import (
    BOOK_ROLES,
    Account,
    Assignment,
    Role,
)
from accounts.money import ZERO_CENTS
from accounts.revenue import run_rate_arr
from accounts.risk import at_risk_reasons, risk_inputs
from accounts.selectors import TeamRow, format_money, in_force, team_rows
from payouts.selectors import grace_months_of, grace_window


@dataclass(frozen=True)
class BalanceAccount:
    account_id: int
    name: str
    arr: Decimal
    at_risk: bool
    in_grace_until: datetime.date | None

    @property
    def arr_display(self) -> str:
        return format_money(self.arr)


@dataclass(frozen=True)
class BalanceRow:
    row: TeamRow  # size against the cap or target, book ARR
    at_risk: int
    in_grace: int
    excess: int  # accounts over the cap (AE), the usual range (CSM) or the target
    room: int  # accounts under the target (AE: about 10; CSM and onboarding: the target)
    accounts: Sequence[BalanceAccount]  # current book in this role, smallest ARR first

    @property
    def arr_display(self) -> str:
        return format_money(self.row.arr)

    @property
    def over(self) -> bool:
        return self.excess > 0

    @property
    def under(self) -> bool:
        return self.room > 0


@dataclass(frozen=True)
class Suggestion:
    """Move `count` accounts of `source` (over-full) to `target` (under-full, same role);
    no target when nobody of the role has room."""

    source: BalanceRow
    target: BalanceRow | None
    count: int


def _excess(row: TeamRow) -> int:
    # AE: over the hard cap; CSM: above the usual range (30 to 50); onboarding: above target.
    if row.role == Role.CSM:
        return max(0, row.size - getattr(settings, "CSM_BOOK_MAX", 50))
    return max(0, row.size - row.limit)


def _room(row: TeamRow) -> int:
    if row.role == Role.AE:
        return max(0, getattr(settings, "AE_BOOK_TARGET", 10) - row.size)
    return max(0, row.limit - row.size)


def balance_rows(user, on: datetime.date) -> list[BalanceRow]:
    """Every book of the people this user may see with its at-risk and in-grace counts, in
    a fixed number of queries whatever the team's size."""
    rows = team_rows(user, on)
    holdings = list(
        Assignment.objects.filter(in_force(on), owner_id__in={r.person_id for r in rows})
        .filter(role__in=[r.value for r in BOOK_ROLES])
        .values_list("owner_id", "role", "account_id", "start_date", "inherited")
    )
    accounts = Account.objects.in_bulk({h[2] for h in holdings})
    since: dict[int, datetime.date] = {}
    for _owner, _role, account_id, start, _inherited in holdings:
        since[account_id] = max(since.get(account_id, start), start)
    inputs = risk_inputs(accounts.values(), on, since=since)
    risky = {i for i, a in accounts.items() if at_risk_reasons(a, on, inputs)}
    arr = run_rate_arr(list(accounts), on)
    grace = grace_months_of({r.person_id for r in rows}, on)
    books: dict[tuple[int, str], list[BalanceAccount]] = {}
    for owner_id, role, account_id, start, inherited in holdings:
        books.setdefault((owner_id, role), []).append(
            BalanceAccount(
                account_id=account_id,
                name=accounts[account_id].name,
                arr=arr.get(account_id, ZERO_CENTS),
                at_risk=account_id in risky,
                in_grace_until=grace_window(start, inherited, grace.get(owner_id), on),
            )
        )
    result = []
    for row in rows:
        book = sorted(books.get((row.person_id, row.role), []), key=lambda a: (a.arr, a.name))
        result.append(
            BalanceRow(
                row=row,
                at_risk=sum(1 for a in book if a.at_risk),
                in_grace=sum(1 for a in book if a.in_grace_until),
                excess=_excess(row),
                room=_room(row),
                accounts=book,
            )
        )
    return result


def balance_suggestions(rows: Sequence[BalanceRow]) -> list[Suggestion]:
    """Pair each over-full book with under-full ones of the same role, the fullest with the
    emptiest first, moving as many accounts as one has too many and the other room for."""
    suggestions = []
    for role in BOOK_ROLES:
        overs = sorted((r for r in rows if r.row.role == role and r.over),
                       key=lambda r: (-r.excess, r.row.name))
        unders = sorted((r for r in rows if r.row.role == role and r.under),
                        key=lambda r: (-r.room, r.row.name))
        room = {id(r): r.room for r in unders}
        for over in overs:
            left = over.excess
            for under in unders:
                if left <= 0:
                    break
                if under.row.person_id == over.row.person_id or room[id(under)] <= 0:
                    continue
                count = min(left, room[id(under)])
                suggestions.append(Suggestion(over, under, count))
                room[id(under)] -= count
                left -= count
            if left > 0:
                suggestions.append(Suggestion(over, None, left))
    return suggestions
