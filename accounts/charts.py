"""Charts of the accounts pages, from figures the pages already read (nothing recomputed)."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.arr import RUN_RATE_MONTHS, arr
from accounts.display.charts import chart, series
from accounts.revenue import MonthLine


def arr_by_month(lines: Sequence[MonthLine]) -> dict | None:
    """An account's revenue by month (bars, the month in progress in grey) and its ARR at
    the end of each complete month (line, right axis): 4 x that month and the two before,
    the run rate the account page shows as ARR."""
    months = sorted(lines, key=lambda line: line.month)
    if not any(line.amount for line in months):
        return None
    figures = []
    for i, line in enumerate(months):
        window = months[i - RUN_RATE_MONTHS + 1 : i + 1] if i >= RUN_RATE_MONTHS - 1 else []
        figures.append(arr(sum(m.amount for m in window)) if window and line.complete else None)
    labels = [f"{line.month:%Y-%m}" for line in months]
    return chart(
        "bar",
        labels,
        [
            series("ARR (4 × the last 3 months)", figures, kind="line", axis="y2", tone=2),
            series(
                "Revenue of the month",
                [line.amount for line in months],
                tone=0,
                points=["accent" if line.complete else "muted" for line in months],
            ),
        ],
        y="money",
        y2="money",
        y_label="revenue per month",
        y2_label="ARR",
    )
