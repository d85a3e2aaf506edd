"""The team's rituals (SPEC 8): the weekly stand-ups and the monthly book balance review.

Sales (Wednesday for Europe, Friday for the US): one AE of the region picked at random,
every AE once before anyone twice (a cycle), then their path to quota, their accounts at
risk (red health or negative sentiment first) and cross-adoption against the catalogue.
CS and onboarding (Wednesday): every CSM's and onboarding specialist's accounts at risk.
Book balance (monthly, managers): every book against its role's cap or target, with moves
suggested from over-full books to under-full ones of the same role.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Q, QuerySet

from accounts.models import (
    OPEN_STAGES,
    PRODUCT_CATALOGUE,
    Account,
    Assignment,
    Deal,
    Person,
    Region,
    Role,
    Sentiment,
    StandupPick,
)
from accounts.money import ZERO_CENTS, format_percent, to_cents
from accounts.permissions import roles_of, visible_people
from accounts.quarters import Quarter
from accounts.revenue import run_rate_arr
from accounts.risk import RED_HEALTH_MAX, at_risk_reasons, risk_inputs
from accounts.selectors import book_for, format_money, in_force
from accounts.services import ReassignError
from payouts import risk
from payouts.models import PersonPlan
from payouts.selectors import grace_months_of, grace_window, latest_snapshots

CS_ROLES = (Role.CSM, Role.ONBOARDING)


class StandupError(ReassignError):
    """A refused pick; `str()` is the message to show."""




def region_from_slug(slug: str) -> str | None:
    """`europe` or `Europe` -> "Europe"; `us` -> "US"; else None."""
    return next((r.value for r in Region if r.value.lower() == slug.lower()), None)


def _employed(on: datetime.date) -> Q:
    return Q(start_date__lte=on) & (Q(end_date__isnull=True) | Q(end_date__gte=on))


# --- the pick ----------------------------------------------------------------------------


def standup_pool(user, region: str, on: datetime.date) -> QuerySet[Person]:
    """The AEs of a region employed on a day, among the people this user may see."""
    return (
        visible_people(user)
        .filter(_employed(on), roles__contains=[Role.AE.value], region=region)
        .order_by("id")
    )


@dataclass(frozen=True)
class Cycle:
    number: int  # 0 before the first pick
    picked: Sequence[Person]  # in the order picked
    waiting: Sequence[Person]  # not picked yet in this cycle


def standup_cycle(user, region: str, on: datetime.date) -> Cycle:
    """Where the region's current cycle stands, for the people this user may see."""
    pool = list(standup_pool(user, region, on))
    number = StandupPick.objects.filter(region=region).aggregate(n=Max("cycle"))["n"] or 0
    order = list(
        StandupPick.objects.filter(region=region, cycle=number)
        .order_by("picked_at", "id")
        .values_list("person_id", flat=True)
    )
    by_id = {p.id: p for p in pool}
    return Cycle(
        number,
        [by_id[i] for i in order if i in by_id],
        [p for p in pool if p.id not in order],
    )


def standup_pick(
    *, region: str, by_user, on: datetime.date, rng: random.Random | None = None
) -> StandupPick:
    """Pick one AE of the region at random among those not picked in the current cycle;
    when everyone has been picked, a new cycle starts (and does not open with the person
    picked last, unless they are the only one). Managers only."""
    if "manager" not in roles_of(by_user):
        raise StandupError("Only a manager runs the stand-up pick.", "not_manager")
    if region not in Region.values:
        raise StandupError(f"{region!r} is not a region (Europe or US).", "region")
    rng = rng or random.SystemRandom()
    with transaction.atomic():
        # Locking the region's AEs makes two clicks at once pick one after the other.
        pool = list(standup_pool(by_user, region, on).select_for_update())
        if not pool:
            raise StandupError(f"There is no AE in {region} to pick.", "empty")
        picks = StandupPick.objects.filter(region=region)
        current = picks.aggregate(n=Max("cycle"))["n"] or 0
        done = set(picks.filter(cycle=current).values_list("person_id", flat=True))
        candidates = [p for p in pool if p.id not in done]
        cycle = max(current, 1)
        if not candidates:
            cycle = current + 1
            last = picks.order_by("-picked_at", "-id").values_list("person_id", flat=True)
            last_id = last.first()
            candidates = [p for p in pool if p.id != last_id] or pool
        person = rng.choice(candidates)
        return StandupPick.objects.create(
            region=region, person=person, cycle=cycle, picked_by=by_user
        )


def latest_pick(user, region: str, on: datetime.date) -> StandupPick | None:
    """The region's latest pick of someone this user may see."""
    return (
        StandupPick.objects.filter(region=region, person__in=standup_pool(user, region, on))
        .select_related("person", "picked_by")
        .order_by("-picked_at", "-id")
        .first()
    )


# --- the picked AE: path to quota, at risk, cross-adoption --------------------------------


@dataclass(frozen=True)
class PipelineDeal:
    external_id: str
    account_id: int
    account_name: str
    kind: str
    stage: str
    arr: Decimal
    probability: Decimal | None
    weighted: Decimal  # ARR x probability, to the cent (shown); the total sums unrounded
    closed_on: datetime.date | None

    @property
    def arr_display(self) -> str:
        return format_money(self.arr)

    @property
    def weighted_display(self) -> str:
        return format_money(self.weighted)

    @property
    def probability_display(self) -> str:
        return format_percent(self.probability, 1) if self.probability is not None else "not set"


@dataclass(frozen=True)
class PathToQuota:
    quarter: Quarter
    quota: Decimal | None
    snapshot_as_of: datetime.date | None
    snapshot_final: bool
    arr_added: Decimal | None  # so far, from the latest snapshot
    attainment: Decimal | None  # ARR added / quota, from the latest snapshot
    commission: Decimal | None  # the snapshot's (projected or final) amount
    deals: Sequence[PipelineDeal] = field(default_factory=tuple)
    weighted_pipeline: Decimal = ZERO_CENTS
    pipeline_arr: Decimal = ZERO_CENTS

    @property
    def with_pipeline(self) -> Decimal | None:
        """Attainment if the quarter's open deals closed at their probability."""
        if not self.quota:
            return None
        return ((self.arr_added or ZERO_CENTS) + self.weighted_pipeline) / self.quota

    @property
    def gap(self) -> Decimal | None:
        """ARR still to add to reach the quota."""
        if self.quota is None:
            return None
        return max(ZERO_CENTS, self.quota - (self.arr_added or ZERO_CENTS))

    @property
    def quota_display(self) -> str:
        return format_money(self.quota) if self.quota is not None else "no quota"

    @property
    def arr_added_display(self) -> str:
        return format_money(self.arr_added) if self.arr_added is not None else "—"

    @property
    def commission_display(self) -> str:
        return format_money(self.commission) if self.commission is not None else "—"

    @property
    def gap_display(self) -> str:
        return format_money(self.gap) if self.gap is not None else "—"

    @property
    def weighted_pipeline_display(self) -> str:
        return format_money(self.weighted_pipeline)

    @property
    def pipeline_arr_display(self) -> str:
        return format_money(self.pipeline_arr)

    @property
    def attainment_display(self) -> str:
        return format_percent(self.attainment, 1)

    @property
    def with_pipeline_display(self) -> str:
        return format_percent(self.with_pipeline, 1)


def expected_deals(person: Person, quarter: Quarter) -> list[Deal]:
    """The AE's open deals (lead, demo, proposal) expected to close in the quarter: with a
    close date in it, or none yet."""
    return list(
        Deal.objects.filter(owner=person, stage__in=OPEN_STAGES)
        .filter(
            Q(closed_on__isnull=True) | Q(closed_on__gte=quarter.start, closed_on__lte=quarter.end)
        )
        .select_related("account")
        .order_by("closed_on", "external_id")
    )


def path_to_quota(person: Person, on: datetime.date) -> PathToQuota:
    """The AE's quarter: quota, what the latest snapshot says so far and the weighted
    value of the deals expected to close in it."""
    quarter = Quarter.containing(on)
    plan = PersonPlan.objects.filter(person=person, quarter=str(quarter)).first()
    snapshot = latest_snapshots(quarter, people=[person]).first()
    figures = (snapshot.explanation or {}).get("figures", {}) if snapshot else {}
    arr_added = figures.get("arr_added")
    deals = []
    weighted_total = ZERO_CENTS
    arr_total = ZERO_CENTS
    for deal in expected_deals(person, quarter):
        weighted = deal.arr * (deal.probability or 0)
        weighted_total += weighted
        arr_total += deal.arr
        deals.append(
            PipelineDeal(
                external_id=deal.external_id,
                account_id=deal.account_id,
                account_name=deal.account.name,
                kind=deal.get_kind_display(),
                stage=deal.get_stage_display(),
                arr=deal.arr,
                probability=deal.probability,
                weighted=to_cents(weighted),
                closed_on=deal.closed_on,
            )
        )
    return PathToQuota(
        quarter=quarter,
        quota=plan.quota if plan else None,
        snapshot_as_of=snapshot.as_of if snapshot else None,
        snapshot_final=bool(snapshot and snapshot.final),
        arr_added=Decimal(arr_added) if arr_added is not None else None,
        attainment=snapshot.metric if snapshot else None,
        commission=snapshot.amount if snapshot else None,
        deals=tuple(deals),
        weighted_pipeline=to_cents(weighted_total),
        pipeline_arr=arr_total,
    )


@dataclass(frozen=True)
class RiskLine:
    account_id: int
    name: str
    external_id: str
    reasons: Sequence[str]
    red_or_negative: bool
    arr: Decimal
    impact: Decimal | None  # what the projected commission or bonus would lose

    @property
    def arr_display(self) -> str:
        return format_money(self.arr)

    @property
    def impact_display(self) -> str:
        return format_money(self.impact)


def _red_or_negative(account: Account) -> bool:
    return (
        account.health_score is not None and account.health_score <= RED_HEALTH_MAX
    ) or account.sentiment == Sentiment.NEGATIVE


def ae_at_risk(person: Person, on: datetime.date) -> list[RiskLine]:
    """The AE's accounts at risk, red health or negative sentiment first, then by what
    their churn would cost the AE's projected commission (payouts.risk)."""
    ranked = risk.at_risk(person, Quarter.containing(on), on)
    if not ranked:
        return []
    accounts = Account.objects.in_bulk([r.account_id for r in ranked])
    arr = run_rate_arr(list(accounts), on)
    lines = [
        RiskLine(
            account_id=r.account_id,
            name=r.name,
            external_id=r.external_id,
            reasons=r.reasons,
            red_or_negative=_red_or_negative(accounts[r.account_id]),
            arr=arr.get(r.account_id, ZERO_CENTS),
            impact=r.impact,
        )
        for r in ranked
    ]
    lines.sort(key=lambda line: not line.red_or_negative)  # stable: impact order kept
    return lines


@dataclass(frozen=True)
class AdoptionLine:
    account_id: int
    name: str
    used: Sequence[str]  # catalogue products in use, catalogue order
    missing: Sequence[str]
    other: Sequence[str]  # products in use that the catalogue does not list

    @property
    def count(self) -> int:
        return len(self.used)


@dataclass(frozen=True)
class Adoption:
    lines: Sequence[AdoptionLine]
    by_product: Sequence[tuple[str, int]]  # (product, accounts using it)
    catalogue_size: int = len(PRODUCT_CATALOGUE)

    @property
    def share_display(self) -> str:
        return format_percent(self.share, 1)

    @property
    def share(self) -> Decimal | None:
        """Products used over products available, across the accounts."""
        if not self.lines:
            return None
        used = sum(line.count for line in self.lines)
        return Decimal(used) / Decimal(len(self.lines) * self.catalogue_size)


def cross_adoption(accounts: Sequence[Account]) -> Adoption:
    """Products used per account against the full catalogue (SPEC 8)."""
    lines = []
    counts = dict.fromkeys(PRODUCT_CATALOGUE, 0)
    for account in accounts:
        in_use = {p.strip().lower() for p in account.products}
        used = [p for p in PRODUCT_CATALOGUE if p in in_use]
        for p in used:
            counts[p] += 1
        lines.append(
            AdoptionLine(
                account_id=account.id,
                name=account.name,
                used=used,
                missing=[p for p in PRODUCT_CATALOGUE if p not in in_use],
                other=sorted(in_use - set(PRODUCT_CATALOGUE)),
            )
        )
    lines.sort(key=lambda line: (line.count, line.name))
    return Adoption(lines, list(counts.items()))


def ae_book(person: Person, on: datetime.date) -> list[Account]:
    return list(book_for(person, on=on, role=Role.AE))


# --- CS and onboarding -------------------------------------------------------------------


@dataclass(frozen=True)
class CsAccount:
    account_id: int
    name: str
    external_id: str
    reasons: Sequence[str]
    arr: Decimal
    in_grace_until: datetime.date | None  # inherited and in its grace window on the day

    @property
    def arr_display(self) -> str:
        return format_money(self.arr)


@dataclass(frozen=True)
class CsPerson:
    person_id: int
    name: str
    role: str
    role_label: str
    book_size: int
    at_risk: Sequence[CsAccount]


def cs_standup(user, on: datetime.date) -> list[CsPerson]:
    """Every CSM's and onboarding specialist's accounts at risk on a day (the people this
    user may see), in a fixed number of queries whatever the number of people and
    accounts."""
    people = list(
        visible_people(user)
        .filter(_employed(on), roles__overlap=[r.value for r in CS_ROLES])
        .order_by("name", "id")
    )
    holdings = list(
        Assignment.objects.filter(
            in_force(on), owner__in=people, role__in=[r.value for r in CS_ROLES]
        ).values_list("owner_id", "role", "account_id", "start_date", "inherited")
    )
    accounts = Account.objects.in_bulk({h[2] for h in holdings})
    since: dict[int, datetime.date] = {}
    for _owner, _role, account_id, start, _inherited in holdings:
        since[account_id] = max(since.get(account_id, start), start)
    inputs = risk_inputs(accounts.values(), on, since=since)
    reasons = {i: at_risk_reasons(a, on, inputs) for i, a in accounts.items()}
    flagged = [i for i, r in reasons.items() if r]
    arr = run_rate_arr(flagged, on)
    grace = grace_months_of([p.id for p in people], on)
    by_key: dict[tuple[int, str], list] = {}
    for owner_id, role, account_id, start, inherited in holdings:
        by_key.setdefault((owner_id, role), []).append((account_id, start, inherited))
    result = []
    for person in people:
        for role in CS_ROLES:
            if role not in person.roles:
                continue
            held = by_key.get((person.id, role.value), [])
            lines = []
            for account_id, start, inherited in held:
                if not reasons[account_id]:
                    continue
                account = accounts[account_id]
                lines.append(
                    CsAccount(
                        account_id=account_id,
                        name=account.name,
                        external_id=account.external_id,
                        reasons=reasons[account_id],
                        arr=arr.get(account_id, ZERO_CENTS),
                        in_grace_until=grace_window(start, inherited, grace.get(person.id), on),
                    )
                )
            lines.sort(key=lambda line: (-line.arr, line.name))
            result.append(
                CsPerson(person.id, person.name, role.value, role.label, len(held), lines)
            )
    return result
