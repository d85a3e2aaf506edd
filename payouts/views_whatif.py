"""The what-if page: a person's figures if an open deal closed this quarter, or if an
account at risk churned or recovered, by the plans' own rules (`payouts.whatif`)."""

import datetime
from decimal import Decimal, InvalidOperation

from django.shortcuts import render

from accounts.models import DealKind, DealStage
from accounts.money import format_money, format_percent
from accounts.permissions import person_for_user
from accounts.quarters import Quarter
from accounts.selectors import get_person_for_user
from payouts import risk, rules, whatif

MAX_ARR = Decimal("100000000")


def _typed_arr(request) -> tuple[dict[int, Decimal], list[str]]:
    """The ARRs typed in the form (`arr-<deal id>`), and what could not be read."""
    typed, problems = {}, []
    for key, raw in request.GET.items():
        if not key.startswith("arr-") or not raw.strip():
            continue
        try:
            deal_id = int(key[4:])
            value = Decimal(raw.strip().replace(",", ""))
        except (ValueError, InvalidOperation):
            problems.append(f"{raw!r} is not an amount: write ARR like 48000 or 48,000.00")
            continue
        if not value.is_finite() or value < 0 or value > MAX_ARR:
            problems.append(f"{raw} is not an ARR between 0 and {MAX_ARR:,}")
            continue
        typed[deal_id] = value.quantize(Decimal("0.01"))
    return typed, problems


def _day(request) -> datetime.date:
    """`?on=YYYY-MM-DD` (as the at-risk page takes it), else today."""
    try:
        return datetime.date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        return datetime.date.today()


def person_what_if(request, person_id):
    person = get_person_for_user(request.user, person_id)
    today = _day(request)
    quarter = Quarter.containing(today)
    typed, problems = _typed_arr(request)
    inputs = whatif.inputs_of(person, quarter, today)
    now = deals = at_risk = accounts = None
    if inputs is not None:  # one read of the person's inputs for every figure of the page
        now = rules.compute(inputs)
        deals = whatif.open_deals(person, inputs, arr_of=typed, now=now)
        at_risk = risk.at_risk(person, quarter, today, viewer=request.user, inputs=inputs)
        accounts = whatif.accounts(inputs, [r.account_id for r in at_risk], now=now)
    deals, at_risk, accounts = deals or [], at_risk or [], accounts or []
    reasons = {r.account_id: "; ".join(r.reasons) for r in at_risk}
    return render(request, "payouts/what_if.html", {
        "person": person,
        "own": person == person_for_user(request.user),
        "quarter": quarter,
        "today": today,
        "problems": problems,
        "now": now and {"amount": format_money(now.amount),
                        "metric": format_percent(now.metric, missing="undefined"),
                        "is_ae": now.plan == "ae_commission"},
        "deals": [{
            "row": d, "kind": DealKind(d.kind).label, "stage": DealStage(d.stage).label,
            "amount": format_money(d.amount), "change": format_money(d.amount_change, signed=True),
            "metric": format_percent(d.metric, missing="undefined"),
            "metric_change": format_percent(d.metric_change, signed=True, missing=""),
        } for d in deals],
        "accounts": [{
            "row": a, "reasons": reasons.get(a.account_id, ""),
            "if_churned": format_money(a.if_churned), "if_recovered": format_money(a.if_recovered),
        } for a in accounts],
    })
