"""Reads about books and accounts: who holds what on a day, how big each book is, the
history of an account's owners, who may see what, and the rows of the book pages (SPEC 1,
3, 8). Why an account is at risk is `accounts.risk`; its revenue by month `accounts.revenue`.

Every function that pages call for many people or accounts works in a fixed number of
queries; revenue and ARR always come from `accounts.revenue`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, FilteredRelation, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from accounts.arr import run_rate_months
from accounts.models import (
    BOOK_ROLES,
    OPEN_LEAD_STATUSES,
    Account,
    Assignment,
    AssignmentRole,
    ImportKind,
    ImportRun,
    Lead,
    Person,
    Role,
)
from accounts.money import (
    ZERO_CENTS,
    format_money,  # noqa: F401 - re-exported for pages
)
from accounts.permissions import (
    person_for_user,
    sees_everyone,
    sees_own_book_only,
    visible_people,
)
from accounts.quarters import add_months
from accounts.revenue import (
    run_rate_arr,
    run_rate_from,
)
from accounts.risk import at_risk_reasons, risk_inputs


def in_force(on: datetime.date, prefix: str = "") -> Q:
    """Assignments in force on a day: started on or before it, not ended before it."""
    return Q(**{f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on})
    )


def _open_leads(on: datetime.date | None = None) -> Q:
    condition = Q(status_lower__in=OPEN_LEAD_STATUSES)
    if on is not None:
        condition &= Q(created_on__lte=on)
    return condition


def book_roles_of(person: Person) -> list[str]:
    """The book roles a person holds, in the order AE, CSM, onboarding."""
    return [role.value for role in BOOK_ROLES if role in person.roles]


# --- books -------------------------------------------------------------------------------


def book_for(person: Person, *, on: datetime.date, role: str | None = None) -> QuerySet[Account]:
    """The accounts a person holds on a day (in one book role, or in any), annotated with
    `role`, `owner_since` (the assignment's start), `owner_until` (its end or None),
    `inherited` and `assignment_id`. An account held in two roles appears twice."""
    roles = [role] if role else [r.value for r in BOOK_ROLES]
    held = FilteredRelation(
        "assignments",
        condition=Q(assignments__owner=person, assignments__role__in=roles)
        & in_force(on, "assignments__"),
    )
    return (
        Account.objects.annotate(held=held)
        .filter(held__isnull=False)
        .annotate(
            role=F("held__role"),
            owner_since=F("held__start_date"),
            owner_until=F("held__end_date"),
            inherited=F("held__inherited"),
            assignment_id=F("held__id"),
        )
        .order_by("name", "role")
    )


def open_leads_count(person: Person, *, on: datetime.date | None = None) -> int:
    """Open inbound leads of an AE (created on or before `on` when given)."""
    return (
        Lead.objects.annotate(status_lower=Lower("status"))
        .filter(_open_leads(on), owner=person)
        .count()
    )


@dataclass(frozen=True)
class BookSize:
    """How big one person's books are on a day."""

    ae_accounts: int = 0
    csm_accounts: int = 0
    onboarding_accounts: int = 0  # onboarding assignments in force on the day
    onboarding_recent: int = 0  # onboarding assignments started in the last 3 months
    open_leads: int = 0

    def size(self, role: str) -> int:
        """The figure a role's book is measured by (SPEC 8)."""
        if role == Role.AE:
            return self.ae_accounts + self.open_leads
        if role == Role.CSM:
            return self.csm_accounts
        if role == Role.ONBOARDING:
            return self.onboarding_recent
        raise ValueError(f"{role!r} is not a book role")


def book_sizes(
    people: Iterable[Person] | QuerySet[Person], on: datetime.date
) -> dict[int, BookSize]:
    """BookSize by person id, for many people in two queries. People without any
    assignment or lead get an empty BookSize."""
    if isinstance(people, QuerySet):
        ids = list(people.values_list("id", flat=True))
    else:
        ids = [p.id for p in people]
    current = in_force(on)
    recent_from = add_months(on, -3) + datetime.timedelta(days=1)
    rows = (
        Assignment.objects.filter(owner_id__in=ids)
        .filter(current | Q(role=Role.ONBOARDING, start_date__gte=recent_from, start_date__lte=on))
        .values("owner_id")
        .annotate(
            ae=Count("id", filter=current & Q(role=Role.AE)),
            csm=Count("id", filter=current & Q(role=Role.CSM)),
            onboarding=Count("id", filter=current & Q(role=Role.ONBOARDING)),
            onboarding_recent=Count(
                "id",
                filter=Q(role=Role.ONBOARDING, start_date__gte=recent_from, start_date__lte=on),
            ),
        )
    )
    by_owner = {row["owner_id"]: row for row in rows}
    leads = dict(
        Lead.objects.annotate(status_lower=Lower("status"))
        .filter(_open_leads(on), owner_id__in=ids)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    sizes = {}
    for person_id in ids:
        row = by_owner.get(person_id, {})
        sizes[person_id] = BookSize(
            ae_accounts=row.get("ae", 0),
            csm_accounts=row.get("csm", 0),
            onboarding_accounts=row.get("onboarding", 0),
            onboarding_recent=row.get("onboarding_recent", 0),
            open_leads=leads.get(person_id, 0),
        )
    return sizes


@dataclass(frozen=True)
class BookLimit:
    """A role's book size against its cap or target, and what to say about it."""

    role: str
    size: int
    limit: int  # the AE cap, or the CSM / onboarding target
    kind: str  # "cap" or "target"
    upper: int | None = None  # top of the usual range for targets (CSM: 50)
    lower: int | None = None  # bottom of the usual range for the AE cap (about 10)

    @property
    def over(self) -> bool:
        if self.kind == "cap":
            return self.size > self.limit
        return self.upper is not None and self.size > self.upper

    @property
    def at_cap(self) -> bool:
        return self.kind == "cap" and self.size == self.limit

    @property
    def under(self) -> bool:
        floor = self.lower if self.kind == "cap" else self.limit
        return floor is not None and self.size < floor

    @property
    def status(self) -> str:
        if self.over:
            if self.kind == "cap":
                return f"over the cap of {self.limit} by {self.size - self.limit}"
            return f"above the usual {self.limit} to {self.upper}"
        if self.at_cap:
            return "at the cap"
        if self.under:
            if self.kind == "cap":
                return f"{self.lower - self.size} below the usual {self.lower}"
            return f"{self.limit - self.size} below the target of {self.limit}"
        return "within range"

    @property
    def css(self) -> str:
        if self.over:
            return "bad" if self.kind == "cap" else "warn"
        if self.at_cap:
            return "warn"
        return "muted" if self.under else "good"


def book_limit(role: str, size: BookSize) -> BookLimit:
    """AE: accounts + open leads against the hard cap (about 10 accounts expected); CSM:
    accounts against the target (usual range up to 50); onboarding: assignments started in
    the last 3 months against the target (SPEC 1 and 8)."""
    if role == Role.AE:
        return BookLimit(
            role,
            size.size(role),
            settings.AE_BOOK_CAP,
            "cap",
            lower=getattr(settings, "AE_BOOK_TARGET", 10),
        )
    if role == Role.CSM:
        return BookLimit(
            role,
            size.size(role),
            settings.CSM_BOOK_TARGET,
            "target",
            upper=getattr(settings, "CSM_BOOK_MAX", 50),
        )
    return BookLimit(role, size.size(role), settings.ONBOARDING_BOOK_TARGET, "target")


def book_account_ids(people_ids: Iterable[int], on: datetime.date) -> list[tuple[int, str, int]]:
    """(owner id, role, account id) of every book assignment in force on a day, in one
    query."""
    return list(
        Assignment.objects.filter(in_force(on), owner_id__in=list(people_ids))
        .filter(role__in=[r.value for r in BOOK_ROLES])
        .values_list("owner_id", "role", "account_id")
    )


def book_people(user) -> QuerySet[Person]:
    """The people with a book role this user may see (the team page's rows)."""
    book_roles = [r.value for r in BOOK_ROLES]
    return visible_people(user).filter(roles__overlap=book_roles).order_by("name")


def account_owners(account: Account) -> QuerySet[Assignment]:
    """Every assignment of an account, all roles, oldest first."""
    return (
        Assignment.objects.filter(account=account)
        .select_related("owner", "created_by")
        .order_by("start_date", "role", "id")
    )


def current_owners(account: Account, on: datetime.date) -> list[Assignment]:
    return [a for a in account_owners(account) if a.start_date <= on and (a.end_date or on) >= on]


def assignment_in_force(account: Account, role: str, on: datetime.date) -> Assignment | None:
    return (
        Assignment.objects.filter(in_force(on), account=account, role=role)
        .select_related("owner")
        .first()
    )


def last_imports() -> dict[str, ImportRun | None]:
    """The latest import of each kind (None when never imported), in one query."""
    latest = {
        run.kind: run for run in ImportRun.objects.order_by("kind", "-imported_at").distinct("kind")
    }
    return {kind.value: latest.get(kind.value) for kind in ImportKind}


# --- access ------------------------------------------------------------------------------


def visible_accounts(user, *, today: datetime.date | None = None) -> QuerySet[Account]:
    """Accounts this user may open: every account for finance and RevOps; for a manager,
    those that are or were in the book of someone on their team; for a rep, only those in
    their own book today (an assignment in force on `today`, default today UTC). What a rep
    held earlier they see only through their own attainment, statements and payouts."""
    if sees_everyone(user):
        return Account.objects.all()
    people = visible_people(user)
    if not sees_own_book_only(user):
        return Account.objects.filter(
            id__in=Assignment.objects.filter(owner__in=people).values("account_id")
        )
    on = today or timezone.localdate()
    return Account.objects.filter(
        id__in=Assignment.objects.filter(in_force(on), owner__in=people).values("account_id")
    )


def get_account_for_user(user, account_id: int) -> Account:
    """The account, if this user may see it; else 404 (outsiders learn nothing)."""
    account = visible_accounts(user).filter(id=account_id).first()
    if account is None:
        raise Http404("No such account")
    return account


SEARCH_LIMIT = 50


def search_accounts(user, text: str) -> list[Account]:
    """Accounts this user may open whose name or external id contains `text` (any case),
    exact external ids first, then by name; at most SEARCH_LIMIT."""
    text = text.strip()
    if not text:
        return []
    found = visible_accounts(user).filter(
        Q(name__icontains=text) | Q(external_id__icontains=text)
    ).annotate(exact=Q(external_id__iexact=text))
    return list(found.order_by("-exact", Lower("name"), "id")[:SEARCH_LIMIT])


class AllAccounts:
    """Every account id (what finance and RevOps may open), without reading them."""

    def __contains__(self, account_id) -> bool:
        return True


def openable_account_ids(user, account_ids: Iterable[int]) -> set[int] | AllAccounts:
    """Which of these accounts this user may open (their pages link only to those): one
    query, none for finance and RevOps, who open every account."""
    if sees_everyone(user):
        return AllAccounts()
    ids = set(account_ids)
    if not ids:
        return set()
    return set(visible_accounts(user).filter(id__in=ids).values_list("id", flat=True))


def book_for_viewer(user, person: Person, *, on: datetime.date) -> QuerySet[Account]:
    """`book_for(person, on=on)` as this user may see it: a rep looking at their book on
    another day is shown only the accounts still in their book today."""
    book = book_for(person, on=on)
    if sees_own_book_only(user):
        book = book.filter(id__in=visible_accounts(user).values("id"))
    return book


def get_person_for_user(user, person_id: int) -> Person:
    """The person, if this user may see their book and figures; else 404."""
    person = visible_people(user).filter(id=person_id).first()
    if person is None:
        raise Http404("No such person")
    return person


# --- page rows ---------------------------------------------------------------------------


def with_figures(book: Iterable[Account], on: datetime.date) -> list[Account]:
    """Book rows (from `book_for`) with `arr` (run rate), `risk_reasons` and `risk_count`
    attached, in a fixed number of queries (the plan's grace: `payouts.selectors.with_grace`)."""
    rows = list(book)
    ids = list({row.id for row in rows})
    since = {}
    for row in rows:  # an account held in two roles: it entered this book at the later start
        since[row.id] = max(since.get(row.id, row.owner_since), row.owner_since)
    inputs = risk_inputs(rows, on, since=since, also_months=run_rate_months(on))
    arr = run_rate_from(inputs.revenue, ids, on)
    for row in rows:
        row.arr = arr.get(row.id, ZERO_CENTS)
        row.risk_reasons = at_risk_reasons(row, on, inputs)
        row.risk_count = len(row.risk_reasons)
    return rows


@dataclass(frozen=True)
class TeamRow:
    person_id: int
    name: str
    role: str  # ae, csm or onboarding
    role_label: str
    accounts: int
    open_leads: int
    size: int
    limit: int
    limit_kind: str
    limit_status: str
    css: str
    over: bool
    under: bool
    arr: Decimal


def team_rows(user, on: datetime.date) -> list[TeamRow]:
    """One row per person and book role of the people this user may see: book size
    against the role's cap or target, and the book's ARR. A fixed number of queries
    whatever the team's size."""
    people = list(book_people(user))
    ids = [p.id for p in people]
    sizes = book_sizes(people, on)
    holdings = book_account_ids(ids, on)
    arr = run_rate_arr({account_id for _owner, _role, account_id in holdings}, on)
    book_arr: dict[tuple[int, str], Decimal] = {}
    accounts: dict[tuple[int, str], int] = {}
    for owner_id, role, account_id in holdings:
        key = (owner_id, role)
        book_arr[key] = book_arr.get(key, ZERO_CENTS) + arr.get(account_id, ZERO_CENTS)
        accounts[key] = accounts.get(key, 0) + 1
    rows = []
    for person in people:
        size = sizes[person.id]
        for role in book_roles_of(person):
            limit = book_limit(role, size)
            rows.append(
                TeamRow(
                    person_id=person.id,
                    name=person.name,
                    role=role,
                    role_label=AssignmentRole(role).label,
                    accounts=accounts.get((person.id, role), 0),
                    open_leads=size.open_leads,
                    size=limit.size,
                    limit=limit.limit,
                    limit_kind=limit.kind,
                    limit_status=limit.status,
                    css=limit.css,
                    over=limit.over,
                    under=limit.under,
                    arr=book_arr.get((person.id, role), ZERO_CENTS),
                )
            )
    return rows


def reassign_team(user, on: datetime.date | None = None) -> QuerySet[Person]:
    """Who a manager may give accounts to: their team's people with a book role who have not
    left by `on` (default today), not themselves (nobody assigns themselves)."""
    on = on or datetime.date.today()
    team = book_people(user).filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
    me = person_for_user(user)
    return team.exclude(id=me.id) if me is not None else team


def has_owner(account: Account, role: str, on: datetime.date) -> bool:
    """Whether a move in this role is a reassignment (an owner on that day, or an open
    assignment) rather than a first assignment."""
    return (
        Assignment.objects.filter(account=account, role=role)
        .filter(Q(end_date__isnull=True) | in_force(on))
        .exists()
    )
