"""The compensation plans of SPEC section 4, as pure functions.

No Django, no database: the inputs are plain frozen dataclasses gathered by
`payouts/selectors.py`, the outputs are figures with their explanation. Money is Decimal;
ratios are kept unrounded; rounding happens once, half-up to the cent, in `to_cents`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

from payouts.quarters import Quarter, add_months, first_months_end

ZERO = Decimal("0")
ONE = Decimal("1")
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")

BUCKETS_AE = ("new_annual", "expansion_annual", "monthly", "monthly_to_annual")
ANNUAL_DEAL_KINDS = ("new_annual", "expansion_annual", "monthly_to_annual")


def to_cents(amount: Decimal) -> Decimal:
    """The one rounding of the product: half-up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_ratio(value: Decimal | None) -> Decimal | None:
    """How a ratio is printed and stored: 6 places, half-up."""
    return None if value is None else value.quantize(MICRO, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class PersonInput:
    email: str
    start_date: datetime.date
    end_date: datetime.date | None
    ote: Decimal
    variable_share: Decimal


@dataclass(frozen=True)
class PlanTerms:
    plan: str
    version: int
    target: Decimal | None = None
    floor: Decimal | None = None
    fraction_cap: Decimal | None = None
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    guarantee: bool = False
    guarantee_months: int = 3
    grace_months: int = 3
    retained_threshold: Decimal = Decimal("500")
    medium_deal_size: Decimal = Decimal("20000")


@dataclass(frozen=True)
class MonthFigure:
    """Revenue of one account in one month, as SPEC 3 counts it for this computation."""

    amount: Decimal  # for end ARR and logo retention: in final figures, paid by the cutoff
    history: Decimal | None = None  # for baselines: every non-void invoice, paid or not
    unpaid: Decimal = ZERO  # part of amount not yet paid (projections)
    late: Decimal = ZERO  # invoiced but not paid by the cutoff (final figures), not in amount

    @property
    def baseline(self) -> Decimal:
        return self.amount if self.history is None else self.history


NOTHING = MonthFigure(ZERO)


@dataclass(frozen=True)
class Stint:
    """One assignment of the account to the person in the plan's role, as known on as_of."""

    start: datetime.date
    end: datetime.date | None
    inherited: bool

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class AccountInput:
    account_id: int
    external_id: str
    name: str
    billing: str
    stints: tuple[Stint, ...]
    # Revenue by first day of month, for every month a rule may read (missing = $0).
    revenue: Mapping[datetime.date, MonthFigure]
    paid_invoices_ever: int = 0  # invoices of any kind paid on or before as_of
    annual_contract_value: Decimal | None = None
    contract_end: datetime.date | None = None
    converted_in_quarter: bool = False  # a won monthly_to_annual deal closed in the quarter
    # "What if it churned now": no revenue after as_of (used to rank accounts at risk).
    churn_now: bool = False

    def month(self, month: datetime.date) -> MonthFigure:
        return self.revenue.get(month, NOTHING)


@dataclass(frozen=True)
class DealInput:
    external_id: str
    account_external_id: str
    kind: str
    arr: Decimal
    closed_on: datetime.date
    contract_invoiced: Decimal = ZERO  # the deal's non-void contract invoices
    contract_paid: Decimal = ZERO  # of which paid by the cutoff (final) or as_of (projection)


# ---------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True)
class AccountLine:
    account_id: int
    external_id: str
    name: str
    counted: bool
    reason: str  # code: in_book, added_mid_quarter, left_book, grace_dropped, ...
    why: str  # the sentence a rep reads
    baseline_arr: Decimal | None = None
    baseline_months: tuple[str, ...] = ()
    end_arr: Decimal | None = None
    run_rate_arr: Decimal | None = None
    unpaid: Decimal = ZERO
    retained: bool | None = None
    bucket: str = ""
    contribution: Decimal = ZERO  # dollars of the amount this account brings


@dataclass(frozen=True)
class DealLine:
    external_id: str
    account_external_id: str
    kind: str
    bucket: str
    arr: Decimal
    rate: Decimal
    commission: Decimal
    paid_share: Decimal
    payable: Decimal
    closed_on: datetime.date
    why: str


@dataclass(frozen=True)
class Adjustment:
    label: str
    why: str
    contribution: Decimal


@dataclass(frozen=True)
class Result:
    plan: str
    plan_version: int
    quarter: str
    as_of: datetime.date
    final: bool
    metric: Decimal | None
    bonus_fraction: Decimal
    amount: Decimal
    payable: Decimal
    target_pay: Decimal
    accounts_counted: int
    accounts_excluded: int
    lines: Mapping[str, Decimal]  # payout line per bucket, rounded, summing to amount
    accounts: tuple[AccountLine, ...] = ()
    deals: tuple[DealLine, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    notes: tuple[str, ...] = ()
    figures: Mapping[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Shared definitions (SPEC 3)


def period_last_day(quarter: Quarter, person: PersonInput) -> datetime.date:
    """The quarter's last day, or the person's last day if they left during it."""
    if person.end_date is not None and person.end_date < quarter.end:
        return person.end_date
    return quarter.end


def book_day(quarter: Quarter, person: PersonInput, as_of: datetime.date) -> datetime.date:
    """The day the book is read: the quarter's (or leaver's) last day, or as_of if earlier."""
    return min(period_last_day(quarter, person), as_of)


def employed_days(quarter: Quarter, person: PersonInput) -> tuple[datetime.date, datetime.date]:
    first = max(quarter.start, person.start_date)
    return first, period_last_day(quarter, person)


def _days(first: datetime.date, last: datetime.date) -> int:
    return max(0, (last - first).days + 1)


def quarterly_target_pay(quarter: Quarter, person: PersonInput) -> Decimal:
    """OTE x variable share / 4, times the share of the quarter's days employed."""
    first, last = employed_days(quarter, person)
    share = Decimal(_days(first, last)) / Decimal(quarter.days)
    return person.ote * person.variable_share / 4 * share


def guarantee_share(quarter: Quarter, person: PersonInput, months: int) -> Decimal:
    """g: the share of the person's employed days of the quarter inside their first months."""
    first, last = employed_days(quarter, person)
    employed = _days(first, last)
    if employed == 0:
        return ZERO
    window_end = first_months_end(person.start_date, months)
    inside = _days(max(first, person.start_date), min(last, window_end))
    return Decimal(inside) / Decimal(employed)


def in_grace(stint: Stint, quarter: Quarter, months: int) -> bool:
    """An inherited assignment is in grace when its first months overlap the quarter."""
    if not stint.inherited:
        return False
    window_end = first_months_end(stint.start, months)
    return stint.start <= quarter.end and window_end >= quarter.start


def month_is_complete(month: datetime.date, as_of: datetime.date) -> bool:
    return add_months(month, 1) - datetime.timedelta(days=1) < as_of


def baseline_months(quarter: Quarter, entered: datetime.date) -> tuple[datetime.date, ...]:
    """The three months before the quarter's first month, or, for an account that entered
    the book after the quarter's first day, before the month its assignment began."""
    anchor = quarter.start if entered <= quarter.start else entered.replace(day=1)
    return tuple(add_months(anchor, -i) for i in (3, 2, 1))


def baseline_arr(account: AccountInput, months) -> Decimal:
    return 4 * sum((account.month(m).baseline for m in months), ZERO)


@dataclass(frozen=True)
class EndArr:
    arr: Decimal
    unpaid: Decimal
    late: Decimal
    how: str


def end_arr(account: AccountInput, quarter: Quarter, as_of: datetime.date) -> EndArr:
    """End ARR = 4 x the quarter's revenue; projected from complete months before the cutoff."""
    months = quarter.months
    if quarter.is_final(as_of):
        figures = [account.month(m) for m in months]
        total = sum((f.amount for f in figures), ZERO)
        late = sum((f.late for f in figures), ZERO)
        return EndArr(4 * total, ZERO, late, "4 x the quarter's revenue paid by the cutoff")
    complete = [m for m in months if month_is_complete(m, as_of)]
    if account.churn_now:
        figures = [account.month(m) for m in complete]
        total = sum((f.amount for f in figures), ZERO)
        unpaid = sum((f.unpaid for f in figures), ZERO)
        return EndArr(4 * total, 4 * unpaid, ZERO, "if it churned now: no revenue after as_of")
    months_read = projection_months(quarter, as_of)
    figures = [account.month(m) for m in months_read]
    total = sum((f.amount for f in figures), ZERO) * 3 / len(months_read)
    unpaid = sum((f.unpaid for f in figures), ZERO) * 3 / len(months_read)
    if months_read[0] >= quarter.start:
        n = len(months_read)
        how = ("4 x the quarter's revenue" if n == 3
               else f"projected: {n} complete month(s) x 3 / {n}, x 4")
    else:
        how = f"projected: no month of the quarter complete yet, {months_read[0]:%Y-%m} x 3, x 4"
    return EndArr(4 * total, 4 * unpaid, ZERO, how)


def projection_months(quarter: Quarter, as_of: datetime.date) -> list[datetime.date]:
    """The months a projection reads (SPEC 3): the quarter's complete months so far, or,
    when none is complete yet, the last complete month before it."""
    complete = [m for m in quarter.months if month_is_complete(m, as_of)]
    if complete:
        return complete
    before = add_months(quarter.start, -1)
    while not month_is_complete(before, as_of):
        before = add_months(before, -1)
    return [before]


def _stint_on(account: AccountInput, day: datetime.date) -> Stint | None:
    for stint in account.stints:
        if stint.covers(day):
            return stint
    return None


def _money(value: Decimal) -> str:
    return f"${to_cents(value):,.2f}"


def _split_lines(parts: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """One payout line per bucket, each rounded once; the amount is their sum (SPEC 4.4)."""
    return {bucket: to_cents(value) for bucket, value in parts.items() if to_cents(value) != 0}


def _amount(lines: Mapping[str, Decimal]) -> Decimal:
    return sum(lines.values(), ZERO).quantize(CENT)


def _guarantee(fraction: Decimal, g: Decimal) -> Decimal:
    """Fraction paid with a guarantee of 100% on a share g of the days:
    g x max(f, 1) + (1 - g) x f, written as f plus the top-up so that no rounding noise
    appears when there is no top-up."""
    if g == 0 or fraction >= ONE:
        return fraction
    return fraction + g * (ONE - fraction)


# ---------------------------------------------------------------------------------------
# 4.1 CSM revenue retention


def csm_revenue_retention(
    *,
    quarter: Quarter,
    as_of: datetime.date,
    terms: PlanTerms,
    person: PersonInput,
    accounts: tuple[AccountInput, ...],
    target: Decimal | None = None,
) -> Result:
    with localcontext() as ctx:
        ctx.prec = 34
        return _csm_revenue_retention(quarter, as_of, terms, person, accounts, target)


def _csm_revenue_retention(quarter, as_of, terms, person, accounts, target_override):
    final = quarter.is_final(as_of)
    day = book_day(quarter, person, as_of)
    target = target_override if target_override is not None else terms.target or Decimal("1.2")
    floor = terms.floor if terms.floor is not None else ONE
    tp = quarterly_target_pay(quarter, person)
    rows = []  # (account, stint, base, months, end, counted, reason, why)
    for account in sorted(accounts, key=lambda a: a.external_id):
        stint = _stint_on(account, day)
        end = end_arr(account, quarter, as_of)
        if stint is None:
            rows.append((account, None, None, (), end, False, "left_book",
                         "left the book during the quarter: not counted"))
            continue
        months = baseline_months(quarter, stint.start)
        base = baseline_arr(account, months)
        added = stint.start > quarter.start
        if in_grace(stint, quarter, terms.grace_months) and end.arr < base:
            rows.append((account, stint, base, months, end, False, "grace_dropped",
                         f"inherited on {stint.start}, in grace, and dropped: not counted"))
            continue
        if added:
            why = (f"added on {stint.start}: measured against its ARR then "
                   f"({months[0]:%Y-%m} to {months[-1]:%Y-%m})")
            rows.append((account, stint, base, months, end, True, "added_mid_quarter", why))
        else:
            rows.append((account, stint, base, months, end, True, "in_book", "in the book"))
    counted = [r for r in rows if r[5]]
    sum_base = sum((r[2] for r in counted), ZERO)
    sum_end = sum((r[4].arr for r in counted), ZERO)
    retention = sum_end / sum_base if sum_base > 0 else None
    if retention is None:
        fraction = ZERO
    else:
        fraction = max(ZERO, (retention - floor) / (target - floor))
        if terms.fraction_cap is not None:
            fraction = min(fraction, terms.fraction_cap)
    g = guarantee_share(quarter, person, terms.guarantee_months) if terms.guarantee else ZERO
    paid_fraction = _guarantee(fraction, g)

    lines = []
    for account, _stint, base, months, end, is_counted, reason, why in rows:
        contribution = ZERO
        if is_counted and sum_base > 0:
            contribution = (end.arr - floor * base) * tp / (sum_base * (target - floor))
        lines.append(AccountLine(
            account_id=account.account_id, external_id=account.external_id, name=account.name,
            counted=is_counted, reason=reason, why=why, baseline_arr=base,
            baseline_months=tuple(f"{m:%Y-%m}" for m in months), end_arr=end.arr,
            unpaid=end.unpaid, contribution=contribution,
        ))
    raw = sum((line.contribution for line in lines), ZERO)
    adjustments = []
    retention_bonus = fraction * tp
    if retention_bonus != raw:
        adjustments.append(Adjustment(
            "floor_or_cap",
            "retention below the floor pays 0" if retention_bonus > raw
            else "the plan's cap on the bonus fraction",
            retention_bonus - raw,
        ))
    guarantee_amount = (paid_fraction - fraction) * tp
    if guarantee_amount:
        adjustments.append(Adjustment(
            "guarantee",
            f"100% guaranteed for {to_ratio(g * 100):.2f}% of the quarter's days "
            f"(first {terms.guarantee_months} months from {person.start_date})",
            guarantee_amount,
        ))
    # One payout line: the guarantee's top-up is part of the bonus it guarantees (it is shown
    # among the adjustments of the explanation), so the bonus is rounded once.
    lines_out = _split_lines({"retention_bonus": retention_bonus + guarantee_amount})
    amount = _amount(lines_out)
    notes = [] if final else [
        f"Projected as of {as_of}: months not complete yet are estimated from the complete "
        "ones; open invoices count and are marked unpaid."
    ]
    if retention is None:
        notes.append("No baseline ARR among counted accounts: retention is undefined.")
    return Result(
        plan=terms.plan, plan_version=terms.version, quarter=str(quarter), as_of=as_of,
        final=final, metric=retention, bonus_fraction=paid_fraction, amount=amount,
        payable=amount, target_pay=tp, accounts_counted=len(counted),
        accounts_excluded=len(rows) - len(counted),
        lines=lines_out,
        accounts=tuple(lines), adjustments=tuple(adjustments), notes=tuple(notes),
        figures={"target": target, "floor": floor, "baseline_arr": sum_base,
                 "end_arr": sum_end, "fraction_before_guarantee": fraction,
                 "guarantee_share": g, "book_day": day},
    )


# ---------------------------------------------------------------------------------------
# 4.2 Logo retention


def last_whole_month_of(end: datetime.date) -> datetime.date:
    """The month an assignment ended in if it ended on its last day, else the month before."""
    if (end + datetime.timedelta(days=1)).day == 1:
        return end.replace(day=1)
    return add_months(end.replace(day=1), -1)


def logo_month(quarter: Quarter, as_of: datetime.date) -> datetime.date:
    """The quarter's last month, or for a projection the last complete month."""
    last = quarter.months[-1]
    if quarter.is_final(as_of):
        return last
    month = last
    while not month_is_complete(month, as_of):
        month = add_months(month, -1)
    return month


def logo_retention(
    *,
    quarter: Quarter,
    as_of: datetime.date,
    terms: PlanTerms,
    person: PersonInput,
    accounts: tuple[AccountInput, ...],
    onboarding: bool,
    target: Decimal | None = None,
) -> Result:
    with localcontext() as ctx:
        ctx.prec = 34
        return _logo_retention(quarter, as_of, terms, person, accounts, onboarding, target)


def _logo_retention(quarter, as_of, terms, person, accounts, onboarding, target_override):
    final = quarter.is_final(as_of)
    threshold = terms.retained_threshold
    target = target_override if target_override is not None else terms.target or ONE
    floor = terms.floor if terms.floor is not None else Decimal("0.9")
    tp = quarterly_target_pay(quarter, person)
    day = book_day(quarter, person, as_of)
    month_default = logo_month(quarter, as_of)
    rows = []  # (account, counted, retained, month, reason, why)
    for account in sorted(accounts, key=lambda a: a.external_id):
        if onboarding:
            ended = [s for s in account.stints
                     if s.end is not None and quarter.start <= s.end <= day]
            if not ended:
                rows.append((account, False, None, None, "not_in_cohort",
                             "onboarding did not end in the quarter: not in the cohort"))
                continue
            stint = max(ended, key=lambda s: s.end)
            month = last_whole_month_of(stint.end)
            revenue = account.month(month).amount
            retained = revenue > threshold and not (account.churn_now and not final)
            rows.append((account, True, retained, month, "cohort",
                         f"onboarding ended {stint.end}; {month:%Y-%m} revenue "
                         f"{_money(revenue)} {'>' if retained else '<='} {_money(threshold)}"))
            continue
        at_start = _stint_on(account, quarter.start)
        at_end = _stint_on(account, day)
        if at_start is None:
            rows.append((account, False, None, None, "not_at_start",
                         "not in the book on the quarter's first day: not counted"))
            continue
        if at_end is None:
            rows.append((account, False, None, None, "left_book",
                         "left the book during the quarter: not counted"))
            continue
        revenue = account.month(month_default).amount
        retained = revenue > threshold and not (account.churn_now and not final)
        test = (f"{month_default:%Y-%m} revenue {_money(revenue)} "
                f"{'>' if retained else '<='} {_money(threshold)}")
        if not retained and in_grace(at_end, quarter, terms.grace_months):
            rows.append((account, False, False, month_default, "grace_dropped",
                         f"inherited on {at_end.start}, in grace, not retained: not counted "
                         f"({test})"))
            continue
        rows.append((account, True, retained, month_default, "in_book",
                     f"in the book all quarter; {test}"))
    counted = [r for r in rows if r[1]]
    retained_count = sum(1 for r in counted if r[2])
    metric = Decimal(retained_count) / Decimal(len(counted)) if counted else None
    if metric is None:
        fraction = ZERO
    else:
        fraction = max(ZERO, (metric - floor) / (target - floor))
        cap = terms.fraction_cap if terms.fraction_cap is not None else ONE
        fraction = min(fraction, cap)
    g = guarantee_share(quarter, person, terms.guarantee_months) if terms.guarantee else ZERO
    paid_fraction = _guarantee(fraction, g)

    per_logo = tp / (len(counted) * (target - floor)) if counted else ZERO
    lines = []
    for account, is_counted, retained, month, reason, why in rows:
        lines.append(AccountLine(
            account_id=account.account_id, external_id=account.external_id, name=account.name,
            counted=is_counted, reason=reason, why=why, retained=retained,
            baseline_months=(f"{month:%Y-%m}",) if month else (),
            end_arr=None if month is None else 12 * account.month(month).amount,
            contribution=per_logo if (is_counted and retained) else ZERO,
        ))
    raw = sum((line.contribution for line in lines), ZERO)
    bonus = fraction * tp
    adjustments = []
    if counted:
        adjustments.append(Adjustment(
            "threshold", f"logo retention up to {to_ratio(floor * 100):.2f}% pays nothing",
            -floor * tp / (target - floor)))
        clamp = bonus - (raw - floor * tp / (target - floor))
        if clamp:
            adjustments.append(Adjustment(
                "floor_or_cap", "the bonus fraction is kept between 0% and 100%", clamp))
    guarantee_amount = (paid_fraction - fraction) * tp
    if guarantee_amount:
        adjustments.append(Adjustment("guarantee", "guaranteed 100% in the first months",
                                      guarantee_amount))
    lines_out = _split_lines({"retention_bonus": bonus + guarantee_amount})
    amount = _amount(lines_out)
    notes = [] if final else [f"Projected as of {as_of} from {month_default:%Y-%m}, the last "
                              "complete month; open invoices count."]
    if metric is None:
        notes.append("No account counted: logo retention is undefined.")
    return Result(
        plan=terms.plan, plan_version=terms.version, quarter=str(quarter), as_of=as_of,
        final=final, metric=metric, bonus_fraction=paid_fraction, amount=amount,
        payable=amount, target_pay=tp, accounts_counted=len(counted),
        accounts_excluded=len(rows) - len(counted),
        lines=lines_out,
        accounts=tuple(lines), adjustments=tuple(adjustments), notes=tuple(notes),
        figures={"retained": retained_count, "counted": len(counted), "target": target,
                 "floor": floor, "threshold": threshold, "guarantee_share": g,
                 "book_day": day},
    )


# ---------------------------------------------------------------------------------------
# 4.3 AE commission


def ae_commission(
    *,
    quarter: Quarter,
    as_of: datetime.date,
    terms: PlanTerms,
    person: PersonInput,
    accounts: tuple[AccountInput, ...],
    deals: tuple[DealInput, ...],
    quota: Decimal | None,
) -> Result:
    with localcontext() as ctx:
        ctx.prec = 34
        return _ae_commission(quarter, as_of, terms, person, accounts, deals, quota)


def _ae_commission(quarter, as_of, terms, person, accounts, deals, quota):
    final = quarter.is_final(as_of)
    day = book_day(quarter, person, as_of)
    tp = quarterly_target_pay(quarter, person)
    default_rate = tp / quota if quota else ZERO

    def rate(bucket):
        value = terms.rates.get(bucket) if terms.rates else None
        return Decimal(value) if value is not None else default_rate

    bucket_arr = dict.fromkeys(BUCKETS_AE, ZERO)
    deal_lines = []
    unpaid_commission = ZERO
    for deal in sorted(deals, key=lambda d: (d.closed_on, d.external_id)):
        if deal.kind == "monthly":
            deal_lines.append(DealLine(
                deal.external_id, deal.account_external_id, deal.kind, "monthly", deal.arr,
                ZERO, ZERO, ONE, ZERO, deal.closed_on,
                "a monthly deal counts through the monthly bucket (change of monthly ARR)"))
            continue
        bucket = deal.kind
        bucket_arr[bucket] += deal.arr
        commission = rate(bucket) * deal.arr
        denominator = max(deal.contract_invoiced, deal.arr)
        paid_share = min(ONE, deal.contract_paid / denominator) if denominator > 0 else ZERO
        payable = commission * paid_share
        unpaid_commission += commission - payable
        when = "the cutoff" if final else str(as_of)
        deal_lines.append(DealLine(
            deal.external_id, deal.account_external_id, deal.kind, bucket, deal.arr,
            rate(bucket), commission, paid_share, payable, deal.closed_on,
            f"closed {deal.closed_on}; {_money(deal.contract_paid)} of its contract invoices "
            f"paid by {when}: {to_ratio(paid_share * 100):.2f}% payable now"))

    account_lines = []
    churn = ZERO
    counted = 0
    for account in sorted(accounts, key=lambda a: a.external_id):
        stint = _stint_on(account, day)
        common = dict(account_id=account.account_id, external_id=account.external_id,
                      name=account.name)
        if stint is None:
            account_lines.append(AccountLine(**common, counted=False, reason="left_book",
                                             why="left the book during the quarter"))
            continue
        grace = in_grace(stint, quarter, terms.grace_months)
        if account.converted_in_quarter:
            counted += 1
            account_lines.append(AccountLine(
                **common, counted=True, reason="converted", bucket="monthly_to_annual",
                why="converted to annual this quarter: in the monthly_to_annual bucket"))
            continue
        if account.billing == "annual":
            ended = (account.contract_end is not None
                     and quarter.start <= account.contract_end <= day)
            if ended and grace:
                account_lines.append(AccountLine(
                    **common, counted=False, reason="grace_dropped",
                    why=f"contract ended {account.contract_end} without renewal, "
                        "but inherited in grace: not held against you"))
                continue
            counted += 1
            if ended:
                lost = account.annual_contract_value or ZERO
                churn += lost
                account_lines.append(AccountLine(
                    **common, counted=True, reason="churned", bucket="churn",
                    end_arr=ZERO, baseline_arr=lost,
                    why=f"annual contract ended {account.contract_end} without renewal: "
                        f"-{_money(lost)} ARR added (lowers attainment, not commission)"))
            else:
                account_lines.append(AccountLine(**common, counted=True, reason="annual",
                                                 why="annual customer in the book"))
            continue
        if account.paid_invoices_ever < 2:
            account_lines.append(AccountLine(
                **common, counted=False, reason="fewer_than_2_paid",
                why=f"{account.paid_invoices_ever} paid invoice(s) ever: commission waits "
                    "for the first two"))
            continue
        months = baseline_months(quarter, stint.start)
        base = baseline_arr(account, months)
        end = end_arr(account, quarter, as_of)
        if grace and end.arr < base:
            account_lines.append(AccountLine(
                **common, counted=False, reason="grace_dropped", baseline_arr=base,
                baseline_months=tuple(f"{m:%Y-%m}" for m in months), end_arr=end.arr,
                why=f"inherited on {stint.start}, in grace, and dropped: not counted"))
            continue
        counted += 1
        change = end.arr - base
        bucket_arr["monthly"] += change
        account_lines.append(AccountLine(
            **common, counted=True,
            reason="added_mid_quarter" if stint.start > quarter.start else "monthly",
            baseline_arr=base, baseline_months=tuple(f"{m:%Y-%m}" for m in months),
            end_arr=end.arr, unpaid=end.unpaid, bucket="monthly",
            contribution=rate("monthly") * change,
            why=f"monthly customer: change of ARR {_money(change)} ({end.how})"))

    commissions = {b: rate(b) * bucket_arr[b] for b in BUCKETS_AE}
    commission = sum(commissions.values(), ZERO)
    earned = max(ZERO, commission)
    arr_added = sum(bucket_arr.values(), ZERO) - churn
    metric = arr_added / quota if quota else None
    g = guarantee_share(quarter, person, terms.guarantee_months) if terms.guarantee else ZERO
    fraction = earned / tp if tp > 0 else ZERO
    paid_fraction = _guarantee(fraction, g)
    ramp = (paid_fraction - fraction) * tp

    adjustments = []
    if commission < 0:
        adjustments.append(Adjustment("floor_at_zero", "a negative total is paid as 0",
                                      -commission))
    if ramp:
        adjustments.append(Adjustment(
            "guarantee", f"ramp: 100% of target pay for {to_ratio(g * 100):.2f}% of the "
            f"quarter's days (first {terms.guarantee_months} months from {person.start_date})",
            ramp))
    lines_out = _split_lines(commissions)
    below_zero = sum(lines_out.values(), ZERO)
    if below_zero < 0:  # a negative total is paid as 0, to the cent
        lines_out["floor_at_zero"] = -below_zero
    if ramp:
        # The guarantee decides the amount: it is the guaranteed figure rounded once, and the
        # top-up line takes what the rounded bucket lines leave (issue: no stray cent).
        top_up = to_cents(paid_fraction * tp) - sum(lines_out.values(), ZERO)
        if top_up > 0:
            lines_out["guarantee"] = top_up
    amount = _amount(lines_out)
    # Payable now: the same figure with the commission on the unpaid share of the quarter's
    # annual deals left out (data contract); the ramp's guaranteed pay does not wait.
    held = max(ZERO, commission - unpaid_commission)
    held_fraction = _guarantee(held / tp if tp > 0 else ZERO, g)
    payable = min(amount, max(ZERO, to_cents(held_fraction * tp)))
    notes = []
    if not final:
        notes.append(f"Projected as of {as_of}: deals closed and invoices paid so far; monthly "
                     "revenue estimated from the complete months.")
    if quota is None:
        past_ramp = first_months_end(person.start_date, terms.guarantee_months) < quarter.end
        notes.append("No quota for this quarter" + (": flagged for a manager." if past_ramp
                                                    else " (in ramp)."))
    if g > 0:
        medium = [d for d in deals if d.kind in ("new_annual", "monthly_to_annual")
                  and d.arr >= terms.medium_deal_size]
        notes.append(
            "Ramp expectations (for information): retain the existing book, and close at least "
            f"one deal of {_money(terms.medium_deal_size)} ARR or more "
            f"({'met' if medium else 'not yet'}).")
    return Result(
        plan=terms.plan, plan_version=terms.version, quarter=str(quarter), as_of=as_of,
        final=final, metric=metric, bonus_fraction=paid_fraction, amount=amount,
        payable=payable, target_pay=tp, accounts_counted=counted,
        accounts_excluded=len(account_lines) - counted,
        lines=lines_out, accounts=tuple(account_lines),
        deals=tuple(deal_lines), adjustments=tuple(adjustments), notes=tuple(notes),
        figures={"quota": quota, "bucket_arr": bucket_arr, "churn": churn,
                 "arr_added": arr_added, "commission": commission,
                 "unpaid_commission": unpaid_commission, "default_rate": default_rate,
                 "guarantee_share": g, "book_day": day},
    )


# ---------------------------------------------------------------------------------------
# One entry point for every plan


@dataclass(frozen=True)
class PlanInputs:
    """Everything one person's figure for one quarter depends on."""

    quarter: Quarter
    as_of: datetime.date
    terms: PlanTerms
    person: PersonInput
    accounts: tuple[AccountInput, ...]
    deals: tuple[DealInput, ...] = ()
    quota: Decimal | None = None
    target: Decimal | None = None
    onboarding: bool = False  # logo retention over an onboarding cohort


def as_known_on(inputs: PlanInputs) -> PlanInputs:
    """The inputs cut at the person's day (SPEC 3): the quarter's last day, or the leaver's
    last day, or as_of if earlier. Facts dated after it are not theirs: deals closed after it,
    assignments begun after it (the account is left out altogether), assignments and
    contracts ended after it (still running on their day, so not an end, a churn or a
    finished onboarding)."""
    day = book_day(inputs.quarter, inputs.person, inputs.as_of)
    accounts = []
    for account in inputs.accounts:
        stints = tuple(
            s if s.end is None or s.end <= day else dataclasses.replace(s, end=None)
            for s in account.stints if s.start <= day
        )
        if not stints:
            continue
        if stints != account.stints or (account.contract_end and account.contract_end > day):
            account = dataclasses.replace(
                account, stints=stints,
                contract_end=account.contract_end
                if account.contract_end and account.contract_end <= day else None)
        accounts.append(account)
    deals = tuple(d for d in inputs.deals if d.closed_on <= day)
    if len(accounts) == len(inputs.accounts) and all(
            a is b for a, b in zip(accounts, inputs.accounts, strict=True)) \
            and len(deals) == len(inputs.deals):
        return inputs
    return dataclasses.replace(inputs, accounts=tuple(accounts), deals=deals)


def compute(inputs: PlanInputs) -> Result:
    inputs = as_known_on(inputs)
    common = dict(quarter=inputs.quarter, as_of=inputs.as_of, terms=inputs.terms,
                  person=inputs.person, accounts=inputs.accounts)
    if inputs.terms.plan == "csm_revenue_retention":
        return csm_revenue_retention(**common, target=inputs.target)
    if inputs.terms.plan == "logo_retention":
        return logo_retention(**common, onboarding=inputs.onboarding, target=inputs.target)
    if inputs.terms.plan == "ae_commission":
        return ae_commission(**common, deals=inputs.deals, quota=inputs.quota)
    raise ValueError(f"unknown plan {inputs.terms.plan!r}")
