"""Where each role lands and what its navigation offers.

The navigation is grouped by the roles a login holds: a rep's own work (book, attainment,
accounts at risk, statements), then the pages of a manager, of finance and of RevOps. A page
appears once, in the first group that offers it. Built from the login and its person, both
cached on the user, so drawing it costs no query beyond the roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Team
from accounts.permissions import person_for_user, roles_of
from accounts.quarters import Quarter

# The roles that give a login pages of its own, in the order of precedence for landing.
DESK_ROLES = ("finance", "manager", "revops")
BOOK_ROLES = {Role.AE.value, Role.CSM.value, Role.ONBOARDING.value}


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Group:
    label: str
    links: tuple[Link, ...]


def desk_roles(user) -> list[str]:
    """The desk roles a login was given, in precedence order. A superuser holds every power
    (`roles_of`) but works at the desk of their own group; one without any group gets all."""
    held = roles_of(user)
    groups = set(user.groups.values_list("name", flat=True)) if user.is_superuser else held
    chosen = [role for role in DESK_ROLES if role in groups]
    return chosen or [role for role in DESK_ROLES if role in held]


def landing_url(user) -> str | None:
    """Where a login lands: finance on the current quarter's queue, managers and RevOps on
    the team page; None for a rep, who lands on their book (the home page itself)."""
    desks = desk_roles(user)
    if not desks:
        return None
    if desks[0] == "finance":
        return reverse("finance_queue", args=[Quarter.containing(timezone.localdate())])
    return reverse("team")


def standups_url(user) -> str:
    """The stand-up a login most likely attends: the CS one for customer success, else the
    sales one of their region (Europe when they have none)."""
    me = person_for_user(user)
    if me is not None and me.team == Team.CS:
        return reverse("standup_cs")
    region = (me.region if me is not None and me.region else "Europe").lower()
    return reverse("standup_sales", args=[region])


def navigation(user) -> list[Group]:
    me = person_for_user(user)
    desks = desk_roles(user)
    quarter = Quarter.containing(timezone.localdate())
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    if me is not None and BOOK_ROLES & set(me.roles):
        book = reverse("person_book", args=[me.id]) if desks else reverse("home")
        groups.append(("My work", [
            ("My book", book),
            ("My attainment", reverse("my_attainment")),
            ("At risk", reverse("person_at_risk", args=[me.id])),
            ("What if", reverse("person_what_if", args=[me.id])),
            ("Statements", reverse("finance_my_statements")),
        ]))
    elif not desks:
        groups.append(("My work", [
            ("My attainment", reverse("my_attainment")),
            ("Statements", reverse("finance_my_statements")),
        ]))
    team_pages = [("Team", reverse("team")), ("Stand-ups", standups_url(user))]
    for desk in desks:
        if desk == "manager":
            groups.append(("Manager", [
                *team_pages,
                ("Hand-offs", reverse("handoff_list")),
                ("Balance", reverse("balance")),
                ("Requests", reverse("feature_request_list")),
                ("Statements", reverse("finance_my_statements")),
                ("Imports", reverse("import_upload")),
                ("Recompute", reverse("recompute")),
            ]))
        elif desk == "finance":
            groups.append(("Finance", [
                ("Payouts", reverse("finance_queue", args=[quarter])),
                ("Plans", reverse("finance_plans", args=[quarter])),
                ("Statements", reverse("finance_my_statements")),
                ("Imports", reverse("import_upload")),
                ("Recompute", reverse("recompute")),
                *team_pages,
            ]))
        elif desk == "revops":
            groups.append(("RevOps", [
                *team_pages,
                ("Requests", reverse("feature_request_list")),
                ("Recompute", reverse("recompute")),
            ]))
    groups.append(("", [("Metrics", reverse("metrics")), ("Find", reverse("account_search"))]))
    return _once(groups)


def _once(groups) -> list[Group]:
    """Each page once, in the first group that offers it; groups left empty are dropped."""
    seen: set[str] = set()
    result = []
    for label, links in groups:
        kept = []
        for text, url in links:
            if url not in seen:
                seen.add(url)
                kept.append(Link(text, url))
        if kept:
            result.append(Group(label, tuple(kept)))
    return result
