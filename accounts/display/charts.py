"""What a chart on a page draws, as plain data for `static/js/charts.js`.

A view puts a `chart(...)` in its context; the template writes it as a JSON island
(`{{ chart|json_script:"chart-id" }}`, which the content security policy allows since it
is never executed) beside `<canvas data-chart="chart-id">`, and `charts.js` draws it with
the vendored Chart.js. Money stays Decimal here (written as a string); the browser turns
it into a number only to draw it. Every chart has its figures in a table on the same page.
"""

from __future__ import annotations

from decimal import Decimal

Number = Decimal | int | None

# How an axis labels its values: money ($1,234), percent (a fraction 1.2 -> 120%),
# days, or a plain count.
FORMATS = ("money", "percent", "days", "count")


def series(
    label: str,
    data: list[Number],
    *,
    kind: str | None = None,
    axis: str = "y",
    tone: int | str = 0,
    dashed: bool = False,
    stack: str | None = None,
    points: list[str] | None = None,
) -> dict:
    """One dataset. `tone` picks a colour of the palette (an index, or a name: "projected",
    "final", "target", "muted", "bad"); `points` names a tone per point (a line's markers)."""
    found = {"label": label, "data": [None if v is None else v for v in data], "tone": tone,
             "axis": axis}
    if kind:
        found["kind"] = kind
    if dashed:
        found["dashed"] = True
    if stack:
        found["stack"] = stack
    if points:
        found["points"] = points
    return found


def chart(
    kind: str,
    labels: list[str],
    datasets: list[dict],
    *,
    y: str = "count",
    y2: str | None = None,
    y_label: str = "",
    y2_label: str = "",
    stacked: bool = False,
    horizontal: bool = False,
    legend: bool = True,
    x: str = "category",
) -> dict:
    """A whole chart: `kind` is "bar" or "line" (a dataset may override it to mix both).
    `x="days"`: the labels are ISO dates placed by their distance in days (a time axis), the
    labels themselves the ticks."""
    assert y in FORMATS and (y2 is None or y2 in FORMATS) and x in ("category", "days")
    return {
        "x": x,
        "kind": kind,
        "labels": labels,
        "datasets": datasets,
        "y": y,
        "y2": y2,
        "yLabel": y_label,
        "y2Label": y2_label,
        "stacked": stacked,
        "horizontal": horizontal,
        "legend": legend,
    }
