"""Every table of the site sorts, pages and exports to CSV the same way.

A view builds its table, then calls `configure(request, table, filename=..., per_page=...)`:
sorting and pagination come from the query string (`?sort=`, `?page=`, prefixed when a
page has several tables), and `?_export=csv` (with `&_table=<prefix>` for a prefixed
table) answers the whole sorted and filtered table as a CSV file instead of the page.
The page shows an "Export CSV" link under each configured table (`tables/table.html`).

Exported cells are plain text: HTML is stripped, and a cell a spreadsheet would run as a
formula (starting with = + - @ and not a number) is neutralised with a leading quote.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from django.http import HttpResponse
from django.utils.safestring import SafeData
from django_tables2 import RequestConfig
from django_tables2.export import TableExport
from tablib import Dataset

EXPORT_PARAM = "_export"
TABLE_PARAM = "_table"
CSV = TableExport.CSV
TEMPLATE = "tables/table.html"
_SPACES = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]*>")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def spreadsheet_safe(value) -> str:
    """Neutralise cells a spreadsheet would run as a formula: a cell starting with = + - @
    (or a tab or carriage return) is quoted unless it is a plain number, and line breaks
    inside a cell become spaces so no cell can start a row of its own."""
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    if text[:1] in ("=", "+", "-", "@", "\t") and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def export_cell(value) -> str:
    """A cell as a spreadsheet may read it safely: the text of a rendered (HTML) cell, a
    plain value as it is, and a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, SafeData):  # markup a table rendered: keep its text
        text = html.unescape(_SPACES.sub(" ", _TAGS.sub(" ", str(value)))).strip()
    else:
        text = str(value)
    return spreadsheet_safe(text)


class SafeTableExport(TableExport):
    """django-tables2's export with every cell passed through `export_cell`."""

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        dataset = Dataset(**(dataset_kwargs or {}))
        for i, row in enumerate(table.as_values(exclude_columns=exclude_columns)):
            cells = [export_cell(cell) for cell in row]
            if i == 0:
                dataset.headers = cells
            else:
                dataset.append(cells)
        return dataset


def wants_export(request, table) -> bool:
    return (
        request.GET.get(EXPORT_PARAM) == CSV
        and request.GET.get(TABLE_PARAM, "") == (table.prefix or "")
    )


def export_url(request, table) -> str:
    """This page's URL asking for the table's CSV (filters and sort kept, page dropped)."""
    query = request.GET.copy()
    for key in (EXPORT_PARAM, TABLE_PARAM, table.prefixed_page_field):
        query.pop(key, None)
    query[EXPORT_PARAM] = CSV
    if table.prefix:
        query[TABLE_PARAM] = table.prefix
    return f"{request.path}?{urlencode(sorted(query.lists()), doseq=True)}"


def export_response(table, filename: str) -> HttpResponse:
    exporter = SafeTableExport(CSV, table)
    return exporter.response(filename=f"{filename}.csv")


def configure(request, table, *, filename: str, per_page: int | bool = 25):
    """Sort and paginate `table` from the request; return the CSV response when the request
    asks for this table's export, else None (and the page renders the table)."""
    RequestConfig(request, paginate={"per_page": per_page} if per_page else False).configure(
        table
    )
    if wants_export(request, table):
        return export_response(table, filename)
    table.export_url = export_url(request, table)
    return None
