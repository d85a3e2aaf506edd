"""What the plans return: the figure with its explanation, account by account and deal by
deal. `payouts/serialize.py` turns these into a snapshot's JSON, field by field."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.money import ZERO


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
