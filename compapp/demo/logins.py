"""The demo's logins: one per person, all with the demo password; finance is an admin."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User

from compapp.demo.people import GROUP_OF_ROLE

DEMO_PASSWORD = "demo-pass-2025"

ROLE_ORDER = ("manager", "finance", "revops", "ae", "csm", "onboarding")


def demo_logins(data) -> list[dict]:
    """The demo's logins, in the order they are printed (the same on any --today)."""
    logins = [
        dict(
            role=p["role"],
            name=p["name"],
            email=p["email"],
            password=DEMO_PASSWORD,
            admin=p["role"] == "finance",
        )
        for p in data.people
        if p["end_date"] is None
    ]
    logins.sort(key=lambda row: (ROLE_ORDER.index(row["role"]), row["name"]))
    return logins


def seed_logins(people) -> int:
    groups = {
        name: Group.objects.get_or_create(name=name)[0] for name in set(GROUP_OF_ROLE.values())
    }
    existing = {
        u.username: u for u in User.objects.filter(username__in=[p["email"] for p in people])
    }
    # Everyone shares the demo password; hashing it once keeps the command fast (a hash
    # takes about half a second by design).
    password = None
    count = 0
    for row in people:
        user = existing.get(row["email"])
        if user is None:
            password = password or make_password(DEMO_PASSWORD)
            admin = row["role"] == "finance"
            user = User.objects.create(
                username=row["email"], email=row["email"], first_name=row["first_name"],
                last_name=row["last_name"], password=password, is_staff=admin, is_superuser=admin,
                is_active=row["end_date"] is None,
            )  # fmt: skip
            count += 1
        user.groups.add(groups[row["group"]])
    return count
