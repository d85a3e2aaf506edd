"""Change at a glance: how each headline figure of a snapshot moved since the person's
previous computation of the quarter and against their last figures of the quarter before,
and which accounts and deals moved it most (from the two stored explanations).

Read only: the snapshots are already stored; nothing is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accounts.money import ZERO, format_money, format_percent, to_cents
from payouts.tables import to_decimal

# The headline figures, how each is read off a snapshot and how its change is written.
FIGURES = {
    "amount": (lambda s: s.amount, "money"),
    "fraction": (lambda s: s.bonus_fraction, "points"),
    "metric": (lambda s: s.metric, "points"),
    "payable": (lambda s: s.payable, "money"),
}
CAUSES_SHOWN = 3


@dataclass(frozen=True)
class Comparison:
    label: str  # "Since the computation of 2026-11-30 02:00 UTC", "Against 2026Q3 (final)"
    short: str  # "since 2026-11-30 02:00", "vs 2026Q3"
    deltas: dict[str, str]  # figure -> "+$120.00", "-3.20 points", "no change", "" (unknown)
    causes: list[str]  # "Acme Corp +$120.00", the largest moves first

    @property
    def unchanged(self) -> bool:
        return not self.causes and all(d in ("no change", "") for d in self.deltas.values())


def format_points(value: Decimal | None) -> str:
    """A change of a percentage, in percentage points: +3.20 points, -0.50 points."""
    if value is None:
        return ""
    if not value:
        return "no change"
    return format_percent(value, signed=True).removesuffix("%") + " points"


def _delta(kind: str, before, now) -> str:
    if before is None or now is None:
        return ""
    if kind == "money":
        return format_money(now - before, signed=True) if now != before else "no change"
    return format_points(now - before)


def contributions(explanation: dict) -> dict[tuple, tuple[str, Decimal]]:
    """{key: (what it is, contribution to the cent)}: every account line and every deal of
    one stored explanation."""
    found = {}
    for line in explanation.get("accounts", []):
        found[("account", line["account_id"])] = (
            line["name"], to_cents(to_decimal(line["contribution"]) or ZERO))
    for deal in explanation.get("deals", []):
        found[("deal", deal["external_id"])] = (
            f"deal {deal['external_id']} ({deal['account_external_id']})",
            to_cents(to_decimal(deal["commission"]) or ZERO))
    return found


def largest_moves(was: dict, now: dict, *, limit: int = CAUSES_SHOWN) -> list[str]:
    """The entries whose amount moved most between two {key: (name, amount)} maps, biggest
    first, as "Acme Corp +$120.00"; an entry in one map only moved from or to zero."""
    moves = []
    for key in was.keys() | now.keys():
        name = (now.get(key) or was[key])[0]
        change = now.get(key, ("", ZERO))[1] - was.get(key, ("", ZERO))[1]
        if change:
            moves.append((-abs(change), name.lower(), name, change))
    moves.sort()
    return [f"{name} {format_money(change, signed=True)}" for *_, name, change in moves[:limit]]


def compare(snapshot, other, label: str, short: str) -> Comparison:
    deltas = {key: _delta(kind, read(other), read(snapshot))
              for key, (read, kind) in FIGURES.items()}
    return Comparison(label, short, deltas, largest_moves(
        contributions(other.explanation), contributions(snapshot.explanation)))


def at_a_glance(snapshot, *, previous=None, last_quarter=None) -> list[Comparison]:
    """The comparisons the headline shows: since the previous computation of the quarter,
    then against the last figures of the quarter before (each only when there is one)."""
    found = []
    if previous is not None:
        when = f"{previous.computed_at:%Y-%m-%d %H:%M}"
        label = f"Since the computation of {when} UTC"
        if getattr(snapshot, "cause", ""):
            label += f" (recomputed after {snapshot.cause})"
        found.append(compare(snapshot, previous, label, f"since {when}"))
    if last_quarter is not None:
        state = "final" if last_quarter.final else f"projected as of {last_quarter.as_of}"
        found.append(compare(snapshot, last_quarter,
                             f"Against {last_quarter.quarter} ({state})",
                             f"vs {last_quarter.quarter}"))
    return found


def by_figure(comparisons: list[Comparison]) -> dict[str, list[tuple[str, str]]]:
    """{figure: [(short label, change)]}: what each headline card prints under its value."""
    return {key: [(c.short, c.deltas[key]) for c in comparisons if c.deltas[key]]
            for key in FIGURES}
