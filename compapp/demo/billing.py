"""What customers paid: monthly revenue over the history, the invoices of monthly
customers and of contracts, usage of annual customers, and a few overages and refunds."""

from __future__ import annotations

import datetime
from decimal import Decimal

from accounts.quarters import add_months, month_end, month_start
from compapp.demo.books import current_owner
from compapp.demo.draft import HISTORY_MONTHS, ONE_DAY, CompanyDraft, cents, dec

# Monthly growth of an owner's accounts over the last nine months: some books grow fast,
# some stand still, so the figures differ from person to person.
MOMENTUM = {
    "anouk": "0.045", "bastian": "0.02", "chiamaka": "0.06", "henrik": "0.015",
    "lucia": "0.0", "yusuf": "0.03", "fenna": "0.0",
    "ilse": "0.03", "matteo": "0.015", "saoirse": "0.04", "dwayne": "0.0",
    "keiko": "0.025", "rafael": "0.02",
}  # fmt: skip

DEFAULT_MOMENTUM = "0.02"

MONTHLY_INVOICE_CAP = Decimal("15000")

ANNUAL_USAGE_CAP = Decimal("25000")


def build_revenue(draft: CompanyDraft, account):
    rng = draft.rng
    momentum = Decimal(MOMENTUM.get(current_owner(draft, account), DEFAULT_MOMENTUM))
    early = dec(rng.uniform(-0.005, 0.03))
    recent = momentum + dec(rng.uniform(-0.015, 0.015))
    if account.trajectory == "flat":
        early, recent = dec(rng.uniform(-0.005, 0.005)), dec(rng.uniform(-0.01, 0.01))
    pivot = draft.months[rng.randint(15, 22)]
    falling = dec(rng.uniform(-0.09, -0.03))
    floor = draft.money(40, 450)
    first = month_start(account.start)
    level = account.level
    for index, month in enumerate(draft.months):
        if month < first:
            continue
        noise = dec(rng.uniform(0.94, 1.06))
        if account.churn_month is not None and month >= account.churn_month:
            break
        for addon in account.addons:
            if month_start(addon.on) == month:
                level += addon.arr / 12 * Decimal("0.8")
        value = level * noise
        if account.trajectory == "collapse" and month >= pivot:
            value = floor * noise
        if month == first and account.start.day > 1:
            days = month_end(month).day
            value = value * (days - account.start.day + 1) / days
        cap = ANNUAL_USAGE_CAP if account.annual_on(month_end(month)) else MONTHLY_INVOICE_CAP
        if value > cap:  # big customers level off just under the cap
            value = cap * noise / Decimal("1.06")
        account.revenue[month] = cents(value)
        growth = recent if index >= HISTORY_MONTHS - 9 else early
        if account.trajectory == "drop" and month >= pivot:
            growth = falling
        level = level * (1 + growth)


def invoice(
    draft: CompanyDraft,
    account,
    suffix,
    issued,
    period_start,
    period_end,
    amount,
    kind,
    *,
    paid_after=None,
    deal="",
    status=None,
):
    rng = draft.rng
    if paid_after is None:
        late = rng.random() < 0.03
        paid_after = rng.randint(35, 75) if late else rng.randint(1, 8)
    paid_on = issued + datetime.timedelta(days=paid_after)
    if status is None:
        status = "paid" if paid_on <= draft.today else "open"
    row = dict(
        external_id=f"INV-{account.external_id}-{suffix}", account=account, issued_on=issued,
        period_start=period_start, period_end=period_end, amount=cents(amount), kind=kind,
        status=status, paid_on=paid_on if status == "paid" else None, deal_external_id=deal,
    )  # fmt: skip
    draft.invoices.append(row)
    return row



def usage_invoice(draft, account, month, suffix, issued, amount, *, status=None) -> None:
    """The usage invoice of one month (`invoice` with the month's period)."""
    invoice(draft, account, suffix, issued, month, month_end(month), amount, "usage",
            status=status)


def build_billing(draft: CompanyDraft, account):
    rng = draft.rng
    last = draft.months[-1]
    for month, amount in account.revenue.items():
        if account.annual_on(month_end(month)):
            draft.usage.append(dict(account=account, month=month, amount=amount))
            continue
        if amount <= 0:
            continue
        issued = add_months(month, 1)
        status = "open" if month == last and rng.random() < 0.35 else None
        if month < last and rng.random() < 0.01:
            # Billed wrongly: voided and issued again a few days later.
            usage_invoice(draft, account, month, f"{month:%Y%m}", issued, amount, status="void")
            amount = amount * dec(rng.uniform(0.9, 1.0))
            usage_invoice(draft, account, month, f"{month:%Y%m}-2",
                          issued + datetime.timedelta(days=5), amount)
            continue
        usage_invoice(draft, account, month, f"{month:%Y%m}", issued, amount, status=status)
    for number, contract in enumerate(account.contracts, start=1):
        contract_invoices(
            draft,
            account,
            f"C{number}",
            contract.start,
            contract.end,
            contract.acv,
            account.schedule,
            contract.deal,
        )
    for number, addon in enumerate(account.addons, start=1):
        end = add_months(addon.on, 12) - ONE_DAY
        contract_invoices(
            draft, account, f"X{number}", addon.on, end, addon.arr, addon.schedule, addon.deal
        )


def contract_invoices(draft: CompanyDraft, account, tag, start, end, amount, schedule, deal):
    parts = 4 if schedule == "quarterly" else 1
    share = cents(amount / parts)
    for part in range(parts):
        issued = add_months(start, 3 * part)
        if issued > draft.today:
            break
        period_end = end if part == parts - 1 else add_months(start, 3 * (part + 1)) - ONE_DAY
        value = amount - share * (parts - 1) if part == parts - 1 else share
        late = draft.rng.random() < 0.06
        paid_after = draft.rng.randint(40, 80) if late else draft.rng.randint(3, 25)
        suffix = f"{tag}-{part + 1}" if parts > 1 else tag
        invoice(
            draft,
            account,
            suffix,
            issued,
            issued,
            period_end,
            value,
            "contract",
            paid_after=paid_after,
            deal=deal,
        )


def build_overages_and_refunds(draft: CompanyDraft):
    rng = draft.rng
    ended = [
        (a, c)
        for a in draft.accounts
        for c in a.contracts
        if draft.months[0] <= c.end < draft.today - datetime.timedelta(days=10)
    ]
    for account, contract in rng.sample(ended, min(6, len(ended))):
        issued = contract.end + datetime.timedelta(days=rng.randint(2, 10))
        amount = contract.acv * dec(rng.uniform(0.05, 0.15))
        invoice(
            draft,
            account,
            f"O{contract.end:%Y%m}",
            issued,
            contract.start,
            contract.end,
            amount,
            "overage",
            paid_after=rng.randint(5, 20),
        )
    recent = add_months(draft.months[-1], -12)
    refundable = [
        i
        for i in draft.invoices
        if i["kind"] == "usage"
        and i["status"] == "paid"
        and i["period_start"] >= recent
        and i["amount"] > 300
    ]
    for original in rng.sample(refundable, min(8, len(refundable))):
        issued = min(draft.today, original["paid_on"] + datetime.timedelta(days=rng.randint(5, 30)))
        amount = -original["amount"] * dec(rng.uniform(0.1, 0.5))
        invoice(
            draft,
            original["account"],
            f"R{original['period_start']:%Y%m}",
            issued,
            original["period_start"],
            original["period_end"],
            amount,
            "refund",
            paid_after=0,
        )
