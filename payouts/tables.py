"""How the payouts pages print figures, and their tables.

Rows are plain dicts prepared by the views from a stored snapshot (its explanation and
inputs), so a page shows exactly the figures that were computed. Money is printed from
Decimal only, rounded for display: $1,234.56.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from accounts.display.tables import TEMPLATE
from accounts.money import ZERO, format_money, format_percent
from payouts.rules import to_cents

CENT = Decimal("0.01")
NUM = {"th": {"class": "num"}, "td": {"class": "num"}, "tf": {"class": "num"}}
BUCKET_LABELS = {
    "retention_bonus": "Retention bonus",
    "guarantee": "Guarantee (first months / ramp)",
    "new_annual": "New annual deals",
    "expansion_annual": "Expansion deals",
    "monthly": "Monthly ARR change",
    "monthly_to_annual": "Monthly to annual conversions",
    "floor_at_zero": "Negative total paid as 0",
    "floor_or_cap": "Floor or cap",
    "threshold": "Logo retention threshold",
    "churn": "Churn",
}


def to_decimal(value) -> Decimal | None:
    """A figure read back from a snapshot's JSON (a string) as a Decimal; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, float):  # never expected: the JSON stores Decimals as strings
        raise TypeError("money is never a float")
    return Decimal(str(value)) if not isinstance(value, Decimal) else value




def bucket_label(bucket: str) -> str:
    return BUCKET_LABELS.get(bucket, bucket.replace("_", " "))


def account_url(account_id: int) -> str:
    """The account's page (`/accounts/<id>/`)."""
    try:
        return reverse("account_detail", args=[account_id])
    except NoReverseMatch:  # the accounts pages not installed: the path they live at
        return f"/accounts/{account_id}/"


class MoneyColumn(tables.Column):
    """Money to the cent."""

    def __init__(self, *args, signed=False, **kwargs):
        kwargs.setdefault("attrs", NUM)
        kwargs.setdefault("default", "")
        self.signed = signed
        super().__init__(*args, **kwargs)

    def render(self, value):
        return format_money(value, signed=self.signed)

    def value(self, value):
        """Exports carry the number to the cent (-1234.50), not the display (-$1,234.50)."""
        value = to_decimal(value)
        return "" if value is None else str(to_cents(value))


class TotalColumn(MoneyColumn):
    """Money with a footer that adds the column up as printed: each row to the cent."""

    def render_footer(self, bound_column, table):
        return format_money(sum((to_cents(to_decimal(row[bound_column.accessor]) or ZERO)
                                 for row in table.data), ZERO))


class AccountColumn(tables.Column):
    """The account's name, linking to its page (when the viewer may open it), with its
    external id."""

    def render(self, value, record):
        if not record.get("url"):
            return format_html('{} <span class="muted">{}</span>', value, record["external_id"])
        return format_html('<a href="{}">{}</a> <span class="muted">{}</span>',
                           record["url"], value, record["external_id"])

    def value(self, value, record):
        return f"{value} ({record['external_id']})"


class BaseTable(tables.Table):
    """Rows are dicts in the order the figures explain them; a header click sorts them."""

    class Meta:
        template_name = TEMPLATE


class AccountLineTable(BaseTable):
    """Every account of the figure with its contribution; the footer sums them."""

    name = AccountColumn(verbose_name="Account")
    baseline_arr = MoneyColumn(verbose_name="Baseline ARR", empty_values=())
    run_rate_arr = MoneyColumn(verbose_name="Run rate ARR now")
    end_arr = MoneyColumn(verbose_name="End ARR")
    unpaid = MoneyColumn(verbose_name="Unpaid")
    contribution = TotalColumn(verbose_name="Contribution")
    counted = tables.Column(verbose_name="Counted")
    why = tables.Column(verbose_name="Why", orderable=False)

    class Meta(BaseTable.Meta):
        attrs = {"class": "attainment-accounts"}
        row_attrs = {"data-account": lambda record: record["external_id"]}
        empty_text = "No accounts in this figure."

    def __init__(self, *args, end_label="End ARR", baseline_label="Baseline ARR", **kwargs):
        super().__init__(*args, **kwargs)
        self.columns["end_arr"].column.verbose_name = end_label
        self.columns["baseline_arr"].column.verbose_name = baseline_label

    def value_baseline_arr(self, value, record):
        return "" if value is None else str(to_cents(value))

    def render_baseline_arr(self, value, record):
        months = record["baseline_months"]
        if value is None:
            return format_html('<span class="muted">{}</span>', months) if months else ""
        return format_html('{}<br><span class="muted">{}</span>', format_money(value), months)

    def render_counted(self, value, record):
        text = "yes" if value else "no"
        if record.get("retained") is not None:
            text += ", retained" if record["retained"] else ", not retained"
        return format_html('<span class="{}">{}</span>', "good" if value else "muted", text)


class DealLineTable(BaseTable):
    external_id = tables.Column(verbose_name="Deal")
    account_external_id = tables.Column(verbose_name="Account")
    bucket = tables.Column(verbose_name="Bucket")
    closed_on = tables.Column(verbose_name="Closed")
    arr = MoneyColumn(verbose_name="ARR")
    rate = tables.Column(verbose_name="Rate (of ARR)", attrs=NUM)
    commission = TotalColumn(verbose_name="Commission")
    paid_share = tables.Column(verbose_name="Paid share", attrs=NUM)
    payable = TotalColumn(verbose_name="Payable now")
    why = tables.Column(verbose_name="Why", orderable=False)

    class Meta(BaseTable.Meta):
        attrs = {"class": "attainment-deals"}
        empty_text = "No deal closed in the quarter yet."

    def render_external_id(self, value, record):
        if record.get("url"):
            return format_html('<a href="{}">{}</a>', record["url"], value)
        return value

    def render_bucket(self, value):
        return bucket_label(value)

    def render_rate(self, value):
        """The rate as a share of ARR (13.18%); the export keeps its 6 places."""
        return format_percent(value)

    def value_rate(self, value):
        return f"{to_decimal(value).quantize(Decimal('0.000001'), rounding=ROUND_HALF_UP)}"

    def render_paid_share(self, value):
        return format_percent(value)


class AccountChangeTable(BaseTable):
    """Per account: what moved between two snapshots."""

    name = AccountColumn(verbose_name="Account")
    end_before = MoneyColumn(verbose_name="End ARR before")
    end_now = MoneyColumn(verbose_name="End ARR now")
    end_delta = MoneyColumn(verbose_name="End ARR change", signed=True)
    contribution_before = MoneyColumn(verbose_name="Contribution before")
    contribution_now = MoneyColumn(verbose_name="Contribution now")
    contribution_delta = MoneyColumn(verbose_name="Contribution change", signed=True)
    note = tables.Column(verbose_name="", default="", orderable=False)

    class Meta(BaseTable.Meta):
        attrs = {"class": "attainment-changes"}
        empty_text = "No account's figures changed."


class PreviousQuarterTable(BaseTable):
    quarter = tables.Column(verbose_name="Quarter")
    plan = tables.Column(verbose_name="Plan")
    as_of = tables.Column(verbose_name="As of")
    status = tables.Column(verbose_name="")
    metric = tables.Column(verbose_name="Metric", attrs=NUM)
    bonus_fraction = tables.Column(verbose_name="Share of target pay", attrs=NUM)
    amount = MoneyColumn(verbose_name="Amount")
    payable = MoneyColumn(verbose_name="Payable")

    class Meta(BaseTable.Meta):
        attrs = {"class": "previous-quarters"}
        empty_text = "No figures for earlier quarters."

    def render_quarter(self, value, record):
        return format_html('<a href="{}">{}</a>', record["url"], value)

    def render_metric(self, value):
        return format_percent(value)

    def render_bonus_fraction(self, value):
        return format_percent(value)


class RiskTable(BaseTable):
    name = AccountColumn(verbose_name="Account", accessor="name")
    reasons = tables.Column(verbose_name="Why at risk", orderable=False)
    impact = MoneyColumn(verbose_name="Lost if it churned now")

    class Meta(BaseTable.Meta):
        attrs = {"class": "at-risk"}
        row_attrs = {"data-account": lambda record: record["external_id"]}
        empty_text = "No account of this book is at risk."

    def render_reasons(self, value):
        return format_html('<ul class="reasons">{}</ul>',
                           format_html_join("", "<li>{}</li>", ((r,) for r in value)))

    def value_reasons(self, value):
        return "; ".join(value)


class RecomputeRunTable(BaseTable):
    id = tables.Column(verbose_name="Run")
    quarter = tables.Column(verbose_name="Quarter")
    as_of = tables.DateColumn(verbose_name="As of", format="Y-m-d")
    status = tables.Column(verbose_name="Status")
    progress = tables.Column(verbose_name="Done", accessor="done", attrs=NUM)
    started_by = tables.Column(verbose_name="Started by", default="nightly job or command",
                               order_by=("started_by__username",))
    started_at = tables.DateTimeColumn(verbose_name="Started", format="Y-m-d H:i")
    finished_at = tables.DateTimeColumn(verbose_name="Finished", format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        attrs = {"class": "recompute-runs"}
        empty_text = "No recompute yet."

    def __init__(self, *args, stalled=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.stalled = stalled  # ids of the running runs that lost their worker

    def render_status(self, value, record):
        return "Stalled" if record.id in self.stalled else value

    def render_id(self, value):
        return format_html('<a href="{}">#{}</a>', reverse("recompute_run", args=[value]), value)

    def render_progress(self, value, record):
        return f"{record.done} / {record.total}"

    def render_started_by(self, value):
        return value.get_full_name() or value.username


# ---------------------------------------------------------------------------------------
# The plan's curve: bonus fraction against the plan's metric, with where the person stands.

SVG_WIDTH, SVG_HEIGHT = 560, 190
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 14, 40
PIXEL = Decimal("0.1")


class Curve:
    """The pay curve of a plan as SVG coordinates (Decimal throughout).

    The fraction is max(0, (metric - floor) / (target - floor)), at most `cap` when the plan
    has one: 0 at the floor, 100% at the target.
    """

    width, height = SVG_WIDTH, SVG_HEIGHT
    left, right = PAD_LEFT, SVG_WIDTH - PAD_RIGHT
    label_y = SVG_HEIGHT - PAD_BOTTOM + 16

    def __init__(self, *, label: str, floor: Decimal, target: Decimal, cap: Decimal | None,
                 metric: Decimal | None):
        self.label, self.floor, self.target, self.cap, self.metric = (
            label, floor, target, cap, metric)
        span = target - floor
        low = max(floor - span / 2, Decimal(0)) if floor >= 0 else floor - span / 2
        high = target + (span if cap is not None else 2 * span)
        if cap is not None:
            high = max(high, floor + cap * span + span / 2)
        if metric is not None:
            low = min(low, metric - span / 4)
            high = max(high, metric + span / 4)
        self.low, self.high = low, high
        self.top = max(self.fraction_at(high), Decimal(1)) * Decimal("1.15")

    def fraction_at(self, metric: Decimal) -> Decimal:
        fraction = max(Decimal(0), (metric - self.floor) / (self.target - self.floor))
        return min(fraction, self.cap) if self.cap is not None else fraction

    def x(self, metric: Decimal) -> Decimal:
        inner = SVG_WIDTH - PAD_LEFT - PAD_RIGHT
        return (PAD_LEFT + (metric - self.low) / (self.high - self.low) * inner).quantize(PIXEL)

    def y(self, fraction: Decimal) -> Decimal:
        inner = SVG_HEIGHT - PAD_TOP - PAD_BOTTOM
        return (SVG_HEIGHT - PAD_BOTTOM - fraction / self.top * inner).quantize(PIXEL)

    @property
    def baseline_y(self) -> Decimal:
        return self.y(Decimal(0))

    @property
    def points(self) -> str:
        corners = [self.low, self.floor]
        if self.cap is not None:
            corners.append(self.floor + self.cap * (self.target - self.floor))
        corners.append(self.high)
        return " ".join(f"{self.x(m)},{self.y(self.fraction_at(m))}" for m in corners)

    @property
    def floor_text(self) -> str:
        return format_percent(self.floor, 0)

    @property
    def target_text(self) -> str:
        return format_percent(self.target, 0)

    @property
    def cap_text(self) -> str:
        return "" if self.cap is None else format_percent(self.cap, 0)

    @property
    def ticks(self) -> list[dict]:
        """The floor, the target and the cap on the metric axis."""
        marks = [("floor", self.floor), ("target", self.target)]
        if self.cap is not None:
            at_cap = self.floor + self.cap * (self.target - self.floor)
            if at_cap == self.target:
                marks[1] = ("target and cap", self.target)
            else:
                marks.append(("cap", at_cap))
        return [{"name": name, "x": self.x(m), "y": self.y(self.fraction_at(m)),
                 "text": f"{name} {format_percent(m, 0)}"} for name, m in marks]

    @property
    def levels(self) -> list[dict]:
        """Gridlines at 0% and 100% of target pay (and the cap)."""
        levels = [Decimal(0), Decimal(1)]
        if self.cap is not None and self.cap != 1:
            levels.append(self.cap)
        return [{"y": self.y(f), "text": format_percent(f, 0)} for f in levels]

    @property
    def marker(self) -> dict | None:
        if self.metric is None:
            return None
        fraction = self.fraction_at(self.metric)
        return {"x": self.x(self.metric), "y": self.y(fraction),
                "metric": format_percent(self.metric), "fraction": format_percent(fraction)}
