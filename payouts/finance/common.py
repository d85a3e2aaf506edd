"""What the finance modules share: who is finance, how money reads, the buckets that carry
money forward."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    DecimalField,
)

from accounts.money import format_money
from accounts.permissions import roles_of
from accounts.quarters import Quarter
from payouts.services import PayoutError

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
# Lines a later quarter's close adds for money of an earlier quarter paid after its cutoff;
# their source starts with the quarter the money comes from ("2025Q2: paid after ...").
CARRIED_BUCKETS = ("carried_forward", "late_payment")


def _is_finance(user) -> bool:
    return user is not None and "finance" in roles_of(user)


def _require_finance(user, what: str) -> None:
    if not _is_finance(user):
        raise PayoutError(f"Only finance can {what}.")


def money(value: Decimal | None) -> str:
    """$1,234.50 (and -$1,234.50), for pages and statements: the product's one formatter."""
    return format_money(value)


def displayed(items, *attrs: str):
    """The items, each money attribute also as `<attr>_display` ($1,234.50) for templates."""
    items = list(items)
    for item in items:
        for attr in attrs or ("amount",):
            setattr(item, f"{attr}_display", money(getattr(item, attr)))
    return items


def attainment_url(person_id: int, quarter: Quarter | str) -> str:
    """The page that explains every figure of a person's quarter."""
    return f"/people/{person_id}/attainment/?quarter={quarter}"


