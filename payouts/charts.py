"""Charts of the payouts pages, from stored snapshots only (nothing is recomputed):

- a person's quarter as it was computed day after day (`attainment_over_quarter`), each
  as-of day's latest figure, projected ones marked, against the quarterly target pay;
- a team's attainment distribution (`team_distribution`): how many people the latest
  figures of the quarter put in each band of their target pay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from accounts.display.charts import chart, series
from accounts.money import ZERO
from accounts.quarters import Quarter
from payouts.models import AttainmentSnapshot
from payouts.selectors import latest_snapshots

BAND = Decimal("0.25")  # the distribution's bands: 25% of target pay wide
TOP_BAND = Decimal("1.5")  # ... up to 150% and more


@dataclass(frozen=True)
class QuarterPoint:
    as_of: str
    amount: Decimal
    final: bool


def attainment_over_quarter(person_id: int, quarter: Quarter) -> list[QuarterPoint]:
    """Each as-of day of the quarter's snapshots, with the latest figure computed for it
    (one query), oldest first."""
    rows = (
        AttainmentSnapshot.objects.filter(person_id=person_id, quarter=str(quarter))
        .order_by("as_of", "-computed_at", "-id")
        .distinct("as_of")
        .values("as_of", "amount", "final")
    )
    return [QuarterPoint(r["as_of"].isoformat(), r["amount"], r["final"]) for r in rows]


def attainment_chart(
    points: list[QuarterPoint], target_pay: Decimal | None, quarter: Quarter
) -> dict | None:
    """The amount as of each day it was computed: projected points (amber diamonds), final
    ones (green dots); the axis runs from the quarter's first day to its cutoff."""
    if not points:
        return None
    by_day = {p.as_of: p for p in points}
    days = sorted(set(by_day) | {quarter.start.isoformat(), quarter.end.isoformat(),
                                 quarter.cutoff.isoformat()})
    datasets = [
        series(
            "Bonus or commission as of the day",
            [by_day[d].amount if d in by_day else None for d in days],
            kind="line",
            tone="accent",
            points=[("final" if by_day[d].final else "projected") if d in by_day else "muted"
                    for d in days],
        )
    ]
    if target_pay is not None:
        datasets.append(
            series("Quarterly target pay (100%)", [target_pay] * len(days), kind="line",
                   tone="target", dashed=True)
        )
    return chart("line", days, datasets, y="money", x="days")


@dataclass(frozen=True)
class Band:
    label: str
    people: list[str]


def band_label(index: int) -> str:
    low = BAND * index
    if low >= TOP_BAND:
        return f"{low * 100:.0f}% and more"
    if index == 0:
        return f"under {BAND * 100:.0f}%"
    return f"{low * 100:.0f}% to {(low + BAND) * 100:.0f}%"


def team_distribution(person_ids: Iterable[int], quarter: Quarter) -> list[Band]:
    """People by band of their share of target pay (bonus fraction) in the latest snapshot
    of the quarter (one query). People with no figures yet are left out."""
    bands = int(TOP_BAND / BAND) + 1
    found = [Band(band_label(i), []) for i in range(bands)]
    rows = (
        latest_snapshots(quarter, people=list(person_ids))
        .values_list("person__name", "bonus_fraction")
    )
    for name, fraction in rows:
        index = min(int(max(fraction, ZERO) / BAND), bands - 1)
        found[index].people.append(name)
    return found


def distribution_chart(bands: list[Band]) -> dict | None:
    if not any(band.people for band in bands):
        return None
    return chart(
        "bar",
        [band.label for band in bands],
        [series("People", [len(band.people) for band in bands], tone=0)],
        y="count",
        y_label="people",
        legend=False,
    )
