"""The busiest pages: time and query count."""

from __future__ import annotations

import statistics
import time

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Person
from payouts import services


def bench_pages(quarter, as_of, runs):
    from django.contrib.auth.models import User
    from django.db.models import Count, Q

    services.attainment_recompute(quarter=quarter, as_of=as_of)
    previous = quarter.previous()
    if as_of > previous.cutoff:
        services.quarter_close(quarter=previous, today=as_of)
    largest = (
        Person.objects.filter(email__endswith="@scale.example")
        .annotate(n=Count("assignments", filter=Q(assignments__end_date__isnull=True)))
        .order_by("-n", "id").first()
    )
    manager = largest.manager
    pages = [
        ("rep book", largest.email, "/"),
        ("rep attainment", largest.email, f"/attainment/?quarter={quarter}"),
        ("manager team", manager.email, "/team/"),
        ("finance queue", "finance@scale.example", f"/finance/{previous}/"),
    ]
    results = {}
    for label, email, url in pages:
        client = Client()
        client.force_login(User.objects.get(username=email))
        client.get(url)  # warm up
        times, queries, status = [], [], None
        for _ in range(max(runs, 5)):
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
            queries.append(len(ctx.captured_queries))
            status = response.status_code
        key = label.replace(" ", "_")
        results[f"page_{key}_ms"] = statistics.median(times) * 1000
        results[f"page_{key}_queries"] = statistics.median(queries)
        results[f"page_{key}_status"] = status
    return results
