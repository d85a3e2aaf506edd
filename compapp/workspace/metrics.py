"""RevOps metrics (SPEC 1 and 8), for everyone: revenue from the $20k+ segment, closed-won
rate from demo, median time to close, lead volume per segment and the weighted pipeline,
each over the last four quarters and optionally for one segment.

Every figure is aggregated in SQL, in a fixed number of queries whatever the amount of
data; revenue comes from `accounts.revenue.monthly_revenue` (the one definition of it).
Figures are as of a day: deals closed, leads created and invoices issued after it have
not happened yet, and the current quarter counts up to that day only ("to date").
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    F,
    Func,
    IntegerField,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncQuarter

from accounts.models import OPEN_STAGES, Account, Deal, DealStage, Lead
from accounts.money import ZERO_CENTS
from accounts.quarters import Quarter
from accounts.revenue import monthly_revenue

TOP_SEGMENT = "20k+"  # "revenue from the $20k+ segment" (SPEC 8)
QUARTERS_SHOWN = 4
CLOSED_STAGES = (DealStage.WON, DealStage.LOST)
NO_SEGMENT = "(no segment)"
MONEY_FIELD = DecimalField(max_digits=20, decimal_places=2)


class Median(Aggregate):
    """PostgreSQL's continuous median of a numeric expression."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DecimalField(max_digits=12, decimal_places=2)
    allow_distinct = False

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, **extra_context)
        return f"CAST({sql} AS numeric)", params


class DaysBetween(Func):
    """`later - earlier` of two dates, in days (PostgreSQL's date subtraction)."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()

    def __init__(self, later, earlier):
        super().__init__(F(later), F(earlier))


def metric_quarters(as_of: datetime.date, count: int = QUARTERS_SHOWN) -> list[Quarter]:
    """The quarter of `as_of` and the `count - 1` before it, oldest first."""
    quarters = [Quarter.containing(as_of)]
    while len(quarters) < count:
        quarters.insert(0, quarters[0].previous())
    return quarters


def quarter_day(quarter: Quarter, as_of: datetime.date) -> datetime.date:
    """The last day of a quarter that has happened by `as_of`."""
    return min(quarter.end, as_of)


def segments() -> list[str]:
    """Every segment label in use by an account or a lead, sorted (one query)."""
    labels = (
        Account.objects.exclude(segment="").values_list("segment", flat=True)
        .union(Lead.objects.exclude(segment="").values_list("segment", flat=True))
    )
    return sorted(set(labels))


# --- the figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarterRevenue:
    quarter: Quarter
    revenue: Decimal
    to_date: bool  # the quarter had not ended on the as-of day


def segment_revenue(
    segment: str, quarters: Sequence[Quarter], as_of: datetime.date
) -> list[QuarterRevenue]:
    """Revenue of the accounts whose segment is `segment` (today's label), by quarter: the
    sum of their monthly revenue (SPEC 3) over the quarter's months up to `as_of`."""
    ids = list(Account.objects.filter(segment=segment).values_list("id", flat=True))
    last_month = min(quarters[-1].end, as_of).replace(day=1)
    revenue = monthly_revenue(
        ids, quarters[0].start, last_month, as_of=as_of, with_invoices=False
    )
    by_quarter: dict[Quarter, Decimal] = defaultdict(lambda: ZERO_CENTS)
    for (_account_id, month), month_revenue in revenue.items():
        by_quarter[Quarter.containing(month)] += month_revenue.amount
    return [QuarterRevenue(q, by_quarter[q], as_of < q.end) for q in quarters]


@dataclass(frozen=True)
class QuarterDeals:
    quarter: Quarter
    won: int  # deals with a demo, won in the quarter
    lost: int  # deals with a demo, lost in the quarter
    median_days: Decimal | None  # median days from created to closed of the won deals
    won_counted: int  # won deals (with or without a demo) behind the median
    to_date: bool

    @property
    def decided(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> Decimal | None:
        """Deals won / deals won or lost, among deals that had a demo."""
        return Decimal(self.won) / Decimal(self.decided) if self.decided else None


def _deals(segment: str | None):
    deals = Deal.objects.all()
    return deals.filter(account__segment=segment) if segment else deals


def closed_deals(
    quarters: Sequence[Quarter], as_of: datetime.date, segment: str | None = None
) -> list[QuarterDeals]:
    """Closed-won rate from demo and median time to close, by the quarter of `closed_on`
    (two queries)."""
    closed = _deals(segment).filter(
        closed_on__gte=quarters[0].start, closed_on__lte=min(quarters[-1].end, as_of)
    )
    rates = {
        row["quarter"]: row
        for row in closed.filter(demo_on__isnull=False, stage__in=CLOSED_STAGES)
        .annotate(quarter=TruncQuarter("closed_on"))
        .values("quarter")
        .annotate(
            won=Count("id", filter=Q(stage=DealStage.WON)),
            lost=Count("id", filter=Q(stage=DealStage.LOST)),
        )
    }
    medians = {
        row["quarter"]: row
        for row in closed.filter(stage=DealStage.WON, created_on__lte=F("closed_on"))
        .annotate(quarter=TruncQuarter("closed_on"))
        .values("quarter")
        .annotate(median=Median(DaysBetween("closed_on", "created_on")), count=Count("id"))
    }
    result = []
    for q in quarters:
        rate, median = rates.get(q.start, {}), medians.get(q.start, {})
        result.append(
            QuarterDeals(
                quarter=q,
                won=rate.get("won", 0),
                lost=rate.get("lost", 0),
                median_days=median.get("median"),
                won_counted=median.get("count", 0),
                to_date=as_of < q.end,
            )
        )
    return result


@dataclass(frozen=True)
class LeadVolume:
    quarters: list[Quarter]
    rows: list[tuple[str, list[int]]]  # (segment, leads created in each quarter)

    @property
    def totals(self) -> list[int]:
        return [sum(counts[i] for _segment, counts in self.rows) for i in range(len(self.quarters))]


def lead_volume(
    quarters: Sequence[Quarter], as_of: datetime.date, segment: str | None = None
) -> LeadVolume:
    """Leads created per segment and quarter of `created_on` (one query)."""
    leads = Lead.objects.filter(
        created_on__gte=quarters[0].start, created_on__lte=min(quarters[-1].end, as_of)
    )
    if segment:
        leads = leads.filter(segment=segment)
    counts: dict[str, dict[datetime.date, int]] = defaultdict(dict)
    for row in (
        leads.annotate(quarter=TruncQuarter("created_on"))
        .values("segment", "quarter")
        .annotate(count=Count("id"))
    ):
        counts[row["segment"] or NO_SEGMENT][row["quarter"]] = row["count"]
    rows = [
        (label, [counts[label].get(q.start, 0) for q in quarters]) for label in sorted(counts)
    ]
    return LeadVolume(list(quarters), rows)


def open_on(day: datetime.date) -> Q:
    """Deals open on a day: created by then, and still open (an open deal's `closed_on` is
    its expected close date) or won or lost after that day."""
    return Q(created_on__lte=day) & (
        Q(stage__in=OPEN_STAGES) | Q(stage__in=CLOSED_STAGES, closed_on__gt=day)
    )


WEIGHTED = F("arr") * Coalesce(F("probability"), Value(Decimal(0)))  # no probability: 0


@dataclass
class PipelineRow:
    owner_id: int
    owner: str
    by_stage: dict[str, Decimal] = field(default_factory=dict)  # stage -> weighted ARR
    deals: int = 0
    arr: Decimal = ZERO_CENTS

    @property
    def weighted(self) -> Decimal:
        return sum(self.by_stage.values(), ZERO_CENTS)


@dataclass(frozen=True)
class Pipeline:
    as_of: datetime.date
    trend: list[tuple[Quarter, datetime.date, Decimal]]  # weighted pipeline on each day
    rows: list[PipelineRow]  # on the as-of day, by owner (largest first)
    stages: list[str]  # the stage columns that have deals

    @property
    def total(self) -> Decimal:
        return sum((row.weighted for row in self.rows), ZERO_CENTS)

    def stage_total(self, stage: str) -> Decimal:
        return sum((row.by_stage.get(stage, ZERO_CENTS) for row in self.rows), ZERO_CENTS)


CLOSED_LATER = "closed_later"  # won or lost after the as-of day: open on it


def weighted_pipeline(
    quarters: Sequence[Quarter], as_of: datetime.date, segment: str | None = None
) -> Pipeline:
    """Sum of ARR x probability over open deals (stage lead, demo or proposal): on the last
    day of each quarter (one query), and on the as-of day by owner and stage (one query).

    A past day's pipeline is the deals open on it, at the probability the CRM holds now
    (it keeps no history of probabilities); a deal won or lost after the as-of day is shown
    in its own column, as its stage on that day is not known.
    """
    deals = _deals(segment)
    days = [(q, quarter_day(q, as_of)) for q in quarters]
    sums = deals.aggregate(
        **{
            f"q{i}": Coalesce(
                Sum(WEIGHTED, filter=open_on(day), output_field=MONEY_FIELD),
                Value(ZERO_CENTS),
                output_field=MONEY_FIELD,
            )
            for i, (_q, day) in enumerate(days)
        }
    )
    trend = [(q, day, sums[f"q{i}"]) for i, (q, day) in enumerate(days)]

    rows: dict[int, PipelineRow] = {}
    for row in (
        deals.filter(open_on(as_of))
        .values("owner_id", "owner__name", "stage")
        .annotate(
            weighted=Sum(WEIGHTED, output_field=MONEY_FIELD),
            arr=Sum("arr"),
            deals=Count("id"),
        )
    ):
        line = rows.setdefault(row["owner_id"], PipelineRow(row["owner_id"], row["owner__name"]))
        stage = row["stage"] if row["stage"] in OPEN_STAGES else CLOSED_LATER
        line.by_stage[stage] = line.by_stage.get(stage, ZERO_CENTS) + row["weighted"]
        line.deals += row["deals"]
        line.arr += row["arr"]
    used = {stage for line in rows.values() for stage in line.by_stage}
    stages = [str(s) for s in OPEN_STAGES if s in used] or [str(s) for s in OPEN_STAGES]
    if CLOSED_LATER in used:
        stages.append(CLOSED_LATER)
    ordered = sorted(rows.values(), key=lambda r: (-r.weighted, r.owner.lower(), r.owner_id))
    return Pipeline(as_of, trend, ordered, stages)


@dataclass(frozen=True)
class Metrics:
    as_of: datetime.date
    segment: str | None  # None: every segment
    quarters: list[Quarter]
    revenue_segment: str  # the segment whose revenue is shown: the chosen one, else 20k+
    revenue: list[QuarterRevenue]
    deals: list[QuarterDeals]
    leads: LeadVolume
    pipeline: Pipeline


def metrics_for(as_of: datetime.date, segment: str | None = None) -> Metrics:
    """Every metric of the page, in a fixed number of queries (seven)."""
    quarters = metric_quarters(as_of)
    revenue_segment = segment or TOP_SEGMENT
    return Metrics(
        as_of=as_of,
        segment=segment or None,
        quarters=quarters,
        revenue_segment=revenue_segment,
        revenue=segment_revenue(revenue_segment, quarters, as_of),
        deals=closed_deals(quarters, as_of, segment),
        leads=lead_volume(quarters, as_of, segment),
        pipeline=weighted_pipeline(quarters, as_of, segment),
    )
