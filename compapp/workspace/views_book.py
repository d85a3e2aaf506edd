"""The books of the team as pages: my book, someone's book, and the team page.

They read books (`accounts`) and pay: an inherited account's grace comes from the person's
plan, the team page shows how attainment is spread."""


from django.shortcuts import redirect, render
from django.utils import timezone

from accounts import selectors
from accounts.display.tables import configure
from accounts.filters import BookFilter
from accounts.money import ZERO_CENTS, format_money
from accounts.permissions import (
    person_for_user,
    require_role,
    roles_of,
    sees_own_book_only,
    visible_people,
)
from accounts.quarters import Quarter
from accounts.tables import BookTable, TeamTable
from accounts.views import as_of
from compapp.navigation import landing_url
from payouts.charts import distribution_chart, team_distribution
from payouts.selectors import nightly_covers, with_grace, with_grace_months

BOOK_PAGE_SIZE = 25


def home(request):
    """Where a login lands: a rep's own book; finance, managers and RevOps the page their
    work starts from (the finance queue of the quarter, the team page)."""
    landing = landing_url(request.user)
    if landing is not None:
        return redirect(landing)
    me = person_for_user(request.user)
    if me is None:
        return render(request, "home.html", {"me": None})
    return _book(request, me, own=True)


def person_book(request, person_id):
    """Someone's book, for their managers, finance and RevOps (and themselves)."""
    person = selectors.get_person_for_user(request.user, person_id)
    return _book(request, person, own=person == person_for_user(request.user))


def _book(request, person, *, own):
    on = as_of(request)
    roles = selectors.book_roles_of(person)
    book = selectors.book_for_viewer(request.user, person, on=on)
    if not roles and not book.exists():
        return render(request, "home.html", {"me": person, "own": own})
    held_roles = roles or sorted(set(book.values_list("role", flat=True)))
    segments = sorted(set(book.values_list("segment", flat=True)))
    book_filter = BookFilter(
        request.GET or None, queryset=book, segments=segments, roles=held_roles
    )
    rows = with_grace(selectors.with_figures(with_grace_months(book_filter.qs, person, on), on), on)
    team = _reassign_choices(request.user, person, own=own)
    table = BookTable(rows, show_role=len(held_roles) > 1, reassign_to=team, on=on)
    export = configure(request, table, filename=f"book-{person.id}-{on}", per_page=BOOK_PAGE_SIZE)
    if export is not None:
        return export
    size = selectors.book_sizes([person], on)[person.id]
    last_imports = selectors.last_imports()
    context = {
        "person": person,
        "own": own,
        "on": on,
        "today": timezone.localdate(),
        "current_only": on != timezone.localdate() and sees_own_book_only(request.user),
        "table": table,
        "filter": book_filter,
        "limits": [selectors.book_limit(role, size) for role in held_roles],
        "size": size,
        "is_ae": "ae" in held_roles,
        "shown_arr": format_money(sum((row.arr for row in rows), ZERO_CENTS)),
        "shown_count": len(rows),
        "at_risk_count": sum(1 for row in rows if row.risk_reasons),
        "imported": [(kind, run) for kind, run in last_imports.items() if run],
        "not_imported": [kind for kind, run in last_imports.items() if not run],
    }
    return render(request, "accounts/book.html", context)


def _reassign_choices(user, person, *, own) -> list | None:
    """Who a manager may move an account of this book to, from the book's rows: their team
    but the book's owner; None (no reassign column) for anyone else or their own book."""
    if own or "manager" not in roles_of(user):
        return None
    if not visible_people(user).filter(id=person.id).exists():
        return None
    return list(selectors.reassign_team(user).exclude(id=person.id).only("id", "name", "roles"))


def team(request):
    """Every rep of the team with their book size against the role's cap or target."""
    require_role(request.user, "manager", "finance", "revops")
    on = as_of(request)
    rows = selectors.team_rows(request.user, on)
    table = TeamTable(rows)
    export = configure(request, table, filename=f"team-{on}", per_page=100)
    if export is not None:
        return export
    quarter = Quarter.containing(on)
    bands = team_distribution({row.person_id for row in rows}, quarter)
    context = {
        "on": on,
        "quarter": quarter,
        "bands": bands,
        "distribution": distribution_chart(bands),
        "nightly_covers": nightly_covers(quarter, timezone.localdate()),
        "table": table,
        "over": [row for row in rows if row.over],
        "under": [row for row in rows if row.under],
    }
    return render(request, "accounts/team.html", context)
