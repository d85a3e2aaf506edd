"""What changed between two snapshots of one person and quarter, and why.

One reader of the stored month figures (`month_figures`) and the two views of a change built
on it: the rep's attainment page (`snapshot_changes`: notes, the accounts that moved, the
invoice and deal events behind them) and finance's differences (`input_changes`,
`invoices_named`: the lines a proposed adjustment's cause names).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Invoice, InvoiceKind, InvoiceStatus, RowChange
from accounts.money import ZERO, format_money, format_percent, to_cents
from accounts.quarters import Quarter, add_months, month_end
from payouts.models import PlanKind
from payouts.tables import to_decimal

MONTH_FIGURE_FIELDS = ("amount", "history", "unpaid", "late")
NOTHING = (ZERO, ZERO, ZERO, ZERO)


@dataclass(frozen=True)
class Event:
    """One thing that happened between two snapshots, in words, with the account and the
    invoices it names (so that a page can link each invoice to its row)."""

    text: str
    account_id: int | None = None
    invoices: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


def month_figures(account: dict) -> dict[str, tuple[Decimal, Decimal, Decimal, Decimal]]:
    """{month: (amount, history, unpaid, late)} of one account of a snapshot's inputs,
    whether a month was stored as a mapping or as the compact list [amount, history, unpaid,
    late]; a missing history is the amount (as `rules.MonthFigure.baseline` reads it)."""
    found = {}
    for month, figure in (account.get("revenue") or {}).items():
        if isinstance(figure, list | tuple):
            figure = dict(zip(MONTH_FIGURE_FIELDS, figure, strict=False))
        amount, history, unpaid, late = (
            to_decimal((figure or {}).get(key)) for key in MONTH_FIGURE_FIELDS
        )
        amount = amount or ZERO
        found[month] = (amount, amount if history is None else history, unpaid or ZERO,
                        late or ZERO)
    return found


def _month_figures(inputs: dict) -> dict:
    """{(account id, month): figures} of every account of a snapshot's inputs."""
    return {
        (account["account_id"], datetime.date.fromisoformat(month)): figure
        for account in inputs.get("accounts", [])
        for month, figure in month_figures(account).items()
    }


def _paid_by(snapshot) -> datetime.date:
    """The last day a payment counts in this snapshot: the cutoff in final figures."""
    quarter = Quarter.parse(snapshot.quarter)
    return quarter.cutoff if snapshot.final else snapshot.as_of


def snapshot_changes(previous, latest) -> dict:
    """What moved between two snapshots of one person and quarter, as the rep's attainment
    page shows it: notes (as-of, finality, plan, quota and target, baseline), one row per
    account whose figures moved (biggest first), the rest of the amount's change, and the
    invoice and deal events behind the months that changed."""
    before_exp, now_exp = previous.explanation, latest.explanation
    before_lines = {a["account_id"]: a for a in before_exp.get("accounts", [])}
    now_lines = {a["account_id"]: a for a in now_exp.get("accounts", [])}
    names = {**before_lines, **now_lines}

    notes = []
    if latest.cause:  # the change whose refresh stored these figures (`payouts.fresh`)
        notes.append(f"Recomputed after {latest.cause}.")
    if previous.as_of != latest.as_of:
        notes.append(f"The as-of date moved from {previous.as_of} to {latest.as_of}: "
                     "facts dated in between now count, and more months may be complete.")
    if latest.final and not previous.final:
        notes.append("The figures are final now: only money paid by the cutoff counts.")
    if previous.plan_version_id != latest.plan_version_id:
        notes.append(f"The plan changed from {previous.plan_version} to {latest.plan_version}.")
    for key, label in (("quota", "quota"), ("target", "target")):
        was, now = previous.inputs.get(key), latest.inputs.get(key)
        if was != now:
            shown = format_money if key == "quota" else format_percent
            notes.append(f"The {label} changed from "
                         f"{'none' if was is None else shown(was)} to "
                         f"{'none' if now is None else shown(now)}.")

    baselines = [
        sum((to_decimal(a.get("baseline_arr")) or ZERO for a in lines.values() if a["counted"]),
            ZERO)
        for lines in (before_lines, now_lines)
    ]
    if latest.plan_version.plan == PlanKind.CSM_REVENUE_RETENTION and baselines[0] != baselines[1]:
        notes.append(f"The counted accounts' baseline ARR went from {format_money(baselines[0])} "
                     f"to {format_money(baselines[1])}: every account's contribution is measured "
                     "against that total, so each moved a little.")

    rows, shown_total = [], ZERO
    for account_id in sorted(names, key=lambda i: (names[i]["name"].lower(), i)):
        was, now = before_lines.get(account_id), now_lines.get(account_id)
        end_was = to_decimal(was.get("end_arr")) if was else None
        end_now = to_decimal(now.get("end_arr")) if now else None
        c_was = to_decimal(was["contribution"]) if was else ZERO
        c_now = to_decimal(now["contribution"]) if now else ZERO
        counted_was, counted_now = bool(was and was["counted"]), bool(now and now["counted"])
        if end_was == end_now and c_was == c_now and counted_was == counted_now:
            continue
        if was is None:
            note = "new in the figures"
        elif now is None:
            note = "no longer in the figures"
        elif counted_was != counted_now:
            note = ("now counted: " if counted_now else "no longer counted: ") + now["why"]
        else:
            note = ""
        delta = to_cents(c_now) - to_cents(c_was)
        shown_total += delta
        line = now or was
        rows.append({
            "account_id": account_id, "external_id": line["external_id"], "name": line["name"],
            "end_before": end_was, "end_now": end_now,
            "end_delta": None if end_was is None and end_now is None
            else (end_now or ZERO) - (end_was or ZERO),
            "contribution_before": c_was, "contribution_now": c_now,
            "contribution_delta": delta, "note": note,
        })
    rows.sort(key=lambda r: -abs(r["contribution_delta"]))  # the biggest moves first
    amount_delta = latest.amount - previous.amount
    return {
        "previous": previous,
        "amount_before": format_money(previous.amount),
        "amount_now": format_money(latest.amount),
        "amount_delta": format_money(amount_delta, signed=True),
        "metric_before": format_percent(previous.metric, missing="undefined"),
        "metric_now": format_percent(latest.metric, missing="undefined"),
        "notes": notes,
        "rows": rows,
        "rest": format_money(amount_delta - shown_total, signed=True),
        "events": _invoice_events(previous, latest, names) + _deal_events(previous, latest),
    }


def _invoice_events(previous, latest, names) -> list[Event]:
    """Name the usage invoices behind every month whose revenue changed between the two
    snapshots' inputs: issued or paid between them, or (when no date explains it) the
    month's invoices as they stand now."""
    before, now = _month_figures(previous.inputs), _month_figures(latest.inputs)
    # Accounts that entered or left the figures are named in the table; here, the revenue of
    # accounts in both.
    both = {a for a, _m in before} & {a for a, _m in now}
    nothing = NOTHING
    changed = sorted(k for k in before.keys() | now.keys()
                     if k[0] in both and before.get(k, nothing) != now.get(k, nothing))
    if not changed:
        return []
    for inputs in (previous.inputs, latest.inputs):
        for account in inputs.get("accounts", []):
            names.setdefault(account["account_id"], account)
    months = sorted({month for _account, month in changed})
    invoices = defaultdict(list)
    for row in (
        Invoice.objects.filter(
            account_id__in={account for account, _month in changed}, kind=InvoiceKind.USAGE,
            period_start__gte=months[0], period_start__lt=add_months(months[-1], 1),
        )
        .order_by("period_start", "external_id")
        .values("account_id", "external_id", "issued_on", "period_start", "amount", "status",
                "paid_on")
    ):
        invoices[(row["account_id"], row["period_start"].replace(day=1))].append(row)

    paid_before, paid_now = _paid_by(previous), _paid_by(latest)
    events = []
    for key in changed:
        account_id, month = key
        prefix = f"{names[account_id]['external_id']} {month:%Y-%m}: "
        found = []
        for inv in invoices.get(key, []):
            money = format_money(inv["amount"])
            known_then = inv["issued_on"] <= previous.as_of
            known_now = inv["issued_on"] <= latest.as_of
            if inv["status"] == InvoiceStatus.VOID:
                if known_then and known_now:
                    found.append(f"invoice {inv['external_id']} ({money}) is void: "
                                 "it no longer counts")
                continue
            if known_now and not known_then:
                found.append(f"invoice {inv['external_id']} issued on {inv['issued_on']}: "
                             f"+{money}")
            elif known_then and not known_now:
                found.append(f"invoice {inv['external_id']} issued on {inv['issued_on']}, "
                             f"after the as-of date now: -{money}")
            was_paid = inv["status"] == InvoiceStatus.PAID and inv["paid_on"] <= paid_before
            is_paid = inv["status"] == InvoiceStatus.PAID and inv["paid_on"] <= paid_now
            if known_now and is_paid and not was_paid:
                found.append(f"invoice {inv['external_id']} paid on {inv['paid_on']}: +{money}")
            elif known_now and was_paid and not is_paid:
                found.append(f"invoice {inv['external_id']} no longer counts as paid "
                             f"by {paid_now}: -{money}")
        if not found:
            was, is_ = before.get(key, nothing), now.get(key, nothing)
            text = f"revenue {format_money(was[0])} → {format_money(is_[0])}"
            if was[2] != is_[2]:
                text += f", unpaid {format_money(was[2])} → {format_money(is_[2])}"
            if was[1] != is_[1] and was[1] != was[0]:
                text += f", history {format_money(was[1])} → {format_money(is_[1])}"
            listed = [f"{inv['external_id']} {format_money(inv['amount'])} {inv['status']}"
                      + (f" on {inv['paid_on']}" if inv["paid_on"] else "")
                      for inv in invoices.get(key, [])]
            text += (f" (its invoices now: {'; '.join(listed)})" if listed
                     else " (a usage figure changed)")
            found.append(text)
        named = tuple(inv["external_id"] for inv in invoices.get(key, []))
        events.extend(Event(prefix + text, account_id, tuple(n for n in named if n in text))
                      for text in found)
    return events


def _deal_events(previous, latest) -> list[Event]:
    """Deals closed since the previous snapshot, and contract invoices paid in between."""
    before = {d["external_id"]: d for d in previous.explanation.get("deals", [])}
    now = {d["external_id"]: d for d in latest.explanation.get("deals", [])}
    events = [Event(f"deal {ext} closed on {d['closed_on']}: commission "
                    f"{format_money(d['commission'], signed=True)}")
              for ext, d in now.items() if ext not in before]
    events += [Event(f"deal {ext} no longer counts in the quarter")
               for ext in before if ext not in now]
    moved = [ext for ext, d in now.items()
             if ext in before and d["paid_share"] != before[ext]["paid_share"]]
    if moved:
        low, high = sorted((_paid_by(previous), _paid_by(latest)))
        for inv in (
            Invoice.objects.filter(deal_external_id__in=moved, kind=InvoiceKind.CONTRACT,
                                   status=InvoiceStatus.PAID, paid_on__gt=low,
                                   paid_on__lte=high)
            .order_by("paid_on", "external_id")
            .values("external_id", "deal_external_id", "paid_on", "amount", "account_id")
        ):
            events.append(Event(
                f"invoice {inv['external_id']} of deal {inv['deal_external_id']} "
                f"paid on {inv['paid_on']}: +{format_money(inv['amount'])}",
                inv["account_id"], (inv["external_id"],)))
        for ext in moved:
            events.append(Event(
                f"deal {ext}: payable now {format_money(before[ext]['payable'])} → "
                f"{format_money(now[ext]['payable'])} "
                f"({format_percent(now[ext]['paid_share'])} paid)"))
    return events


def input_changes(old: dict, new: dict) -> tuple[list[str], list[tuple[str, str]]]:
    """What differs between two snapshots' inputs, as finance's differences name it:
    readable lines, and the (account external id, month) pairs whose revenue changed."""
    notes, months = [], []

    def by_key(rows, key):
        return {row[key]: row for row in rows or []}

    old_accounts = by_key(old.get("accounts"), "external_id")
    new_accounts = by_key(new.get("accounts"), "external_id")
    for ext in sorted(set(old_accounts) | set(new_accounts)):
        a, b = old_accounts.get(ext), new_accounts.get(ext)
        if a is None or b is None:
            notes.append(f"{ext} {'entered' if a is None else 'left'} the figure")
            continue
        revenue_a, revenue_b = month_figures(a), month_figures(b)
        for month in sorted(set(revenue_a) | set(revenue_b)):
            ra, rb = revenue_a.get(month, NOTHING), revenue_b.get(month, NOTHING)
            if ra != rb:
                detail = f"{ra[0]} → {rb[0]}" if ra[0] != rb[0] else f"baseline {ra[1]} → {rb[1]}"
                notes.append(f"{ext} {month[:7]} revenue {detail}")
                months.append((ext, month))
        for key in ("stints", "annual_contract_value", "contract_end", "paid_invoices_ever",
                    "converted_in_quarter", "billing"):
            if a.get(key) != b.get(key):
                notes.append(f"{ext} {key.replace('_', ' ')}: {a.get(key)} → {b.get(key)}")
    old_deals = by_key(old.get("deals"), "external_id")
    new_deals = by_key(new.get("deals"), "external_id")
    for ext in sorted(set(old_deals) | set(new_deals)):
        a, b = old_deals.get(ext), new_deals.get(ext)
        if a is None or b is None:
            notes.append(f"deal {ext} {'entered' if a is None else 'left'} the figure")
            continue
        for key in ("kind", "arr", "closed_on", "contract_invoiced", "contract_paid"):
            if a.get(key) != b.get(key):
                notes.append(f"deal {ext} {key.replace('_', ' ')}: {a.get(key)} → {b.get(key)}")
    for key in ("quota", "target", "person", "terms"):
        if old.get(key) != new.get(key):
            notes.append(f"{key} changed")
    return notes, months


def invoices_named(months: list[tuple[str, str]], since: datetime.datetime) -> list[str]:
    """The invoices of the changed account-months, those changed by an import since the
    payout's figures marked."""
    names = []
    for ext, month in months:
        first = datetime.date.fromisoformat(month)
        names += Invoice.objects.filter(
            account__external_id=ext, period_start__gte=first, period_start__lte=month_end(first)
        ).order_by("external_id").values_list("external_id", flat=True)
    changed = set(RowChange.objects.filter(
        model="accounts.Invoice", key__in=names, changed_at__gt=since
    ).values_list("key", flat=True))
    return [f"{n} (changed by an import)" if n in changed else n for n in names]
