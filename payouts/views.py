"""Pages about what people earn: attainment, accounts at risk, and recompute from the site.

Each view checks access first (404 for people the user may not see, 403 for pages of a role
they do not hold). The attainment page reads stored snapshots only: it never recomputes a
figure, so what it shows is what the nightly job (or a recompute) stored, with its inputs.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.display.tables import configure
from accounts.money import ZERO, format_money, format_percent
from accounts.permissions import person_for_user, require_role, roles_of
from accounts.quarters import Quarter
from accounts.revenue import run_rate_arr
from accounts.selectors import get_person_for_user, openable_account_ids
from payouts import charts, explain, glance, risk, runs, selectors
from payouts.models import AttainmentSnapshot, PlanKind, QuotaAmendment, RecomputeRun
from payouts.rules import to_cents
from payouts.tables import (
    AccountChangeTable,
    AccountLineTable,
    Curve,
    DealLineTable,
    PreviousQuarterTable,
    RecomputeRunTable,
    RiskTable,
    account_url,
    bucket_label,
    to_decimal,
)

RECOMPUTE_ROLES = ("manager", "finance", "revops")
EARLIER_QUARTERS_SHOWN = 8
RECENT_RUNS_SHOWN = 10
TABLE_PAGE_SIZE = 50
METRIC_LABELS = {
    PlanKind.CSM_REVENUE_RETENTION: "Revenue retention",
    PlanKind.LOGO_RETENTION: "Logo retention",
    PlanKind.AE_COMMISSION: "Quota attainment (ARR added / quota)",
}


def _quarter(request) -> Quarter:
    """`?quarter=2025Q2`, else the quarter of today."""
    text = request.GET.get("quarter", "").strip()
    if not text:
        return Quarter.containing(datetime.date.today())
    try:
        return Quarter.parse(text)
    except ValueError:
        raise Http404(f"{text!r} is not a quarter like 2025Q2") from None


def _day(request) -> datetime.date:
    """`?on=YYYY-MM-DD`, else today."""
    try:
        return datetime.date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        return datetime.date.today()


def _can_recompute(user) -> bool:
    return bool(roles_of(user) & set(RECOMPUTE_ROLES))


# ---------------------------------------------------------------------------------------
# Attainment


def my_attainment(request):
    me = person_for_user(request.user)
    if me is None:
        return render(request, "payouts/attainment.html", {"person": None, "own": True})
    return _attainment(request, me, own=True)


def person_attainment(request, person_id):
    person = get_person_for_user(request.user, person_id)
    return _attainment(request, person, own=person == person_for_user(request.user))


def _attainment(request, person, *, own):
    quarter = _quarter(request)
    today = datetime.date.today()
    current = Quarter.containing(today)
    latest = selectors.latest_snapshots(quarter, people=[person]).first()
    snapshot = latest
    if request.GET.get("snapshot"):
        # A payout line's link: the stored computation that produced it, which a later
        # recompute may have followed.
        try:
            snapshot_id = int(request.GET["snapshot"])
        except ValueError:
            raise Http404("no such computation") from None
        snapshot = (AttainmentSnapshot.objects.filter(id=snapshot_id, person=person,
                                                      quarter=str(quarter))
                    .select_related("person", "plan_version").first())
        if snapshot is None:
            raise Http404("no such computation")
    context = {
        "older_than_latest": snapshot is not None and latest is not None
        and snapshot.id != latest.id,
        "person": person,
        "own": own,
        "quarter": quarter,
        "previous_quarter": quarter.previous(),
        "next_quarter": quarter.next() if quarter < current else None,
        "is_current": quarter == current,
        "can_recompute": _can_recompute(request.user),
        "snapshot": snapshot,
        "earlier": _earlier_quarters(person, quarter),
    }
    if snapshot is None:
        context["has_plan"] = bool(selectors.plans_for(quarter, people=[person]))
        context["nightly_covers"] = selectors.nightly_covers(quarter, today)
    if snapshot is not None:
        previous = selectors.snapshot_before(snapshot)
        links = _AccountLinks(request.user, snapshot, previous)
        context.update(_snapshot_figures(snapshot, links))
        context["changes"] = _changes(previous, snapshot, links) if previous else None
        last_quarter = selectors.latest_snapshots(quarter.previous(), people=[person]).first()
        context["glance"] = glance.at_a_glance(snapshot, previous=previous,
                                               last_quarter=last_quarter)
        context["glance_figures"] = glance.by_figure(context["glance"])
    # At-risk accounts are ranked live (a what-if recompute per account) on their own page,
    # linked from here, so that this page reads only stored snapshots.
    if snapshot is not None:
        target_pay = to_decimal(snapshot.explanation.get("target_pay"))
        context["over_quarter"] = charts.attainment_chart(
            charts.attainment_over_quarter(person.id, quarter), target_pay, quarter)
    tables = [
        (context.get("account_table"), "accounts"),
        (context.get("deal_table"), "deals"),
        (context.get("changes") and context["changes"]["table"], "changes"),
        (context["earlier"], "earlier-quarters"),
    ]
    for table, name in tables:
        if table is not None:
            export = configure(request, table, filename=f"attainment-{person.id}-{quarter}-{name}",
                               per_page=TABLE_PAGE_SIZE)
            if export is not None:
                return export
    return render(request, "payouts/attainment.html", context)


class _AccountLinks:
    """The account pages this user may open among those the snapshots name. The others (a
    rep's former accounts) are named without a link and without their live run rate: the
    stored lines explain the figure, nothing after the rep's time with the account."""

    def __init__(self, user, *snapshots):
        ids = {account["account_id"] for snapshot in snapshots if snapshot is not None
               for part in (snapshot.explanation, snapshot.inputs)
               for account in part.get("accounts", [])}
        self.openable = openable_account_ids(user, ids)
        self.by_external = {account["external_id"]: account["account_id"]
                            for snapshot in snapshots if snapshot is not None
                            for part in (snapshot.explanation, snapshot.inputs)
                            for account in part.get("accounts", [])}

    def url(self, account_id: int) -> str | None:
        return account_url(account_id) if account_id in self.openable else None

    def url_of_external(self, external_id: str) -> str | None:
        account_id = self.by_external.get(external_id)
        return None if account_id is None else self.url(account_id)


def _snapshot_figures(snapshot: AttainmentSnapshot, links: _AccountLinks) -> dict:
    """What the page shows of one stored snapshot, from its explanation and inputs."""
    explanation, inputs = snapshot.explanation, snapshot.inputs
    plan = snapshot.plan_version.plan
    quarter = Quarter.parse(snapshot.quarter)
    figures = explanation.get("figures", {})
    target_pay = to_decimal(explanation["target_pay"])

    lines = explanation.get("accounts", [])
    run_rates = run_rate_arr([line["account_id"] for line in lines
                              if line["account_id"] in links.openable], snapshot.as_of)
    account_rows = [_account_row(line, run_rates, links) for line in lines]
    account_rows.sort(key=lambda r: (not r["counted"], r["name"].lower(), r["external_id"]))
    logo = plan == PlanKind.LOGO_RETENTION
    account_table = AccountLineTable(
        account_rows, prefix="acc-",
        baseline_label="Month tested" if logo else "Baseline ARR (months)",
        end_label="12 × that month" if logo else "End ARR",
    )

    deal_rows = [_deal_row(deal, links) for deal in explanation.get("deals", [])]
    parts = [{
        "label": "Accounts",
        "why": f"sum of the contributions of {len(account_rows)} account(s) above",
        "value": sum((to_cents(r["contribution"]) for r in account_rows), ZERO),
    }]
    if plan == PlanKind.AE_COMMISSION:
        parts.append({
            "label": "Deals",
            "why": f"sum of the commissions of {len(deal_rows)} deal(s) below",
            "value": sum((to_cents(r["commission"]) for r in deal_rows), ZERO),
        })
    for adjustment in explanation.get("adjustments", []):
        if not to_cents(to_decimal(adjustment["contribution"])):
            continue  # a difference of a fraction of a cent: the rounding line carries it
        parts.append({"label": bucket_label(adjustment["label"]), "why": adjustment["why"],
                      "value": to_decimal(adjustment["contribution"])})
    # Each part is printed to the cent; what that leaves over is shown, so the column adds up.
    rounding = snapshot.amount - sum((to_cents(p["value"]) for p in parts), ZERO)
    if rounding:
        parts.append({"label": "Rounding", "why": "each line above is rounded to the cent",
                      "value": rounding})
    for part in parts:
        part["shown"] = format_money(part["value"])

    payout_lines = [{"bucket": bucket, "label": bucket_label(bucket),
                     "amount": format_money(amount)}
                    for bucket, amount in explanation.get("lines", {}).items()]
    context = {
        "plan": plan,
        "plan_label": snapshot.plan_version.get_plan_display(),
        "metric_label": METRIC_LABELS.get(plan, "Metric"),
        "cutoff": quarter.cutoff,
        "amount": format_money(snapshot.amount),
        "payable": format_money(snapshot.payable),
        "held_back": format_money(snapshot.amount - snapshot.payable),
        "target_pay": format_money(target_pay),
        "fraction": format_percent(snapshot.bonus_fraction),
        "metric": format_percent(snapshot.metric, missing="undefined"),
        # The status card already says how a projection is made; a logo plan's note says
        # which month it reads, which the card does not.
        "notes": [n for n in explanation.get("notes", [])
                  if logo or not n.startswith("Projected as of ")],
        "curve": _curve(snapshot, figures),
        "payout_lines": payout_lines,
        "account_table": account_table,
        "parts": parts,
        "guarantee_share": format_percent(figures.get("guarantee_share") or 0),
        "has_guarantee": bool(to_decimal(figures.get("guarantee_share") or 0)),
    }
    if plan == PlanKind.AE_COMMISSION:
        context.update(_ae_figures(snapshot, quarter, inputs, figures, deal_rows, links))
    return context


def _account_row(line: dict, run_rates: dict, links: _AccountLinks) -> dict:
    months = line.get("baseline_months") or []
    return {
        "account_id": line["account_id"],
        "external_id": line["external_id"],
        "name": line["name"],
        "url": links.url(line["account_id"]),
        "baseline_arr": to_decimal(line.get("baseline_arr")),
        "baseline_months": months[0] if len(months) == 1 else (
            f"{months[0]} to {months[-1]}" if months else ""),
        "run_rate_arr": run_rates.get(line["account_id"]),
        "end_arr": to_decimal(line.get("end_arr")),
        "unpaid": to_decimal(line.get("unpaid")) or None,
        "contribution": to_decimal(line.get("contribution")) or ZERO,
        "counted": line["counted"],
        "retained": line.get("retained"),
        "reason": line.get("reason", ""),
        "why": line.get("why", ""),
    }


def _deal_row(deal: dict, links: _AccountLinks) -> dict:
    account_url = links.url_of_external(deal["account_external_id"])
    return {
        # The deal opens on its account's page, with the deal's invoices.
        "url": f"{account_url}?deal={quote(deal['external_id'])}#invoices" if account_url
        else None,
        "external_id": deal["external_id"],
        "account_external_id": deal["account_external_id"],
        "bucket": deal["bucket"],
        "closed_on": deal["closed_on"],
        "arr": to_decimal(deal["arr"]),
        "rate": to_decimal(deal["rate"]),
        "commission": to_decimal(deal["commission"]),
        "paid_share": to_decimal(deal["paid_share"]),
        "payable": to_decimal(deal["payable"]),
        "why": deal["why"],
    }


def _ae_figures(snapshot, quarter, inputs, figures, deal_rows, links) -> dict:
    """An AE's deals, quota with its amendments, and the accounts moved in or out."""
    moves = []
    for account in inputs.get("accounts", []):
        for stint in account.get("stints", []):
            start = datetime.date.fromisoformat(stint["start"])
            if quarter.start < start <= quarter.end:
                moves.append({"day": start, "external_id": account["external_id"],
                              "name": account["name"], "url": links.url(account["account_id"]),
                              "move": "moved in" + (" (inherited)" if stint["inherited"] else "")})
            if stint.get("end"):
                end = datetime.date.fromisoformat(stint["end"])
                if quarter.start <= end < quarter.end:
                    moves.append({"day": end, "external_id": account["external_id"],
                                  "name": account["name"],
                                  "url": links.url(account["account_id"]),
                                  "move": "moved out (last day)"})
    moves.sort(key=lambda m: (m["day"], m["external_id"]))
    amendments = (
        QuotaAmendment.objects.filter(person_plan__person_id=snapshot.person_id,
                                      person_plan__quarter=snapshot.quarter)
        .select_related("amended_by")
        .order_by("amended_at")
    )
    bucket_arr = figures.get("bucket_arr", {})
    lines = snapshot.explanation.get("lines", {})
    # The rule stores each bucket's rate; snapshots stored before it did are read the way
    # the rule chose then (the plan's own rate for the bucket, else the default rate).
    stored = figures.get("rates") or {}
    explicit = snapshot.plan_version.rates or {}
    default_rate = to_decimal(figures.get("default_rate")) or ZERO
    buckets = []
    for bucket, arr in bucket_arr.items():
        if bucket in stored:
            rate = to_decimal(stored[bucket])
        else:
            rate = to_decimal(explicit[bucket]) if bucket in explicit else default_rate
        buckets.append({
            "label": bucket_label(bucket), "arr": format_money(arr),
            "rate": format_percent(rate), "commission": format_money(lines.get(bucket) or 0),
        })
    return {
        "buckets": buckets,
        "why_two": _why_two_percentages(snapshot, figures),
        "deal_table": DealLineTable(deal_rows, prefix="deal-"),
        "quota": format_money(inputs.get("quota")) if inputs.get("quota") else None,
        "amendments": [
            {"when": a.amended_at, "by": a.amended_by, "reason": a.reason,
             "before": format_money(a.previous_quota), "after": format_money(a.new_quota)}
            for a in amendments
        ],
        "moves": moves,
        "churn": format_money(figures.get("churn") or 0),
        "arr_added": format_money(figures.get("arr_added") or 0),
    }


def _why_two_percentages(snapshot, figures) -> str:
    """Why an AE's share of target pay and quota attainment differ, in one sentence."""
    churn = to_decimal(figures.get("churn")) or ZERO
    lines = snapshot.explanation.get("lines", {})
    buckets = sum((to_decimal(v) for b, v in lines.items()
                   if b not in ("guarantee", "floor_at_zero")), ZERO)  # as the cards show them
    text = (f"Commission pays each bucket's ARR at its rate: {format_money(buckets)}")
    if buckets != snapshot.amount:
        text += f" ({format_money(snapshot.amount)} with the ramp's guarantee or the floor at zero)"
    text += (f", {format_percent(snapshot.bonus_fraction)} of quarterly target pay. Attainment is "
            f"the ARR added, {format_money(to_decimal(figures.get('arr_added')) or ZERO)}, over "
            f"the quota: {format_percent(snapshot.metric, missing='undefined')}.")
    if churn:
        text += (f" Churn ({format_money(churn)} of ARR) lowers attainment, not commission: "
                 "that is why the two percentages differ.")
    return text


def _curve(snapshot, figures) -> Curve | None:
    """The plan's curve from the terms the figure used: floor and target as computed (a
    person's own target included), the cap from the plan version."""
    version = snapshot.plan_version
    plan = version.plan
    if plan == PlanKind.AE_COMMISSION:
        if snapshot.metric is None:
            return None
        # With the default rates, bucket ARR equal to the quota pays 100% of target pay.
        floor, target, cap = ZERO, Decimal(1), version.fraction_cap
    else:
        floor = to_decimal(figures.get("floor")) or version.floor or ZERO
        target = to_decimal(figures.get("target")) or version.target
        cap = version.fraction_cap
        if plan == PlanKind.LOGO_RETENTION and cap is None:
            cap = Decimal(1)  # the logo plan is always clamped to 100%
        if target is None or target == floor:
            return None
    return Curve(label=METRIC_LABELS.get(plan, "Metric"), floor=floor, target=target, cap=cap,
                 metric=snapshot.metric)


def _earlier_quarters(person, quarter: Quarter) -> PreviousQuarterTable:
    snapshots = selectors.earlier_quarters(person, quarter, limit=EARLIER_QUARTERS_SHOWN)
    base = _attainment_url(person)
    rows = [{
        "quarter": s.quarter,
        "url": f"{base}?quarter={s.quarter}",
        "plan": f"{s.plan_version.get_plan_display()} v{s.plan_version.version}",
        "as_of": s.as_of.isoformat(),
        "status": "final" if s.final else "projected",
        "metric": s.metric,
        "bonus_fraction": s.bonus_fraction,
        "amount": s.amount,
        "payable": s.payable,
    } for s in snapshots]
    return PreviousQuarterTable(rows, prefix="q-")


def _attainment_url(person) -> str:
    return reverse("person_attainment", args=[person.id])


# ---------------------------------------------------------------------------------------
# At risk


def _changes(previous, latest, links: _AccountLinks) -> dict:
    """`explain.snapshot_changes` with the accounts' links and as a table, and each invoice
    its events name linked to its row on the account's page."""
    changes = explain.snapshot_changes(previous, latest)
    rows = [{**row, "url": links.url(row["account_id"])} for row in changes.pop("rows")]
    events = [_linked_event(event, links) for event in changes.pop("events")]
    return {**changes, "events": events, "table": AccountChangeTable(rows, prefix="chg-")}


def _linked_event(event: explain.Event, links: _AccountLinks):
    """An event as HTML: each invoice it names linked to its row on the account's page,
    when this user may open the account."""
    url = links.url(event.account_id) if event.account_id is not None else None
    if url is None or not event.invoices:
        return event.text
    named = re.compile("|".join(rf"(?<![\w-]){re.escape(n)}(?![\w-])" for n in event.invoices))
    parts, last = [], 0
    for match in named.finditer(event.text):
        parts.append(escape(event.text[last:match.start()]))
        parts.append(format_html('<a href="{}?invoice={}#invoices">{}</a>', url,
                                 quote(match.group()), match.group()))
        last = match.end()
    parts.append(escape(event.text[last:]))
    return mark_safe("".join(str(part) for part in parts))  # noqa: S308 - every part escaped


def person_at_risk(request, person_id):
    person = get_person_for_user(request.user, person_id)
    on = _day(request)
    quarter = Quarter.containing(on)
    rows = risk.at_risk(person, quarter, on, viewer=request.user)
    table = _risk_table(rows)
    export = configure(request, table, filename=f"at-risk-{person.id}-{on}",
                       per_page=TABLE_PAGE_SIZE)
    if export is not None:
        return export
    return render(request, "payouts/at_risk.html", {
        "person": person,
        "own": person == person_for_user(request.user),
        "on": on,
        "today": datetime.date.today(),
        "quarter": quarter,
        "table": table,
        "count": len(rows),
    })


def _risk_table(rows: list[risk.RiskRow]) -> RiskTable:
    return RiskTable([{
        "account_id": r.account_id, "external_id": r.external_id, "name": r.name,
        "url": account_url(r.account_id), "reasons": r.reasons, "impact": r.impact,
    } for r in rows], prefix="risk-")


# ---------------------------------------------------------------------------------------
# Recompute


class RecomputeForm(forms.Form):
    quarter = forms.CharField(max_length=6, help_text="e.g. 2025Q2")
    as_of = forms.DateField(label="As of", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_quarter(self):
        try:
            return Quarter.parse(self.cleaned_data["quarter"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        quarter, as_of = data.get("quarter"), data.get("as_of")
        if quarter and as_of:
            if as_of < quarter.start:
                self.add_error("as_of", f"{quarter} starts on {quarter.start}: compute it as "
                                        "of that day or later.")
            if as_of > datetime.date.today():
                self.add_error("as_of", "The as-of date cannot be in the future.")
        return data


def recompute(request):
    """Start a recompute of a quarter for everyone (managers, finance, RevOps)."""
    require_role(request.user, *RECOMPUTE_ROLES)
    today = datetime.date.today()
    if request.method == "POST":
        form = RecomputeForm(request.POST)
        if form.is_valid():
            quarter, as_of = form.cleaned_data["quarter"], form.cleaned_data["as_of"]
            try:
                start = runs.recompute_start(quarter=quarter, as_of=as_of, user=request.user)
            except runs.QueueUnavailable:
                messages.error(request, "The task queue cannot be reached: nothing was "
                                        "recomputed. Try again in a minute.")
                return redirect("recompute")
            if start.outcome == runs.JOINED:
                messages.info(request, f"A recompute of {quarter} as of {as_of} was already "
                                       "running: here it is.")
            elif start.outcome == runs.RESUMED:
                messages.info(request, f"A recompute of {quarter} as of {as_of} had stalled: "
                                       "it is resumed, with the people it still lacked.")
            return redirect("recompute_run", run_id=start.run.id)
    else:
        quarter = request.GET.get("quarter") or str(Quarter.containing(today))
        form = RecomputeForm(initial={"quarter": quarter, "as_of": today})
    recent = _recent_runs()
    export = configure(request, recent, filename="recompute-runs", per_page=RECENT_RUNS_SHOWN)
    if export is not None:
        return export
    return render(request, "payouts/recompute.html", {"form": form, "runs": recent})


def recompute_run(request, run_id):
    """A run's page; with the HX-Request header (htmx polling every 2 seconds while it
    runs) only its progress, and the recent runs once it has finished."""
    require_role(request.user, *RECOMPUTE_ROLES)
    run = get_object_or_404(RecomputeRun.objects.select_related("started_by"), id=run_id)
    recent = _recent_runs(also=run)
    export = configure(request, recent, filename="recompute-runs", per_page=RECENT_RUNS_SHOWN)
    if export is not None:
        return export
    context = {
        "run": run,
        "percent": (run.done * 100 // run.total) if run.total else 100,
        "runs": recent,
        "stalled": run.id in recent.stalled,
        "can_resume": _can_recompute(request.user),
    }
    if request.headers.get("HX-Request"):
        context["oob_runs"] = run.status != RecomputeRun.Status.RUNNING or context["stalled"]
        return render(request, "payouts/_recompute_progress.html", context)
    return render(request, "payouts/recompute_run.html", context)


@require_POST
def recompute_run_resume(request, run_id):
    """Resume a stalled run: requeue the people it still lacks."""
    require_role(request.user, *RECOMPUTE_ROLES)
    run = get_object_or_404(RecomputeRun, id=run_id)
    try:
        requeued = runs.recompute_resume(run)
    except runs.QueueUnavailable:
        messages.error(request, "The task queue cannot be reached: nothing was resumed. "
                                "Try again in a minute.")
        return redirect("recompute_run", run_id=run.id)
    if requeued:
        messages.success(request, f"Resumed: {requeued} people requeued.")
    else:
        messages.info(request, "This run is not stalled (or was just resumed): nothing to do.")
    return redirect("recompute_run", run_id=run.id)


def recompute_progress(request, run_id):
    require_role(request.user, *RECOMPUTE_ROLES)
    run = get_object_or_404(RecomputeRun, id=run_id)
    return JsonResponse({"status": run.status, "done": run.done, "total": run.total})


def _recent_runs(also: RecomputeRun | None = None) -> RecomputeRunTable:
    # A list, so that a header click sorts these runs rather than reordering the query.
    runs = list(RecomputeRun.objects.select_related("started_by")[:RECENT_RUNS_SHOWN])
    shown = runs if also is None or also in runs else [*runs, also]
    return RecomputeRunTable(
        runs, prefix="run-", stalled=selectors.recompute_runs_stalled(shown)
    )
