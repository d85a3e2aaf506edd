"""The metrics page (SPEC 8), for everyone signed in: revenue from the $20k+ segment,
closed-won rate from demo, median time to close, lead volume per segment and the weighted
pipeline, over the last four quarters, for every segment or one."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import django_tables2 as tables
from django.shortcuts import render
from django.utils import timezone

from accounts.display.charts import chart, series
from accounts.display.tables import TEMPLATE, configure
from accounts.forms import MetricsFilterForm
from accounts.models import DealStage
from accounts.money import ZERO_CENTS, format_money, format_percent
from accounts.permissions import person_for_user, sees_everyone, visible_people
from accounts.tables import NUM, PipelineTable
from compapp.workspace import metrics

PIPELINE_PAGE_SIZE = 25
STAGE_LABELS = {
    **{str(value): label for value, label in DealStage.choices},
    metrics.CLOSED_LATER: "Won or lost later",
}




def format_days(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP).normalize():f} days"


class LeadVolumeTable(tables.Table):
    """Leads created per segment (rows) and quarter (a column each)."""

    segment = tables.Column(verbose_name="Segment")

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "leads trend"}
        empty_text = "No leads created in these quarters."

    def __init__(self, volume: metrics.LeadVolume, labels: list[str], **kwargs):
        rows = [
            {"segment": segment, **{f"q{i}": n for i, n in enumerate(counts)},
             "total": sum(counts)}
            for segment, counts in volume.rows
        ]
        extra = [(f"q{i}", tables.Column(verbose_name=label, attrs=NUM))
                 for i, label in enumerate(labels)]
        extra.append(("total", tables.Column(verbose_name="Four quarters", attrs=NUM)))
        super().__init__(rows, extra_columns=extra, **kwargs)


def _as_of(form: MetricsFilterForm) -> tuple[datetime.date, str | None]:
    if form.is_valid():
        return form.cleaned_data["on"] or timezone.localdate(), form.cleaned_data["segment"] or None
    return timezone.localdate(), None


def _linked_owners(user) -> frozenset | None:
    """Owners whose book this user may open (None: everyone's)."""
    if sees_everyone(user):
        return None
    if person_for_user(user) is None:
        return frozenset()
    return frozenset(visible_people(user).values_list("id", flat=True))


def _change(values: list, to_date: list[bool], show) -> str:
    """The latest complete quarter against the one before it."""
    complete = [i for i, partial in enumerate(to_date) if not partial]
    if len(complete) < 2:
        return "—"
    before, last = values[complete[-2]], values[complete[-1]]
    if before is None or last is None:
        return "—"
    delta = last - before
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    return f"{sign}{show(abs(delta))}"


@dataclass(frozen=True)
class _Series:
    """The figures per quarter that the trend table and the charts both show."""

    revenue: list
    rates: list
    medians: list
    pipeline: list

    @classmethod
    def of(cls, m) -> _Series:
        return cls(revenue=[q.revenue for q in m.revenue], rates=[d.win_rate for d in m.deals],
                   medians=[d.median_days for d in m.deals],
                   pipeline=[value for _q, _day, value in m.pipeline.trend])


def _trend(m, f: _Series, to_date: list[bool]) -> tuple[list[dict], list[str]]:
    """The trend table's rows (a figure per quarter, with the change over the last complete
    quarter) and the complete quarters."""
    revenue, rates, medians, pipeline = f.revenue, f.rates, f.medians, f.pipeline
    leads = m.leads.totals
    count = str
    trend = [
        {"name": f"Revenue from the {m.revenue_segment} segment", "key": "revenue",
         "values": [format_money(v) for v in revenue],
         "change": _change(revenue, to_date, format_money)},
        {"name": "Closed-won rate from demo", "key": "win-rate",
         "values": [format_percent(v, 1) for v in rates],
         "notes": [f"{d.won} won / {d.decided}" for d in m.deals],
         "change": _change(rates, to_date, lambda v: format_percent(v, 1).replace("%", " pts"))},
        {"name": "Median time to close", "key": "time-to-close",
         "values": [format_days(v) for v in medians],
         "notes": [f"{d.won_counted} won" for d in m.deals],
         "change": _change(medians, to_date, format_days)},
        {"name": "Leads created", "key": "leads", "values": [count(v) for v in leads],
         "change": _change(leads, to_date, count)},
        {"name": "Weighted pipeline (on the quarter's last day)", "key": "pipeline",
         "values": [format_money(v) for v in pipeline],
         "change": _change(pipeline, to_date, format_money)},
    ]
    for row in trend:
        row["cells"] = list(zip(row["values"], row.get("notes") or [""] * len(row["values"]),
                                strict=True))
    complete = [str(q) for q, partial in zip(m.quarters, to_date, strict=True) if not partial]
    return trend, complete


def _charts(m, f: _Series, short: list[str], to_date: list[bool], owners) -> dict:
    """The page's charts, from the figures the trend table shows."""
    revenue, rates, medians, pipeline = f.revenue, f.rates, f.medians, f.pipeline
    stage_tones = {"lead": 6, "demo": 1, "proposal": 0, metrics.CLOSED_LATER: "muted"}
    return {
        "revenue": chart("bar", short, [series(
            f"Revenue from the {m.revenue_segment} segment", revenue,
            points=["muted" if p else "accent" for p in to_date])],
            y="money", legend=False),
        "win_rate": chart("line", short, [series("Closed-won rate from demo", rates, tone=1)],
                          y="percent", legend=False),
        "time_to_close": chart("bar", short, [series("Median days to close", medians, tone=3)],
                               y="days", legend=False),
        "leads": chart("bar", short, [
            series(segment_label, counts, tone=i, stack="leads")
            for i, (segment_label, counts) in enumerate(m.leads.rows)], stacked=True),
        "pipeline_trend": chart("line", short, [
            series("Weighted pipeline", pipeline, tone=0)], y="money", legend=False),
        "pipeline_owners": chart("bar", [r.owner for r in owners], [
            series(STAGE_LABELS[stage], [r.by_stage.get(stage, ZERO_CENTS) for r in owners],
                   tone=stage_tones.get(stage, 0), stack="pipeline")
            for stage in m.pipeline.stages], y="money", stacked=True, horizontal=True),
    }


def metrics_page(request):
    form = MetricsFilterForm(request.GET or None, segments=metrics.segments())
    on, segment = _as_of(form)
    m = metrics.metrics_for(on, segment)
    to_date = [q.to_date for q in m.revenue]
    labels = [f"{q}{' (to date)' if partial else ''}" for q, partial in zip(
        m.quarters, to_date, strict=True)]
    short = [str(q) for q in m.quarters]

    linked = _linked_owners(request.user)
    pipeline_table = PipelineTable(
        m.pipeline.rows, stages=m.pipeline.stages, stage_labels=STAGE_LABELS,
        linked=frozenset(r.owner_id for r in m.pipeline.rows) if linked is None else linked,
        prefix="pipe-",
    )
    leads_table = LeadVolumeTable(m.leads, labels, prefix="leads-")
    for table, name in ((pipeline_table, "pipeline"), (leads_table, "leads")):
        export = configure(request, table, filename=f"metrics-{name}-{on}",
                           per_page=PIPELINE_PAGE_SIZE)
        if export is not None:
            return export

    series_of = _Series.of(m)
    trend, complete = _trend(m, series_of, to_date)
    owners = m.pipeline.rows[:15]  # the chart shows the largest; the table has everyone
    charts = _charts(m, series_of, short, to_date, owners)
    context = {
        "form": form,
        "m": m,
        "on": on,
        "labels": labels,
        "trend": trend,
        "complete": complete[-2:],
        "charts": charts,
        "pipeline_table": pipeline_table,
        "pipeline_total": format_money(m.pipeline.total),
        "leads_table": leads_table,
        "owners_charted": len(owners),
        "owners_total": len(m.pipeline.rows),
    }
    return render(request, "accounts/metrics.html", context)
